import type { KvmVcpu, KvmVcpuState } from "@memtopo/kvm";
import { describeValue } from "@memtopo/region-tree";
import { MigrationError } from "./errors.js";
import type { StateValue } from "./state-codec.js";

/**
 * The parts of a vCPU's state a stream can carry, in the order QEMU's
 * `kvm_arch_put_registers` writes them back (XSAVE before XCRS before SREGS; MP state,
 * LAPIC and events after the registers they depend on).
 */
export const VCPU_PARTS = [
  "regs",
  "xsave",
  "xcrs",
  "sregs",
  "msrs",
  "mpState",
  "lapic",
  "events",
  "debugRegs",
] as const;
export type VcpuPart = (typeof VCPU_PARTS)[number];

/** What to save of each vCPU. */
export interface VcpuStateOptions {
  /**
   * The parts to save; by default regs, sregs, XSAVE, XCRs, MP state, events and debug
   * registers (add "lapic" when the VM has an in-kernel irqchip, "msrs" with {@link msrs}).
   */
  readonly parts?: readonly VcpuPart[];
  /** The MSR indices "msrs" reads (KVM_GET_MSRS stops at the first the kernel refuses). */
  readonly msrs?: readonly number[];
}

export const DEFAULT_VCPU_PARTS: readonly VcpuPart[] = [
  "regs",
  "xsave",
  "xcrs",
  "sregs",
  "mpState",
  "events",
  "debugRegs",
];

/** A vCPU as migration sees it: its id, its typed state, and the run() that completes a pending exit. */
export interface MigratableVcpu extends KvmVcpuState, Pick<KvmVcpu, "kick" | "run"> {
  readonly id: number;
}

/**
 * KVM's API (Documentation/virt/kvm/api.rst, `kvm_run`): after an IO, MMIO or MSR exit the operation
 * is complete, and the guest state consistent, only once user space re-enters KVM_RUN; that pending
 * part is in no state user space can read. Re-entering with immediate_exit set completes it and runs
 * no further instruction, as QEMU does before it reads a vCPU for migration. Without it the
 * destination would execute the exiting instruction a second time.
 */
export function completePendingExit(vcpu: MigratableVcpu): void {
  vcpu.kick();
  const exit = vcpu.run();
  if (exit.reason !== "intr") {
    throw new MigrationError(
      "E_VCPU_RUNNING",
      `vCPU ${vcpu.id} ran on instead of stopping at once (exit "${exit.reason}"): its state is not saved`,
    );
  }
}

/** Completes a stopped vCPU's pending exit, then reads the chosen parts of its state. */
export function saveVcpuState(vcpu: MigratableVcpu, options: VcpuStateOptions = {}): StateValue {
  completePendingExit(vcpu);
  const parts = options.parts ?? DEFAULT_VCPU_PARTS;
  const out: Record<string, StateValue> = { id: vcpu.id };
  for (const part of parts) out[part] = readPart(vcpu, part, options.msrs ?? []) as unknown as StateValue;
  return out;
}

function readPart(vcpu: MigratableVcpu, part: VcpuPart, msrs: readonly number[]): unknown {
  switch (part) {
    case "regs":
      return vcpu.getRegs();
    case "xsave":
      return vcpu.getXsave();
    case "xcrs":
      return vcpu.getXcrs();
    case "sregs":
      return vcpu.getSregs();
    case "msrs":
      return vcpu.getMsrs(msrs);
    case "mpState":
      return vcpu.getMpState();
    case "lapic":
      return vcpu.getLapic();
    case "events":
      return vcpu.getVcpuEvents();
    case "debugRegs":
      return vcpu.getDebugRegs();
    default:
      throw new MigrationError("E_INVALID_ARGUMENT", `unknown vCPU state part ${describeValue(part)}`);
  }
}

/**
 * Checks the shape of a decoded vCPU state against the machine's vCPUs and returns the
 * function that writes it back, part by part in {@link VCPU_PARTS} order. The backend
 * validates each value when it is set (and refuses with a KvmError); a refusal then leaves
 * that vCPU half-written, which is why only a committing destination calls it.
 */
export function prepareVcpuLoad(
  vcpus: ReadonlyMap<number, MigratableVcpu>,
  state: StateValue,
): { id: number; apply: () => void } {
  if (typeof state !== "object" || state === null || Array.isArray(state) || state instanceof Uint8Array) {
    throw new MigrationError("E_STREAM_VCPU", "a VCPU section holds an object");
  }
  const record = state as Record<string, unknown>;
  const id = record.id;
  if (typeof id !== "number" || !vcpus.has(id)) {
    throw new MigrationError(
      "E_STREAM_VCPU",
      `the stream's vCPU ${describeValue(id)} is not one of the destination's (${[...vcpus.keys()].join(", ")})`,
    );
  }
  for (const key of Object.keys(record)) {
    if (key !== "id" && !(VCPU_PARTS as readonly string[]).includes(key)) {
      throw new MigrationError("E_STREAM_VCPU", `vCPU ${id}: unknown state part "${key}"`);
    }
  }
  const vcpu = vcpus.get(id)!;
  return {
    id,
    apply() {
      for (const part of VCPU_PARTS) {
        if (part in record) writePart(vcpu, part, record[part]);
      }
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: each value goes to the backend's setter, which validates it.
function writePart(vcpu: MigratableVcpu, part: VcpuPart, value: any): void {
  switch (part) {
    case "regs":
      vcpu.setRegs(value);
      return;
    case "xsave":
      vcpu.setXsave(value);
      return;
    case "xcrs":
      vcpu.setXcrs(value);
      return;
    case "sregs":
      vcpu.setSregs(value);
      return;
    case "msrs": {
      const written = vcpu.setMsrs(value);
      if (written !== value.length) {
        throw new MigrationError(
          "E_STREAM_VCPU",
          `vCPU ${vcpu.id}: KVM_SET_MSRS wrote ${written} of ${value.length} MSRs`,
        );
      }
      return;
    }
    case "mpState":
      vcpu.setMpState(value);
      return;
    case "lapic":
      vcpu.setLapic(value);
      return;
    case "events":
      vcpu.setVcpuEvents(value);
      return;
    case "debugRegs":
      vcpu.setDebugRegs(value);
      return;
  }
}
