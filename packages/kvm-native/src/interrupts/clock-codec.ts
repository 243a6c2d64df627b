import type { ClockData } from "@memtopo/kvm";
import { FieldReader, viewOf } from "./fields.js";
import type { NativeIrqLayout } from "./layout.js";

export function decodeClock(bytes: Uint8Array, layout: NativeIrqLayout): ClockData {
  const view = viewOf(bytes);
  const l = layout.clock;
  return {
    clock: view.getBigUint64(l.clock, true),
    flags: view.getUint32(l.flags, true),
    realtime: view.getBigUint64(l.realtime, true),
    hostTsc: view.getBigUint64(l.hostTsc, true),
  };
}

/** Validates what KVM_SET_CLOCK takes: clock and flags, realtime and hostTsc (0 when absent). */
export function clockArgs(
  data: Pick<ClockData, "clock" | "flags"> & Partial<ClockData>,
  operation: string,
): [bigint, number, bigint, bigint] {
  const r = new FieldReader(operation);
  const d = r.object(data, "data");
  return [
    r.big(d.clock, 64, "data.clock"),
    r.uint(d.flags, 32, "data.flags"),
    d.realtime === undefined ? 0n : r.big(d.realtime, 64, "data.realtime"),
    d.hostTsc === undefined ? 0n : r.big(d.hostTsc, 64, "data.hostTsc"),
  ];
}
