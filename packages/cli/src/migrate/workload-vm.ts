import { attachKvm } from "@memtopo/kvm";
import { MockKvm, type MockVcpu } from "@memtopo/kvm-mock";
import { type MigratableMachine, ramBlocksOf } from "@memtopo/migration";
import { buildWorkloadMachine, enterWorkload, type WorkloadMachine } from "@memtopo/migration/workload";
import { MemorySystem } from "memtopo";

/** Instructions the mock vCPU runs per KVM_RUN before it returns as if kicked: the demo's unit of guest time. */
export const SLICE_INSTRUCTIONS = 100;

/** One VM running the migration workload on the mock kernel (a real-mode interpreter runs the guest). */
export interface WorkloadVm {
  readonly kvm: MockKvm;
  readonly machine: WorkloadMachine;
  readonly vcpu: MockVcpu;
  readonly migratable: MigratableMachine;
}

export function workloadVm(options: { passLimit?: number } = {}): WorkloadVm {
  const kvm = new MockKvm({ vcpuTimeslice: SLICE_INSTRUCTIONS });
  const system = new MemorySystem({ ramAllocator: kvm.ramAllocator(), accel: "kvm" });
  const machine = buildWorkloadMachine(system, options);
  attachKvm(system, kvm, { memory: machine.memory });
  const vcpu = kvm.createVcpu(0);
  enterWorkload(vcpu);
  return {
    kvm,
    machine,
    vcpu,
    migratable: { system, ramBlocks: ramBlocksOf([machine.memory]), vcpus: [vcpu], devices: [machine.chipset] },
  };
}
