import type { VcpuEvents } from "@memtopo/kvm";
import { expectLength, object, u64, uint, view } from "./codec.js";
import type { VcpuEventsField, VcpuStateLayout } from "./layout.js";

type Part = "exception" | "interrupt" | "nmi" | "smi" | "tripleFault";
/** Each u8 field: its layout name, the part of VcpuEvents it is in, and its name there. */
const BYTES: readonly [VcpuEventsField, Part, string][] = [
  ["exceptionInjected", "exception", "injected"],
  ["exceptionNr", "exception", "nr"],
  ["exceptionHasErrorCode", "exception", "hasErrorCode"],
  ["exceptionPending", "exception", "pending"],
  ["exceptionHasPayload", "exception", "hasPayload"],
  ["interruptInjected", "interrupt", "injected"],
  ["interruptNr", "interrupt", "nr"],
  ["interruptSoft", "interrupt", "soft"],
  ["interruptShadow", "interrupt", "shadow"],
  ["nmiInjected", "nmi", "injected"],
  ["nmiPending", "nmi", "pending"],
  ["nmiMasked", "nmi", "masked"],
  ["smiSmm", "smi", "smm"],
  ["smiPending", "smi", "pending"],
  ["smiSmmInsideNmi", "smi", "smmInsideNmi"],
  ["smiLatchedInit", "smi", "latchedInit"],
  ["tripleFaultPending", "tripleFault", "pending"],
];

/** `struct kvm_vcpu_events` (KVM_GET_VCPU_EVENTS). */
export function decodeVcpuEvents(layout: VcpuStateLayout, bytes: Uint8Array): VcpuEvents {
  const e = layout.vcpuEvents;
  expectLength("KVM_GET_VCPU_EVENTS", bytes, e.size);
  const v = view(bytes);
  const parts: Record<Part, Record<string, number | bigint>> = {
    exception: {},
    interrupt: {},
    nmi: {},
    smi: {},
    tripleFault: {},
  };
  for (const [field, part, name] of BYTES) parts[part][name] = v.getUint8(e[field]);
  parts.exception.errorCode = v.getUint32(e.exceptionErrorCode, true);
  parts.exception.payload = v.getBigUint64(e.exceptionPayload, true);
  return {
    ...(parts as unknown as Pick<VcpuEvents, Part>),
    sipiVector: v.getUint32(e.sipiVector, true),
    flags: v.getUint32(e.flags, true),
  };
}

export function encodeVcpuEvents(layout: VcpuStateLayout, events: VcpuEvents): Uint8Array {
  const op = "KVM_SET_VCPU_EVENTS";
  object(op, "events", events);
  const e = layout.vcpuEvents;
  const bytes = new Uint8Array(e.size);
  const v = view(bytes);
  const parts = {} as Record<Part, Record<string, unknown>>;
  for (const part of ["exception", "interrupt", "nmi", "smi", "tripleFault"] as const) {
    parts[part] = object(op, `events.${part}`, events[part] as unknown as Record<string, unknown>);
  }
  for (const [field, part, name] of BYTES)
    v.setUint8(e[field], uint(op, `events.${part}.${name}`, parts[part][name], 8));
  v.setUint32(e.exceptionErrorCode, uint(op, "events.exception.errorCode", parts.exception.errorCode, 32), true);
  v.setBigUint64(e.exceptionPayload, u64(op, "events.exception.payload", parts.exception.payload), true);
  v.setUint32(e.sipiVector, uint(op, "events.sipiVector", events.sipiVector, 32), true);
  v.setUint32(e.flags, uint(op, "events.flags", events.flags, 32), true);
  return bytes;
}
