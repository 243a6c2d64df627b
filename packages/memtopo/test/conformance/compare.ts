import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { casesDir } from "@memtopo/fixtures";
import { attachKvmByName, type KvmAttachment } from "@memtopo/kvm";
import { MockKvm } from "@memtopo/kvm-mock";
import type { AddressSpace, LoadedMachine } from "../../src/index.js";

export { casesDir };

export function caseNames(): string[] {
  return readdirSync(casesDir).sort();
}

export function readCase(name: string, file: string): string {
  return readFileSync(path.join(casesDir, name, file), "utf8");
}

/** The KVM listeners QEMU registers, on a mock kernel, for a machine whose accel is kvm (else null). */
export function attachMockKvm(machine: LoadedMachine, kernel = new MockKvm()): KvmAttachment<AddressSpace> | null {
  return machine.host.accel === "kvm" ? attachKvmByName(machine.host, kernel, machine.addressSpaces) : null;
}
