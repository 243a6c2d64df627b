import { MEMTX_OK, type MemTxResult } from "@memtopo/region-tree";
import type { VcpuExit } from "./exits.js";

/**
 * What a run loop dispatches guest accesses to: the facade's AddressSpace
 * implements exactly these two methods. `data` is a view into kvm_run itself:
 * `write` reads the bytes the guest stored, `read` fills them in.
 */
export interface GuestBus {
  read(addr: bigint, data: Uint8Array): MemTxResult;
  write(addr: bigint, data: Uint8Array): MemTxResult;
}

export interface RunVcpuOptions {
  /** Stop with "max-exits" after dispatching this many IO/MMIO exits (default: no limit). */
  readonly maxExits?: number;
}

export type StopReason =
  | "hlt"
  | "shutdown"
  | "fail-entry"
  | "internal-error"
  | "kicked"
  | "max-exits"
  | "unhandled-exit";

export interface RunResult {
  readonly reason: StopReason;
  /** The exit that stopped the loop (the last dispatched one for "max-exits"). */
  readonly exit: VcpuExit | undefined;
  /** IO and MMIO exits dispatched. */
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

/**
 * Runs a vCPU until it stops: MMIO exits go to `memory`, port I/O to `io`, each
 * access in guest order (a `rep ins/outs` exit is `count` accesses to the same port).
 * Everything happens in the calling thread, between two KVM_RUNs.
 */
export function runVcpu(
  vcpu: RunnableVcpu,
  buses: { readonly memory: GuestBus; readonly io: GuestBus },
  options: RunVcpuOptions = {},
): RunResult {
  const maxExits = options.maxExits ?? Number.POSITIVE_INFINITY;
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
      case "hlt":
        return done("hlt", exit);
      case "shutdown":
        return done("shutdown", exit);
      case "fail-entry":
        return done("fail-entry", exit);
      case "internal-error":
        return done("internal-error", exit);
      case "intr":
        return done("kicked", exit);
      default:
        return done("unhandled-exit", exit);
    }
    exits++;
    last = exit;
  }
  return done("max-exits", last);
}
