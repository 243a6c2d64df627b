import { attachKvm, KVM_DIRTY_LOG_INITIALLY_SET, KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE } from "@memtopo/kvm";
import { MockKvm, type MockVcpu } from "@memtopo/kvm-mock";
import { MemorySystem } from "memtopo";
import { type MigratableMachine, ramBlocksOf } from "../src/index.js";
import { buildWorkloadMachine, enterWorkload, type WorkloadMachine } from "../src/workload/index.js";

/** The workload machine on the mock kernel, with its vCPU at the guest's entry. */
export interface MockWorkload {
  readonly kvm: MockKvm;
  readonly machine: WorkloadMachine;
  readonly vcpu: MockVcpu;
  readonly migratable: MigratableMachine;
  readonly attachment: ReturnType<typeof attachKvm<import("memtopo").AddressSpace>>;
}

/** The kernel's three ways of reporting dirty pages (docs/dirty-tracking.md). */
export const DIRTY_MODES = ["bitmap", "manual-protect", "manual-protect-initially-set", "ring"] as const;
export type DirtyMode = (typeof DIRTY_MODES)[number];

export function mockWorkload(
  options: { passLimit?: number; timeslice?: number; mode?: DirtyMode; ringBytes?: number } = {},
): MockWorkload {
  const kvm = new MockKvm({ vcpuTimeslice: options.timeslice ?? 1_000_000 });
  const mode = options.mode ?? "bitmap";
  if (mode === "manual-protect") kvm.enableDirtyLogManualProtect(KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE);
  if (mode === "manual-protect-initially-set") {
    kvm.enableDirtyLogManualProtect(KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET);
  }
  if (mode === "ring") kvm.enableDirtyLogRing(options.ringBytes ?? 64 * 1024);
  const system = new MemorySystem({ ramAllocator: kvm.ramAllocator(), accel: "kvm" });
  const machine = buildWorkloadMachine(system, options.passLimit === undefined ? {} : { passLimit: options.passLimit });
  const attachment = attachKvm(system, kvm, { memory: machine.memory });
  const vcpu = kvm.createVcpu(0);
  enterWorkload(vcpu);
  const migratable: MigratableMachine = {
    system,
    ramBlocks: ramBlocksOf([machine.memory]),
    vcpus: [vcpu],
    devices: [machine.chipset],
  };
  return { kvm, machine, vcpu, migratable, attachment };
}

/** Every page of every RAM block of `a` equal to `b`'s: the first difference, or null. */
export function firstDifference(a: MigratableMachine, b: MigratableMachine): string | null {
  for (const [i, mr] of a.ramBlocks.entries()) {
    const other = b.ramBlocks[i]!;
    const x = mr.ramBlock!.bytes();
    const y = other.ramBlock!.bytes();
    if (x.length !== y.length) return `${mr.name}: ${x.length} bytes against ${y.length}`;
    for (let page = 0; page < x.length; page += 4096) {
      if (Buffer.compare(x.subarray(page, page + 4096), y.subarray(page, page + 4096)) !== 0) {
        return `${mr.name} page 0x${page.toString(16)}`;
      }
    }
  }
  return null;
}
