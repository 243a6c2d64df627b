import { attachKvmByName, type KvmAttachment, type KvmBackend } from "@memtopo/kvm";
import { MockKvm } from "@memtopo/kvm-mock";
import type { AddressSpace, LoadedMachine } from "memtopo";

/**
 * The KVM listeners QEMU registers, attached to a loaded machine whose accel is kvm (on
 * the mock kernel unless a backend is given), or null for other accelerators.
 */
export function attachMachineKvm(
  machine: LoadedMachine,
  backend: KvmBackend = new MockKvm(),
): KvmAttachment<AddressSpace> | null {
  return machine.host.accel === "kvm" ? attachKvmByName(machine.host, backend, machine.addressSpaces) : null;
}
