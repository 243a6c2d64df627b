import { KvmError } from "@memtopo/kvm";
import type { NativeBinding } from "./binding.js";
import { native } from "./errors.js";
import { bindingOrReason } from "./probe.js";

/**
 * Kicks a vCPU from any thread (typically the main thread, while a worker is blocked
 * in its run()): sets kvm_run.immediate_exit and signals the running thread, so its
 * run() returns an "intr" exit at once, or its next one does. `kickId` comes from
 * `vcpu.kickId`. Returns false when no open vCPU has that id.
 */
export function kickVcpu(kickId: number, options: { readonly nativeBinding?: NativeBinding } = {}): boolean {
  const binding = bindingOrReason(options.nativeBinding);
  if (!("layout" in binding)) throw new KvmError(binding.reason, "kickVcpu", binding.detail);
  return native("kickVcpu", () => binding.kickVcpu(kickId));
}
