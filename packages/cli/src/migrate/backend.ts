import { probe } from "@memtopo/kvm-native";
import { UsageError } from "../context.js";

export type WorkloadBackend = "mock" | "native";

/**
 * The `--backend` flag of `migrate` and `snapshot`: mock (the default) or native, and native only where
 * /dev/kvm answers, so that a machine without it gets a usage error naming why before any VM is made.
 */
export function workloadBackend(flag: unknown): WorkloadBackend {
  const backend = flag ?? "mock";
  if (backend !== "mock" && backend !== "native") {
    throw new UsageError(`--backend is mock or native, got ${String(backend).slice(0, 40)}`);
  }
  if (backend === "native") {
    const kvm = probe();
    if (!kvm.ok)
      throw new UsageError(`--backend native needs /dev/kvm, which is not usable here: ${kvm.reason}: ${kvm.detail}`);
  }
  return backend;
}
