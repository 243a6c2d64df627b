import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { KvmError } from "@memtopo/kvm";
import { describeValue } from "@memtopo/region-tree";
import { packageRoot } from "./binding.js";

/**
 * The timer's thread: sleeps on a shared word until the deadline, then kicks the vCPU unless
 * the word was set (cancelled). Evaluated as a CommonJS worker, so it needs no build step.
 */
const TIMER_THREAD = `
const { workerData } = require("node:worker_threads");
const state = new Int32Array(workerData.state);
if (Atomics.wait(state, 0, 0, workerData.ms) === "timed-out") {
  const binding = require(workerData.loader)(workerData.packageRoot);
  Atomics.store(state, 1, binding.kickVcpu(workerData.kickId) ? 1 : 2);
}
`;
const CANCELLED = 0;
const OUTCOME = 1;

export interface KickTimer {
  /** Stops the timer if it has not fired (a kick already made stays made). */
  cancel(): void;
  /** True once the timer kicked a vCPU that was open. */
  readonly fired: boolean;
  /** "pending", "kicked", "no-vcpu" (the deadline came and no open vCPU had the id) or "cancelled". */
  readonly outcome: "pending" | "kicked" | "no-vcpu" | "cancelled";
}

/**
 * Kicks the vCPU with `kickId` (`vcpu.kickId`) after `ms` milliseconds from a thread of its own,
 * so a vCPU whose thread is blocked in KVM_RUN with a guest that never exits still stops: its
 * run() returns an "intr" exit (QEMU's vCPU kick by signal, as a VMM's watchdog does it).
 */
export function kickVcpuAfter(kickId: number, ms: number): KickTimer {
  if (!Number.isInteger(kickId) || kickId < 0 || kickId > 0xffff_ffff) {
    throw new KvmError("EINVAL", "kickVcpuAfter", `kickId must be a u32, got ${describeValue(kickId)}`);
  }
  if (!(typeof ms === "number" && Number.isFinite(ms) && ms >= 0)) {
    throw new KvmError("EINVAL", "kickVcpuAfter", `ms must be a finite number >= 0, got ${describeValue(ms)}`);
  }
  const state = new Int32Array(new SharedArrayBuffer(8));
  const loader = createRequire(import.meta.url).resolve("node-gyp-build");
  const worker = new Worker(TIMER_THREAD, {
    eval: true,
    workerData: { state: state.buffer, ms: Math.ceil(ms), kickId, loader, packageRoot },
  });
  // The timer never keeps the process alive by itself.
  worker.unref();
  return {
    cancel() {
      Atomics.store(state, CANCELLED, 1);
      Atomics.notify(state, CANCELLED);
    },
    get fired() {
      return Atomics.load(state, OUTCOME) === 1;
    },
    get outcome() {
      const outcome = Atomics.load(state, OUTCOME);
      if (outcome === 1) return "kicked";
      if (outcome === 2) return "no-vcpu";
      return Atomics.load(state, CANCELLED) === 1 ? "cancelled" : "pending";
    },
  };
}
