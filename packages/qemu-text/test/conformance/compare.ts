import { compareMtreePath } from "@memtopo/fixtures";
import { attachKvmByName, type KvmAttachment } from "@memtopo/kvm";
import { MockKvm } from "@memtopo/kvm-mock";
import type { AddressSpace, LoadedMachine } from "memtopo";
import { printMtreeFlat } from "../../src/index.js";

export { caseNames, casesDir, readCase } from "@memtopo/test-support";

interface CompareModule {
  compareTexts(expected: string, actual: string): { equal: boolean; report: string };
}

/** The conformance suite's own block comparison (compare-mtree.mjs, in @memtopo/fixtures). */
export async function compareMtree(expected: string, actual: string): Promise<{ equal: boolean; report: string }> {
  const mod = (await import(compareMtreePath)) as CompareModule;
  return mod.compareTexts(expected, actual);
}

/**
 * `info mtree -f` as QEMU printed it for the machine: under `"accel": "kvm"` the KVM
 * listeners are attached (on the mock kernel, as the CLI does by default) and ranges that
 * a memslot backs exactly end in ` KVM`.
 */
export function printFlatAsQemu(machine: LoadedMachine): string {
  const kvm = attachMockKvm(machine);
  return printMtreeFlat(
    machine.addressSpaces,
    kvm === null
      ? {}
      : { accelHasMemory: (as, start, size) => kvm.hasMemory(as as AddressSpace, start, size), accelName: "KVM" },
  );
}

/** The KVM listeners QEMU registers, on a mock kernel, for a machine whose accel is kvm (else null). */
export function attachMockKvm(machine: LoadedMachine, kernel = new MockKvm()): KvmAttachment<AddressSpace> | null {
  return machine.host.accel === "kvm" ? attachKvmByName(machine.host, kernel, machine.addressSpaces) : null;
}
