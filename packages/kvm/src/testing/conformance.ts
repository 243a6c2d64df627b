import { coalescedCases } from "./coalesced-cases.js";
import { dirtyLogCases } from "./dirty-log-cases.js";
import { ioeventfdCases } from "./ioeventfd-cases.js";
import { memslotCases } from "./memslot-cases.js";
import type { ConformanceTestApi, KvmBackendFactory } from "./types.js";

/**
 * Registers the KvmBackend conformance suite: the rules a real /dev/kvm enforces for
 * memslots, dirty logs, ioeventfds and coalesced zones, with the kernel's errno, so that the mock and a
 * native backend are held to the same behaviour. Expectations that depend on a capability
 * (read-only memory, any-length ioeventfds, address spaces, the slot limit) follow what the
 * backend reports through `checkExtension`.
 *
 * ```ts
 * import { describe, expect, it } from "vitest";
 * import { describeKvmBackendConformance } from "@memtopo/kvm/testing";
 *
 * describeKvmBackendConformance({ describe, it, expect }, {
 *   name: "mock",
 *   hasGuest: true,
 *   async create() { ... },
 * });
 * ```
 *
 * Every case creates its own environment through `factory.create()` and calls its
 * `cleanup()` afterwards, also when the case fails.
 */
export function describeKvmBackendConformance(api: ConformanceTestApi, factory: KvmBackendFactory): void {
  api.describe(`KvmBackend conformance: ${factory.name}`, () => {
    api.describe("KVM_SET_USER_MEMORY_REGION", () => memslotCases(api, factory));
    api.describe("KVM_GET_DIRTY_LOG / KVM_CLEAR_DIRTY_LOG", () => dirtyLogCases(api, factory));
    api.describe("KVM_IOEVENTFD", () => ioeventfdCases(api, factory));
    // An empty describe is an error in vitest: the block exists only for backends that coalesce.
    if (factory.hasCoalescedMmio === true) {
      api.describe("KVM_(UN)REGISTER_COALESCED_MMIO", () => coalescedCases(api, factory));
    }
  });
}
