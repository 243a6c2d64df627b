import fs from "node:fs";
import { attachKvm } from "@memtopo/kvm";
import { isAvailable, NativeKvm } from "@memtopo/kvm-native";
import { MemoryRegion } from "@memtopo/region-tree";
import { MemorySystem } from "memtopo";
import { afterEach, describe, expect, it } from "vitest";
import {
  DimmSlots,
  type DirtyPageSource,
  IncomingMigration,
  kvmDeviceModels,
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
  WORKLOAD_AREA,
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
    // Each take's pages outside what a pass writes (the 112 of its area and the counters' page 0).
    const dirty = systemDirtyPageSource(source.migratable.system);
    const extras: string[][] = [];
    const recording: DirtyPageSource = {
      start: () => dirty.start(),
      stop: () => dirty.stop(),
      take(blocks, lastStage) {
        const taken = dirty.take(blocks, lastStage);
        const extra: string[] = [];
        for (const [mr, pages] of taken) {
          for (const p of pages) {
            const written =
              mr === source.machine.ram && (p === 0n || (p >= WORKLOAD_AREA.start && p < WORKLOAD_AREA.end));
            if (!written) extra.push(`${mr.name}@0x${p.toString(16)}`);
          }
        }
        extras.push(extra);
        return taken;
      },
    };
    const outgoing = new OutgoingMigration(
      source.migratable,
      recording,
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
    // Round 1: the pages not zero (the area, the counters' page, the code page, the ROM's 16); then a pass's 113,
    // plus the guest's code page (0x1000) in the first pass after each memslot update (rounds 3 and 4: after the
    // PAM toggle, after the BAR move). The guest never writes that page: KVM zaps its stage-2 mappings on a
    // memslot update, the next instruction fetch faults the page in again, and a fault that maps a page writable
    // in a dirty-logging slot marks it dirty (make_spte calls mark_page_dirty_in_slot), even for a fetch. The
    // mock marks pages on writes only, so it counts 113 there.
    expect(outgoing.rounds.map((r) => r.sent)).toEqual([130, 113, 114, 114, 113]);
    expect(extras).toEqual([[], ["pc.ram@0x1000"], ["pc.ram@0x1000"], [], []]);
    expect(firstDifference(source.migratable, destination.migratable)).toBeNull();
    const passes = runWorkload(source.vcpu, { passes: 2 }).pass;
    expect(runWorkload(destination.vcpu, { passes: 2 }).pass).toBe(passes);
    expect(firstDifference(source.migratable, destination.migratable)).toBeNull();
  });

  it("in-kernel PICs, IOAPIC, PIT and kvmclock go through a snapshot into a fresh VM (KVM_GET/SET_IRQCHIP, _PIT2, _CLOCK)", () => {
    const withDevices = () => {
      const vm = NativeKvm.open();
      open.push(vm);
      vm.createIrqchip();
      vm.createPit2();
      const system = new MemorySystem({ ramAllocator: vm.ramAllocator, accel: "kvm" });
      const machine = buildWorkloadMachine(system, { passLimit: 4 });
      attachKvm(system, vm, { memory: machine.memory });
      const vcpu = vm.createVcpu(0);
      enterWorkload(vcpu);
      const migratable: MigratableMachine = {
        system,
        ramBlocks: ramBlocksOf([machine.memory]),
        vcpus: [vcpu],
        devices: [machine.chipset, ...kvmDeviceModels(vm, { irqchip: true, pit: true, clock: true })],
      };
      return { vm, vcpu, migratable };
    };
    const chips = ["pic-master", "pic-slave", "ioapic"] as const;
    const source = withDevices();
    runWorkload(source.vcpu, { passes: 2 });
    const master = source.vm.getIrqchip("pic-master");
    if (master.chip !== "pic-master") throw new Error("unreachable");
    source.vm.setIrqchip({ chip: "pic-master", pic: { ...master.pic, irqBase: 0x08, imr: 0xb8, elcr: 0x20 } });
    const ioapic = source.vm.getIrqchip("ioapic");
    if (ioapic.chip !== "ioapic") throw new Error("unreachable");
    const redirections = ioapic.ioapic.redirections.map((r, i) => (i === 2 ? { ...r, vector: 0x30 } : r));
    source.vm.setIrqchip({ chip: "ioapic", ioapic: { ...ioapic.ioapic, redirections } });
    // Channel 2 (the speaker's, no interrupt) programmed: mode 3, count 1193.
    const pit = source.vm.getPit2();
    source.vm.setPit2({
      ...pit,
      channels: [pit.channels[0], pit.channels[1], { ...pit.channels[2], mode: 3, rwMode: 3, count: 1193 }],
    });
    // A guest clock far from a fresh VM's (which starts near 0), so that the restored value shows.
    source.vm.setClock({ clock: 1_000_000_000_000n, flags: 0 });
    const state = chips.map((c) => source.vm.getIrqchip(c));
    const pitAtSave = source.vm.getPit2();
    const { bytes } = saveSnapshot(source.migratable);
    const clockAtSave = source.vm.getClock().clock;

    const restored = withDevices();
    loadSnapshot(restored.migratable, bytes);
    const clockLoaded = restored.vm.getClock().clock;
    expect(chips.map((c) => restored.vm.getIrqchip(c))).toEqual(state);
    // KVM_SET_PIT2 reloads each channel's count, so the kernel stamps its own load time.
    const withoutTimes = (p: typeof pitAtSave) => p.channels.map(({ countLoadTime: _, ...c }) => c);
    expect(withoutTimes(restored.vm.getPit2())).toEqual(withoutTimes(pitAtSave));
    expect(restored.vm.getPit2().channels[2]).toMatchObject({ mode: 3, count: 1193 });
    // kvmclock goes on from the saved value (read during the save, just before clockAtSave; it runs while loading).
    expect(clockAtSave).toBeGreaterThanOrEqual(1_000_000_000_000n);
    expect(clockLoaded).toBeGreaterThanOrEqual(clockAtSave - 1_000_000_000n);
    expect(clockLoaded).toBeLessThan(clockAtSave + 60_000_000_000n);
    expect(runWorkload(restored.vcpu, {})).toMatchObject({ stop: "checksum", pass: 4 });
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

  it("virtio-mem blocks: one memslot for adjacent plugged blocks, a split one after an unplug, the guest sums what is plugged, unplugged blocks return host memory", () => {
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
    expect(mem.memory.ramBlock!.bytesAt(0x3_0000n, 0x1_0000).every((b) => b === 0)).toBe(true);

    // Host memory: 64 MiB of 2 MiB blocks above 4 GiB, touched, then 48 MiB unplugged (virtio_mem_unplug_sb
    // discards them: a hole in the memfd, the pages dropped): RSS falls, the blocks read zero.
    const big = new VirtioMem(system, { name: "virtio-mem1", size: 64n << 20n, blockSize: 2n << 20n });
    memory.root!.addSubregion(1n << 32n, big.region);
    big.plug(0n, 64n << 20n);
    const before = rssKiB();
    big.memory.ramBlock!.bytes().fill(0x5a);
    const touched = rssKiB();
    expect(touched - before).toBeGreaterThan(60 * 1024);
    big.unplug(8n << 20n, 48n << 20n);
    expect(touched - rssKiB()).toBeGreaterThan(44 * 1024);
    expect(
      vm
        .memslots()
        .filter((s) => s.guestPhysAddr >= 1n << 32n)
        .map((s) => [s.guestPhysAddr, s.memorySize]),
    ).toEqual([
      [1n << 32n, 8n << 20n],
      [(1n << 32n) + (56n << 20n), 8n << 20n],
    ]);
    const bytes = big.memory.ramBlock!.bytes();
    expect(bytes.subarray(8 << 20, 56 << 20).every((b) => b === 0)).toBe(true);
    expect([bytes[(8 << 20) - 1], bytes[56 << 20]]).toEqual([0x5a, 0x5a]);
  });
});

function workloadChecksumOf(bytes: Uint8Array): number {
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  let sum = 0;
  for (const w of words) sum = (sum + w) >>> 0;
  return sum;
}
