import { describeKvmBackendConformance, type KvmBackendFactory } from "@memtopo/kvm/testing";
import type { EventNotifier } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { type MockEventNotifier, MockKvm, type MockKvmOptions } from "../src/index.js";

/** The mock behind the conformance suite's factory contract, with its simulated guest as the guest hooks. */
function mockFactory(name: string, options: MockKvmOptions = {}): KvmBackendFactory {
  return {
    name,
    hasGuest: true,
    hasCoalescedMmio: true,
    async create() {
      const kvm = new MockKvm(options);
      return {
        backend: kvm,
        ram: kvm.ramAllocator(),
        createEventNotifier: () => kvm.createEventNotifier(),
        guest: {
          write: (gpa, value, size) => (kvm.guestWrite(gpa, value, size).kind === "mmio-exit" ? "exit" : "none"),
          pioWrite: (port, value, size) => (kvm.guestPioWrite(port, value, size).kind === "pio-exit" ? "exit" : "none"),
          readNotifier: (notifier: EventNotifier) => Number((notifier as MockEventNotifier).read()),
        },
        cleanup: () => {},
      };
    },
  };
}

describeKvmBackendConformance({ describe, it, expect }, mockFactory("mock (Linux 6.18 defaults)"));

describeKvmBackendConformance(
  { describe, it, expect },
  mockFactory("mock (older kernel: 509 slots, no READONLY_MEM, no ANY_LENGTH, no manual protect)", {
    nrMemslots: 509,
    readonlyMem: false,
    ioeventfdAnyLength: false,
    manualDirtyLogProtect: 0,
  }),
);

describeKvmBackendConformance(
  { describe, it, expect },
  mockFactory("mock (x86 with SMM: two address spaces)", { addressSpaces: 2 }),
);

describeKvmBackendConformance(
  { describe, it, expect },
  mockFactory("mock (no KVM_CAP_IOEVENTFD)", { ioeventfd: false }),
);

describeKvmBackendConformance(
  { describe, it, expect },
  mockFactory("mock (Linux 6.1: the coalesced ring's unsigned room check)", { coalescedRingModuloBug: true }),
);
