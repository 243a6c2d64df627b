import { attachKvm, type KvmVcpu, type KvmVm } from "@memtopo/kvm";
import { MockKvm } from "@memtopo/kvm-mock";
import { NativeKvm } from "@memtopo/kvm-native";
import { type MigratableMachine, ramBlocksOf } from "@memtopo/migration";
import { buildWorkloadMachine, enterWorkload, type WorkloadMachine } from "@memtopo/migration/workload";
import type { RamAllocator } from "@memtopo/region-tree";
import { MemorySystem } from "memtopo";
import type { WorkloadBackend } from "./backend.js";

/** Instructions the mock vCPU runs per KVM_RUN before it returns as if kicked: the demo's unit of guest time. */
export const SLICE_INSTRUCTIONS = 100;

/** One VM running the migration workload: on the mock kernel (a real-mode interpreter runs the guest) or on /dev/kvm. */
export interface WorkloadVm {
  readonly backend: WorkloadBackend;
  readonly kvm: KvmVm;
  readonly machine: WorkloadMachine;
  readonly vcpu: KvmVcpu;
  readonly migratable: MigratableMachine;
  close(): void;
}

export function workloadVm(options: { passLimit?: number; backend?: WorkloadBackend } = {}): WorkloadVm {
  let kvm: KvmVm;
  let ramAllocator: RamAllocator;
  if (options.backend === "native") {
    const native = NativeKvm.open();
    kvm = native;
    ramAllocator = native.ramAllocator;
  } else {
    const mock = new MockKvm({ vcpuTimeslice: SLICE_INSTRUCTIONS });
    kvm = mock;
    ramAllocator = mock.ramAllocator();
  }
  const system = new MemorySystem({ ramAllocator, accel: "kvm" });
  const machine = buildWorkloadMachine(system, options.passLimit === undefined ? {} : { passLimit: options.passLimit });
  attachKvm(system, kvm, { memory: machine.memory });
  const vcpu = kvm.createVcpu(0);
  enterWorkload(vcpu);
  return {
    backend: options.backend ?? "mock",
    kvm,
    machine,
    vcpu,
    migratable: { system, ramBlocks: ramBlocksOf([machine.memory]), vcpus: [vcpu], devices: [machine.chipset] },
    close: () => kvm.close(),
  };
}
