import { describeValue, MEMTX_OK, type MemTxResult } from "@memtopo/region-tree";
import { KvmError } from "./errors.js";
import type { VcpuExit } from "./vcpu-exit.js";

/**
 * What a run loop dispatches guest accesses to: the facade's AddressSpace
 * implements exactly these two methods. `data` is a view into kvm_run itself:
 * `write` reads the bytes the guest stored, `read` fills them in.
 */
export interface GuestBus {
  read(addr: bigint, data: Uint8Array): MemTxResult;
  write(addr: bigint, data: Uint8Array): MemTxResult;
}

/** What an exit hook tells the loop: enter the guest again, or stop with this exit. */
export type ExitAction = "continue" | "stop";

/**
 * Handles an exit the loop does not dispatch itself. For MSR exits it fills `exit.data`
 * (rdmsr) or sets `exit.error` before answering "continue", as the kernel expects of
 * user space; for IRQ_WINDOW_OPEN it injects the interrupt it was waiting for.
 */
export type ExitHook = (exit: VcpuExit) => ExitAction;

export interface RunVcpuOptions {
  /** Stop with "max-exits" after this many exits were dispatched or continued (default: no limit). */
  readonly maxExits?: number;
  /**
   * Called for every exit other than IO and MMIO (HLT, a kick, SYSTEM_EVENT, MSR, DEBUG,
   * IRQ_WINDOW_OPEN, an internal error, an unknown one...). "continue" enters the guest
   * again; "stop" ends the run with the stop reason the exit has without a hook. The
   * exit it gets may be overwritten by the next KVM_RUN: copy what you keep.
   */
  readonly onExit?: ExitHook;
}

export type StopReason =
  | "hlt"
  | "shutdown"
  | "fail-entry"
  | "internal-error"
  | "system-event"
  | "debug"
  | "kicked"
  | "max-exits"
  | "unhandled-exit";

export interface RunResult {
  readonly reason: StopReason;
  /** The exit that stopped the loop (the last dispatched one for "max-exits"). */
  readonly exit: VcpuExit | undefined;
  /** IO and MMIO exits dispatched, plus exits the hook answered "continue" to. */
  readonly exits: number;
  /** Accesses whose MemTxResult was not MEMTX_OK (the guest still continues, as under QEMU). */
  readonly failedAccesses: number;
}

/** The part of a vCPU the loop needs. */
export interface RunnableVcpu {
  run(): VcpuExit;
  /**
   * run(), but the IO/MMIO exit may be an object the next call overwrites (`Vcpu.runInPlace`):
   * the loop prefers it, and copies the exit it stops with.
   */
  runInPlace?(): VcpuExit;
}

/** The stop reason of an exit the loop does not dispatch, when no hook continues it. */
function stopReasonOf(exit: VcpuExit): StopReason {
  switch (exit.reason) {
    case "hlt":
    case "shutdown":
    case "fail-entry":
    case "internal-error":
    case "system-event":
    case "debug":
      return exit.reason;
    case "intr":
      return "kicked";
    default:
      return "unhandled-exit";
  }
}

function checkOptions(options: RunVcpuOptions): void {
  const { maxExits, onExit } = options;
  if (maxExits !== undefined && !(typeof maxExits === "number" && maxExits >= 0 && !Number.isNaN(maxExits))) {
    throw new KvmError("EINVAL", "runVcpu", `maxExits must be a number >= 0, got ${describeValue(maxExits)}`);
  }
  if (onExit !== undefined && typeof onExit !== "function") {
    throw new KvmError("EINVAL", "runVcpu", `onExit must be a function, got ${typeof onExit}`);
  }
}

/**
 * Runs a vCPU until it stops: MMIO exits go to `memory`, port I/O to `io`, each
 * access in guest order (a `rep ins/outs` exit is `count` accesses to the same port);
 * every other exit goes to `options.onExit`, or stops the loop.
 * Everything happens in the calling thread, between two KVM_RUNs.
 */
export function runVcpu(
  vcpu: RunnableVcpu,
  buses: { readonly memory: GuestBus; readonly io: GuestBus },
  options: RunVcpuOptions = {},
): RunResult {
  checkOptions(options);
  const maxExits = options.maxExits ?? Number.POSITIVE_INFINITY;
  const onExit = options.onExit;
  let exits = 0;
  let failedAccesses = 0;
  let last: VcpuExit | undefined;
  // The last port as a bigint: a guest's exits mostly go to one port after another.
  let lastPort = -1;
  let port = 0n;
  const inPlace = typeof vcpu.runInPlace === "function";
  const done = (reason: StopReason, exit: VcpuExit | undefined): RunResult => ({
    reason,
    exit: inPlace && exit !== undefined ? { ...exit } : exit,
    exits,
    failedAccesses,
  });
  while (exits < maxExits) {
    const exit = inPlace ? vcpu.runInPlace!() : vcpu.run();
    switch (exit.reason) {
      case "mmio": {
        const result = exit.isWrite
          ? buses.memory.write(exit.addr, exit.data)
          : buses.memory.read(exit.addr, exit.data);
        if (result !== MEMTX_OK) failedAccesses++;
        break;
      }
      case "io": {
        if (exit.port !== lastPort) {
          lastPort = exit.port;
          port = BigInt(exit.port);
        }
        const out = exit.direction === "out";
        if (exit.count === 1) {
          // The common case: data is exactly the one access's bytes.
          const result = out ? buses.io.write(port, exit.data) : buses.io.read(port, exit.data);
          if (result !== MEMTX_OK) failedAccesses++;
          break;
        }
        for (let i = 0; i < exit.count; i++) {
          const data = exit.data.subarray(i * exit.size, (i + 1) * exit.size);
          const result = out ? buses.io.write(port, data) : buses.io.read(port, data);
          if (result !== MEMTX_OK) failedAccesses++;
        }
        break;
      }
      default: {
        if (onExit === undefined) return done(stopReasonOf(exit), exit);
        const action = onExit(exit);
        if (action === "stop") return done(stopReasonOf(exit), exit);
        if (action !== "continue") {
          throw new KvmError(
            "EINVAL",
            "runVcpu",
            `onExit returned ${typeof action === "string" ? `"${action}"` : `a ${typeof action}`} for a ${exit.reason} exit; expected "continue" or "stop"`,
          );
        }
      }
    }
    exits++;
    last = exit;
  }
  return done("max-exits", last);
}
