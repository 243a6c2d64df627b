import fs from "node:fs";
import { attachKvm } from "@memtopo/kvm";
import { isAvailable, NativeKvm } from "@memtopo/kvm-native";
import { MemoryRegion } from "@memtopo/region-tree";
import { MemorySystem } from "memtopo";
import { afterEach, describe, expect, it } from "vitest";
import {
  DimmSlots,
  IncomingMigration,
  loadSnapshot,
  type MigratableMachine,
  OutgoingMigration,
  type RoundReport,
  ramBlocksOf,
  saveSnapshot,
  systemDirtyPageSource,
  VirtioMem,
} from "../src/index.js";
import {
  buildWorkloadMachine,
  enterWorkload,
  runWorkload,
  WORKLOAD_BAR_ADDRS,
  type WorkloadMachine,
  workloadChecksum,
} from "../src/workload/index.js";
import { firstDifference } from "./helpers.js";
import { HOTPLUG_BASE, HOTPLUG_SIZE, hotplugMachine } from "./hotplug-machine.js";

// Real guests on /dev/kvm: skipped (saying why) where there is none; the nested-KVM harness runs them.
const kvm = isAvailable();
if (!kvm.ok) console.warn(`[migration] /dev/kvm tests skipped: ${kvm.reason}: ${kvm.detail}`);

const open: NativeKvm[] = [];
afterEach(() => {
  for (const vm of open.splice(0)) vm.close();
});

function nativeWorkload(passLimit?: number) {
  const vm = NativeKvm.open();
  open.push(vm);
  const system = new MemorySystem({ ramAllocator: vm.ramAllocator, accel: "kvm" });
  const machine: WorkloadMachine = buildWorkloadMachine(system, passLimit === undefined ? {} : { passLimit });
  attachKvm(system, vm, { memory: machine.memory });
  const vcpu = vm.createVcpu(0);
  enterWorkload(vcpu);
  const migratable: MigratableMachine = {
    system,
    ramBlocks: ramBlocksOf([machine.memory]),
    vcpus: [vcpu],
    devices: [machine.chipset],
  };
  return { vm, machine, vcpu, migratable };
}

function rssKiB(): number {
  return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync("/proc/self/status", "utf8"))![1]);
}

describe.skipIf(!kvm.ok)("on /dev/kvm: snapshots, live migration and hotplug with real vCPUs", () => {
  it("snapshot, restore into a fresh VM, continue: the guest's own checksum equals an uninterrupted run's", () => {
    const straight = nativeWorkload(5);
    const reference = runWorkload(straight.vcpu, {});
    expect(reference).toMatchObject({ stop: "checksum", pass: 5 });
    expect(reference.checksum).toBe(workloadChecksum(straight.machine.ram));

    const source = nativeWorkload(5);
    expect(runWorkload(source.vcpu, { passes: 3 })).toMatchObject({ pass: 3 });
    source.machine.setPam(true);
    source.machine.moveBar(WORKLOAD_BAR_ADDRS[1]);
    const { bytes } = saveSnapshot(source.migratable);
    const restored = nativeWorkload(5);
    loadSnapshot(restored.migratable, bytes);
    expect(firstDifference(source.migratable, restored.migratable)).toBeNull();
    expect(restored.machine.barAddr).toBe(WORKLOAD_BAR_ADDRS[1]);
    expect(runWorkload(restored.vcpu, {})).toEqual({ stop: "checksum", pass: 5, checksum: reference.checksum });
  });

  it("pre-copy between two VMs with a PAM toggle and a BAR move between rounds: every page equal, the guest goes on", () => {
    const source = nativeWorkload();
    const destination = nativeWorkload();
    runWorkload(source.vcpu, { passes: 2 });
    const incoming = new IncomingMigration(destination.migratable);
    const outgoing = new OutgoingMigration(
      source.migratable,
      systemDirtyPageSource(source.migratable.system),
      (c) => incoming.push(c),
      // One pass dirties 113 pages (the 112 of its area and its counter's): the budget is never met, the round cap stops the guest.
      { downtimePages: 8, maxRounds: 4 },
    );
    let round: RoundReport | null = outgoing.begin();
    while (round !== null) {
      runWorkload(source.vcpu, { passes: 1 });
      if (round.round === 1) source.machine.setPam(true);
      if (round.round === 2) source.machine.moveBar(WORKLOAD_BAR_ADDRS[1]);
      round = outgoing.iterate();
    }
    outgoing.complete();
    incoming.finish();
    expect(incoming.committed).toBe(true);
    // Round 1: the pages not zero (the area, the counters' page, the code page, the ROM's 16); then at least a
    // pass's 113 each (the nested run counted 114 in rounds 3 and 4, after the PAM toggle: one page more than the
    // mock; which page is not known yet).
    const sent = outgoing.rounds.map((r) => r.sent);
    expect(sent[0]).toBe(130);
    expect(sent).toHaveLength(5);
    for (const n of sent.slice(1)) expect(n).toBeGreaterThanOrEqual(113);
    expect(firstDifference(source.migratable, destination.migratable)).toBeNull();
    const passes = runWorkload(source.vcpu, { passes: 2 }).pass;
    expect(runWorkload(destination.vcpu, { passes: 2 }).pass).toBe(passes);
    expect(firstDifference(source.migratable, destination.migratable)).toBeNull();
  });

  it("DIMM hotplug: memslots follow, the guest writes and sums the new RAM, unplug deletes the slot and returns host memory", () => {
    const vm = NativeKvm.open();
    open.push(vm);
    const system = new MemorySystem({ ramAllocator: vm.ramAllocator, accel: "kvm" });
    const { memory, area } = hotplugMachine(system);
    attachKvm(system, vm, { memory });
    const vcpu = vm.createVcpu(0);
    enterWorkload(vcpu);
    const dimms = new DimmSlots(system, area, { align: 0x1_0000n });
    const d0 = dimms.plug("dimm0", 0x3_0000n);
    const d1 = dimms.plug("dimm1", 0x4_0000n);
    const slots = () => vm.memslots().map((s) => [s.guestPhysAddr, s.memorySize]);
    expect(slots()).toEqual([
      [0n, 0x1_0000n],
      [HOTPLUG_BASE, 0x3_0000n],
      [HOTPLUG_BASE + 0x3_0000n, 0x4_0000n],
    ]);
    const run = runWorkload(vcpu, { passes: 5 });
    const words = (b: Uint8Array) => new Uint32Array(b.buffer, b.byteOffset, b.length / 4);
    let sum = 0;
    for (const b of [d0.ramBlock!.bytes(), d1.ramBlock!.bytes()]) for (const w of words(b)) sum = (sum + w) >>> 0;
    expect(run).toMatchObject({ stop: "checksum", checksum: sum });
    dimms.unplug(d1);
    expect(slots()).toEqual([
      [0n, 0x1_0000n],
      [HOTPLUG_BASE, 0x3_0000n],
    ]);

    // Host memory: a 64 MiB DIMM in a device-memory area above 4 GiB, touched, then unplugged.
    const high = new MemoryRegion(system, { kind: "container", name: "device-memory-high", size: 1n << 30n });
    memory.root!.addSubregion(1n << 32n, high);
    const highSlots = new DimmSlots(system, high);
    const big = highSlots.plug("dimm-big", 64n << 20n);
    const before = rssKiB();
    big.ramBlock!.bytes().fill(0x5a);
    const touched = rssKiB();
    expect(touched - before).toBeGreaterThan(60 * 1024);
    expect(vm.memslots().some((s) => s.guestPhysAddr === 1n << 32n)).toBe(true);
    highSlots.unplug(big);
    expect(vm.memslots().some((s) => s.guestPhysAddr === 1n << 32n)).toBe(false);
    expect(touched - rssKiB()).toBeGreaterThan(60 * 1024);
  });

  it("virtio-mem blocks: one memslot for adjacent plugged blocks, a split one after an unplug, the guest sums what is plugged", () => {
    const vm = NativeKvm.open();
    open.push(vm);
    const system = new MemorySystem({ ramAllocator: vm.ramAllocator, accel: "kvm" });
    const { memory, area } = hotplugMachine(system);
    attachKvm(system, vm, { memory });
    const vcpu = vm.createVcpu(0);
    enterWorkload(vcpu);
    const mem = new VirtioMem(system, { name: "virtio-mem0", size: HOTPLUG_SIZE, blockSize: 0x1_0000n });
    area.addSubregion(0n, mem.region);
    mem.plug(0n, HOTPLUG_SIZE);
    const slots = () => vm.memslots().map((s) => [s.guestPhysAddr, s.memorySize]);
    expect(slots()).toEqual([
      [0n, 0x1_0000n],
      [HOTPLUG_BASE, HOTPLUG_SIZE],
    ]);
    const run = runWorkload(vcpu, { passes: 5 });
    expect(run.checksum).toBe(workloadChecksumOf(mem.memory.ramBlock!.bytes()));
    mem.unplug(0x3_0000n, 0x1_0000n);
    expect(slots()).toEqual([
      [0n, 0x1_0000n],
      [HOTPLUG_BASE, 0x3_0000n],
      [HOTPLUG_BASE + 0x4_0000n, 0x3_0000n],
    ]);
  });
});

function workloadChecksumOf(bytes: Uint8Array): number {
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  let sum = 0;
  for (const w of words) sum = (sum + w) >>> 0;
  return sum;
}
