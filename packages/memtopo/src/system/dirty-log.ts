import {
  ListenerCallbackError,
  type ListenerCalls,
  type ListenerFailure,
  type MemoryListener,
} from "@memtopo/listener-bus";
import { describeValue } from "@memtopo/region-tree";
import { MemorySystemError } from "./errors.js";

/** `GLOBAL_DIRTY_MIGRATION`, `_DIRTY_RATE`, `_LIMIT`: the clients of global dirty tracking. */
export const GLOBAL_DIRTY_MIGRATION = 1;
export const GLOBAL_DIRTY_DIRTY_RATE = 2;
export const GLOBAL_DIRTY_LIMIT = 4;

/** What global dirty tracking needs from its MemorySystem. */
export interface DirtyLogHost {
  /** Calls the global listeners under the system's delivery guard and returns what failed. */
  notify(work: (calls: ListenerCalls, global: readonly MemoryListener[]) => void): readonly ListenerFailure[];
  /** A topology commit (views re-rendered with the new masks); returns what failed. */
  topologyCommit(): readonly ListenerFailure[];
}

/**
 * QEMU's `global_dirty_tracking` with `memory_global_dirty_log_start/stop`, including the
 * stop that is postponed while the VM is stopped (memory_global_dirty_log_stop): it is batched, runs when the VM
 * runs again, and a start in between cancels the postponed bits it covers and runs the rest.
 */
export class GlobalDirtyLog {
  /** The GLOBAL_DIRTY_* clients on; postponed stops still count as on, as in QEMU. */
  tracking = 0;
  vmRunning: boolean;
  #postponed = 0;
  #pending = false;
  readonly #host: DirtyLogHost;

  constructor(host: DirtyLogHost, vmRunning: boolean) {
    this.#host = host;
    this.vmRunning = vmRunning;
  }

  /** `memory_vm_change_state_handler`: a VM that starts running carries out the postponed stop. */
  setVmRunning(running: boolean): void {
    if (typeof running !== "boolean") {
      throw new MemorySystemError("E_INVALID_ARGUMENT", `running must be a boolean, got ${describeValue(running)}`);
    }
    this.vmRunning = running;
    if (running && this.#pending) this.#runPostponed();
  }

  /**
   * `memory_global_dirty_log_start`: clients already on are ignored; from off to on,
   * `log_global_start` (Forward) and then a topology commit (ranges gain MIGRATION).
   */
  start(flags: number): void {
    checkDirtyFlags(flags);
    if (this.#pending) {
      this.#postponed &= ~flags;
      this.#runPostponed();
    }
    const added = flags & ~this.tracking;
    if (added === 0) return;
    const wasOff = this.tracking === 0;
    this.tracking |= added;
    if (!wasOff) return;
    const failures = [...this.#host.notify((calls, global) => calls.forward(global, "logGlobalStart"))];
    failures.push(...this.#host.topologyCommit());
    if (failures.length > 0) throw new ListenerCallbackError("dirty-log start", failures);
  }

  /**
   * `memory_global_dirty_log_stop`: postponed while the VM is stopped; otherwise, when
   * tracking reaches off, a topology commit (`log_stop`) and then `log_global_stop` (Reverse).
   */
  stop(flags: number): void {
    checkDirtyFlags(flags);
    if ((this.tracking & flags) !== flags) {
      throw new MemorySystemError(
        "E_DIRTY_LOG_NOT_STARTED",
        `dirty-log clients 0x${(flags & ~this.tracking).toString(16)} are not on`,
      );
    }
    if (!this.vmRunning) {
      this.#postponed = this.#pending ? this.#postponed | flags : flags;
      this.#pending = true;
      return;
    }
    this.#doStop(flags);
  }

  #runPostponed(): void {
    const flags = this.#postponed;
    this.#postponed = 0;
    this.#pending = false;
    if (flags !== 0) this.#doStop(flags);
  }

  /** `memory_global_dirty_log_do_stop`. */
  #doStop(flags: number): void {
    this.tracking &= ~flags;
    if (this.tracking !== 0) return;
    const failures = [...this.#host.topologyCommit()];
    failures.push(...this.#host.notify((calls, global) => calls.reverse(global, "logGlobalStop")));
    if (failures.length > 0) throw new ListenerCallbackError("dirty-log stop", failures);
  }
}

function checkDirtyFlags(flags: number): void {
  if (!Number.isInteger(flags) || flags < 1 || flags > 7) {
    throw new MemorySystemError(
      "E_INVALID_ARGUMENT",
      `dirty-log flags must be a non-zero mask of 1|2|4, got ${describeValue(flags)}`,
    );
  }
}
