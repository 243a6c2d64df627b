import { describeKvmVmConformance } from "@memtopo/kvm/testing";
import { describe, expect, it } from "vitest";
import { NativeKvm } from "../src/index.js";
import { kvm } from "./helpers.js";

// The vCPU and interrupt conformance suite of @memtopo/kvm/testing on /dev/kvm: the same
// cases kvm-mock runs on its interpreter (its test/vm-conformance.test.ts). Skipped with
// the reason where /dev/kvm is missing; the nested-KVM harness runs it for real.
describe.skipIf(!kvm.ok)("vCPU and interrupt conformance on /dev/kvm", () => {
  describeKvmVmConformance(
    { describe, it, expect },
    {
      name: "native /dev/kvm",
      async create() {
        const vm = NativeKvm.open();
        return {
          vm,
          system: vm,
          createVcpu: (id) => vm.createVcpu(id),
          ram: vm.ramAllocator,
          createEventNotifier: () => vm.createEventNotifier(),
          cleanup: () => vm.close(),
        };
      },
    },
  );
});
