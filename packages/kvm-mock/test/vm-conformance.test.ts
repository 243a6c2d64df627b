import { describeKvmVmConformance } from "@memtopo/kvm/testing";
import { describe, expect, it } from "vitest";
import { MockKvm } from "../src/index.js";

// The vCPU and interrupt conformance suite of @memtopo/kvm/testing on the mock; kvm-native
// runs the same cases on /dev/kvm (test/vm-conformance.test.ts there).
describeKvmVmConformance(
  { describe, it, expect },
  {
    name: "mock",
    async create() {
      const vm = new MockKvm();
      return {
        vm,
        system: vm,
        createVcpu: (id) => vm.createVcpu(id),
        ram: vm.ramAllocator(),
        createEventNotifier: () => vm.createEventNotifier(),
        cleanup: () => vm.close(),
      };
    },
  },
);
