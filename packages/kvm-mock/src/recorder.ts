import { KvmError } from "@memtopo/kvm";
import { describeValue } from "@memtopo/region-tree";
import { kernelError, MockKvmUsageError } from "./errors.js";
import { integerIn } from "./validate.js";

/** The calls the mock records: the KvmBackend methods, the VM's interrupt and vCPU ioctls, each vCPU's state ioctls. */
const METHODS = [
  "checkExtension",
  "setUserMemoryRegion",
  "ioeventfd",
  "getDirtyLog",
  "clearDirtyLog",
  "enableDirtyLogManualProtect",
  "enableDirtyLogRing",
  "reapDirtyRings",
  "resetDirtyRings",
  "registerCoalescedMmio",
  "unregisterCoalescedMmio",
  "createVcpu",
  "createIrqchip",
  "getIrqchip",
  "setIrqchip",
  "createPit2",
  "getPit2",
  "setPit2",
  "irqLine",
  "irqfd",
  "setGsiRouting",
  "signalMsi",
  "getClock",
  "setClock",
  "setIdentityMapAddr",
  "setTssAddr",
  "getSupportedCpuid",
  "getEmulatedCpuid",
  "getMsrIndexList",
  "getMsrFeatureIndexList",
  "vcpu.setRegs",
  "vcpu.setSregs",
  "vcpu.getCpuid2",
  "vcpu.setCpuid2",
  "vcpu.getMsrs",
  "vcpu.setMsrs",
  "vcpu.setFpu",
  "vcpu.setXsave",
  "vcpu.setXcrs",
  "vcpu.getLapic",
  "vcpu.setLapic",
  "vcpu.setVcpuEvents",
  "vcpu.setMpState",
  "vcpu.setDebugRegs",
  "vcpu.setGuestDebug",
  "vcpu.translate",
] as const;

/** The method names {@link MockKvm.failNext} and the call log use. */
export type KvmMethod = (typeof METHODS)[number];

/** A call about to run, as fault predicates see it. */
export interface PendingCall {
  readonly method: KvmMethod;
  readonly args: readonly unknown[];
}

/** One recorded call: `errno` is set when it failed (`injected` when a fault made it fail). */
export interface KvmCall extends PendingCall {
  readonly result?: unknown;
  readonly errno?: string;
  readonly injected?: boolean;
}

interface Fault {
  readonly matches: (call: PendingCall) => boolean;
  readonly errno: string;
  skip: number;
}

/** The call log and the pending injected faults. */
export class CallRecorder {
  #calls: KvmCall[] = [];
  #faults: Fault[] = [];

  get calls(): readonly KvmCall[] {
    return this.#calls;
  }

  clear(): void {
    this.#calls = [];
  }

  failNext(target: KvmMethod | ((call: PendingCall) => boolean), errno: string, after: number): void {
    if (typeof target === "string" && !(METHODS as readonly string[]).includes(target)) {
      throw new MockKvmUsageError(`unknown method ${JSON.stringify(target)}`, "target");
    }
    if (typeof target !== "string" && typeof target !== "function") {
      throw new MockKvmUsageError("expected a method name or a predicate", "target");
    }
    if (typeof errno !== "string" || !/^E[A-Z0-9]+$/.test(errno)) {
      throw new MockKvmUsageError(`expected an errno name such as "EIO", got ${describeValue(errno)}`, "errno");
    }
    const skip = integerIn(after, 0, Number.MAX_SAFE_INTEGER, "options.after");
    const matches = typeof target === "string" ? (call: PendingCall) => call.method === target : target;
    this.#faults = [...this.#faults, { matches, errno, skip }];
  }

  clearFaults(): void {
    this.#faults = [];
  }

  /**
   * Runs one backend call: an armed fault that matches (after skipping its `after` matching
   * calls) fails it before `body` runs, so nothing changes; kernel errors are recorded too.
   */
  run<T>(method: KvmMethod, args: readonly unknown[], operation: string, body: () => T): T {
    const call: PendingCall = { method, args };
    const fault = this.#faults.find((f) => f.matches(call));
    if (fault !== undefined) {
      if (fault.skip === 0) {
        this.#faults = this.#faults.filter((f) => f !== fault);
        this.#calls.push({ ...call, errno: fault.errno, injected: true });
        throw kernelError(fault.errno, operation, "injected fault");
      }
      fault.skip -= 1;
    }
    try {
      const result = body();
      this.#calls.push(result === undefined ? call : { ...call, result });
      return result;
    } catch (error) {
      if (error instanceof KvmError) this.#calls.push({ ...call, errno: error.code });
      throw error;
    }
  }
}
