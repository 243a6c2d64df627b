import { guestCases } from "./guest-cases.js";
import { irqRuleCases } from "./irq-cases.js";
import type { ConformanceTestApi } from "./types.js";
import { vcpuStateCases } from "./vcpu-state-cases.js";
import type { KvmVmFactory } from "./vm-types.js";

/**
 * Registers the KvmVm conformance suite: the vCPU state ioctls, the interrupt ioctls'
 * ordering rules and limits, and real-mode guests whose exits and interrupts must look the
 * same on every backend. Each case makes its own VM with `factory.create()` and cleans up.
 *
 * ```ts
 * describeKvmVmConformance({ describe, it, expect }, { name: "mock", async create() { ... } });
 * ```
 */
export function describeKvmVmConformance(api: ConformanceTestApi, factory: KvmVmFactory): void {
  api.describe(`KvmVm conformance: ${factory.name}`, () => {
    api.describe("vCPU state", () => vcpuStateCases(api, factory));
    api.describe("interrupt rules", () => irqRuleCases(api, factory));
    api.describe("guests", () => guestCases(api, factory));
  });
}
