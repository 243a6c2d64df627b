import { attachKvm, type KvmAttachment, type KvmBackend } from "@memtopo/kvm";
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
  if (machine.host.accel !== "kvm") return null;
  const space = (name: string) => machine.addressSpaces.find((as) => as.name === name);
  const memory = space("memory");
  if (memory === undefined) return null;
  const io = space("I/O");
  const smram = space("KVM-SMRAM");
  return attachKvm(machine.host, backend, {
    memory,
    ...(io === undefined ? {} : { io }),
    ...(smram === undefined ? {} : { smram }),
  });
}
