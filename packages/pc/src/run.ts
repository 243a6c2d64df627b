import type { Regs, Sregs, VcpuExit } from "@memtopo/kvm";
import { KVM_VCPUEVENT_VALID, runVcpu } from "@memtopo/kvm";
import { describeValue } from "@memtopo/region-tree";
import type { AddressSpace } from "memtopo";
import type { PcVcpu } from "./accel.js";
import type { PcStopRequest } from "./board-types.js";
import { PcError } from "./errors.js";

/** Why a run ended. Only "until" is what a caller waiting for text wants. */
export type PcStopKind =
  | "until"
  | "timeout"
  | "reset"
  | "shutdown"
  | "triple-fault"
  | "emulation-failure"
  | "internal-error"
  | "fail-entry"
  | "unhandled-exit";

export interface PcRunOptions {
  /** Stop with "until" once the debug console has printed this text. */
  readonly until?: string;
  /**
   * Stop with "timeout" after this long. Default 120 s. With the accelerator's kickAfter a
   * thread kicks the vCPU at the deadline; otherwise it is checked at exits to user space.
   */
  readonly timeoutMs?: number;
}

export interface PcRunResult {
  readonly stop: PcStopKind;
  /** What happened, in words (the request's reason, the exit's details). */
  readonly detail: string;
  /** Exits to user space during the run (I/O, MMIO and the others). */
  readonly exits: number;
  readonly seconds: number;
  readonly debugcon: string;
  /** The vCPU's registers when the run stopped. */
  readonly registers: { readonly regs: Regs; readonly sregs: Sregs } | null;
}

/** What the run loop needs of the board. */
export interface RunnableBoard {
  readonly vcpu: PcVcpu;
  readonly memory: AddressSpace;
  readonly io: AddressSpace;
  debugconText(): string;
  /** True once the caller's onDebugcon asked to stop. */
  debugconStop(): boolean;
  stopRequest(): PcStopRequest | null;
  /** Called when a device asks to stop (reset, shutdown, the awaited text): the loop kicks the vCPU. */
  setStopHook(hook: () => void): void;
  /** Called when the chipset raises an SMI. */
  setSmiHook(hook: () => void): void;
  /** A timer that kicks the vCPU from another thread, where the backend has one. */
  readonly kickAfter?: ((kickId: number, ms: number) => { cancel(): void }) | undefined;
}

const TIMEOUT_CHECK_EVERY = 256;

/**
 * Runs the vCPU with QEMU's `-no-reboot`: a reset or shutdown request, a triple fault, an
 * emulation failure or the awaited text stops the run. Devices that want to stop kick the
 * vCPU, whose next KVM_RUN returns at once. An SMI (APM command with SMIs enabled) is
 * injected before the next entry, as QEMU's kvm_arch_pre_run does, through the vCPU events
 * (smi.pending with KVM_VCPUEVENT_VALID_SMM).
 */
export function runBoard(board: RunnableBoard, options: PcRunOptions): PcRunResult {
  const until = options.until;
  const timeoutMs = options.timeoutMs ?? 120_000;
  if (until !== undefined && (typeof until !== "string" || until === "")) {
    throw new PcError("E_PC_RUN", "run: until must be a non-empty string");
  }
  if (!(typeof timeoutMs === "number" && timeoutMs > 0)) {
    throw new PcError("E_PC_RUN", `run: timeoutMs must be a number above 0, got ${describeValue(timeoutMs)}`);
  }
  const { vcpu } = board;
  const start = performance.now();
  const deadline = start + timeoutMs;
  let stop: { kind: PcStopKind; detail: string } | null = null;
  let count = 0;
  let untilSeen = false;
  const untilStart = board.debugconText().length;
  const stopWith = (kind: PcStopKind, detail: string) => {
    stop ??= { kind, detail };
    vcpu.kick();
  };
  board.setStopHook(() => {
    const request = board.stopRequest();
    if (request !== null) stopWith(request.kind, request.reason);
    else if (board.debugconStop()) stopWith("until", "the debug console printed what the caller waited for");
  });
  board.setSmiHook(() => injectSmi(vcpu));
  const watch = (bus: AddressSpace) => ({
    read: (addr: bigint, data: Uint8Array) => {
      tick();
      return bus.read(addr, data);
    },
    write: (addr: bigint, data: Uint8Array) => {
      const result = bus.write(addr, data);
      tick();
      if (until !== undefined && !untilSeen && board.debugconText().indexOf(until, untilStart) >= 0) {
        untilSeen = true;
        stopWith("until", `the debug console printed ${JSON.stringify(until)}`);
      }
      return result;
    },
  });
  const tick = () => {
    count++;
    if (count % TIMEOUT_CHECK_EVERY === 0 && performance.now() > deadline) {
      stopWith("timeout", `no stop within ${timeoutMs} ms`);
    }
  };
  const timer =
    board.kickAfter !== undefined && vcpu.kickId !== undefined ? board.kickAfter(vcpu.kickId, timeoutMs) : null;
  let result: ReturnType<typeof runVcpu>;
  try {
    result = runVcpu(
      vcpu,
      { memory: watch(board.memory), io: watch(board.io) },
      {
        onExit: (exit: VcpuExit) => {
          tick();
          if (exit.reason === "intr" && performance.now() > deadline) {
            stopWith("timeout", `no stop within ${timeoutMs} ms (the vCPU was kicked at the deadline)`);
          }
          if (stop !== null) return "stop";
          const failure = failureOf(exit);
          if (failure === null) return "continue";
          stop = failure;
          return "stop";
        },
      },
    );
  } finally {
    timer?.cancel();
  }
  const seconds = (performance.now() - start) / 1000;
  const final: { kind: PcStopKind; detail: string } = stop ?? {
    kind: "unhandled-exit",
    detail: `the run loop stopped with ${result.reason}`,
  };
  return {
    stop: final.kind,
    detail: final.detail,
    exits: count,
    seconds,
    debugcon: board.debugconText(),
    registers: { regs: vcpu.getRegs(), sregs: vcpu.getSregs() },
  };
}

/** The stop an exit means, or null for one the guest continues after (a kick with no stop, HLT). */
function failureOf(exit: VcpuExit): { kind: PcStopKind; detail: string } | null {
  switch (exit.reason) {
    case "intr":
    case "hlt":
    case "irq-window-open":
      return null;
    case "shutdown":
      return { kind: "triple-fault", detail: "the guest triple-faulted (KVM_EXIT_SHUTDOWN); -no-reboot stops here" };
    case "system-event":
      return { kind: "shutdown", detail: `KVM_EXIT_SYSTEM_EVENT ${JSON.stringify(exit)}` };
    case "internal-error":
      return { kind: "emulation-failure", detail: `KVM_EXIT_INTERNAL_ERROR ${JSON.stringify(exit, bigintJson)}` };
    case "fail-entry":
      return { kind: "fail-entry", detail: `KVM_EXIT_FAIL_ENTRY ${JSON.stringify(exit, bigintJson)}` };
    default:
      return { kind: "unhandled-exit", detail: `unexpected exit ${JSON.stringify(exit, bigintJson)}` };
  }
}

function bigintJson(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? `0x${value.toString(16)}` : value instanceof Uint8Array ? [...value] : value;
}

/** KVM_SET_VCPU_EVENTS with smi.pending: the vCPU enters SMM at its next instruction boundary. */
function injectSmi(vcpu: PcVcpu): void {
  if (vcpu.getVcpuEvents === undefined || vcpu.setVcpuEvents === undefined) {
    throw new PcError(
      "E_PC_NO_SMI",
      "the guest raised an SMI but this backend's vCPU has no KVM_SET_VCPU_EVENTS (build the board with smm: false)",
    );
  }
  const events = vcpu.getVcpuEvents();
  events.smi = { ...events.smi, pending: 1 };
  events.flags = KVM_VCPUEVENT_VALID.SMM;
  vcpu.setVcpuEvents(events);
}
