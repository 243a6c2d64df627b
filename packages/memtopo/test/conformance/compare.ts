import { attachKvmByName, type KvmAttachment } from "@memtopo/kvm";
import { MockKvm } from "@memtopo/kvm-mock";
import type { AddressSpace, LoadedMachine } from "../../src/index.js";

export { caseNames, casesDir, readCase } from "@memtopo/test-support";

/** The KVM listeners QEMU registers, on a mock kernel, for a machine whose accel is kvm (else null). */
export function attachMockKvm(machine: LoadedMachine, kernel = new MockKvm()): KvmAttachment<AddressSpace> | null {
  return machine.host.accel === "kvm" ? attachKvmByName(machine.host, kernel, machine.addressSpaces) : null;
}
