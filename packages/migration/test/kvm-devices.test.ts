import { attachKvm, type IrqchipId, type PitState } from "@memtopo/kvm";
import { MockKvm } from "@memtopo/kvm-mock";
import { MemorySystem } from "memtopo";
import { describe, expect, it } from "vitest";
import { kvmDeviceModels, loadSnapshot, type MigratableMachine, ramBlocksOf, saveSnapshot } from "../src/index.js";
import { buildWorkloadMachine, enterWorkload, runWorkload } from "../src/workload/index.js";

const CHIPS: IrqchipId[] = ["pic-master", "pic-slave", "ioapic"];

/** The workload machine on a mock VM with the in-kernel irqchip and PIT (made before the vCPU, as KVM requires). */
function machineWithKernelDevices() {
  const kvm = new MockKvm({ vcpuTimeslice: 1_000_000 });
  kvm.createIrqchip();
  kvm.createPit2();
  const system = new MemorySystem({ ramAllocator: kvm.ramAllocator(), accel: "kvm" });
  const machine = buildWorkloadMachine(system, { passLimit: 6 });
  attachKvm(system, kvm, { memory: machine.memory });
  const vcpu = kvm.createVcpu(0);
  enterWorkload(vcpu);
  const now = () => BigInt(kvm.virtualTime);
  const migratable: MigratableMachine = {
    system,
    ramBlocks: ramBlocksOf([machine.memory]),
    vcpus: [vcpu],
    devices: [machine.chipset, ...kvmDeviceModels(kvm, { irqchip: true, pit: true, clock: true, now })],
  };
  return { kvm, machine, vcpu, migratable };
}

describe("in-kernel devices in the stream (QEMU's kvm-i8259, kvm-ioapic, kvm-pit, kvmclock state)", () => {
  it("a snapshot carries the PICs, the IOAPIC, the PIT (its load times as ages) and kvmclock to a fresh VM", () => {
    const source = machineWithKernelDevices();
    runWorkload(source.vcpu, { passes: 2 });
    // The state a guest's firmware leaves: PICs initialised at vectors 0x08/0x70, masks, an IOAPIC entry, PIT channel 0 in mode 2.
    const master = source.kvm.getIrqchip("pic-master");
    if (master.chip !== "pic-master") throw new Error("unreachable");
    source.kvm.setIrqchip({ chip: "pic-master", pic: { ...master.pic, irqBase: 0x08, imr: 0xb8, elcr: 0x20 } });
    const ioapic = source.kvm.getIrqchip("ioapic");
    if (ioapic.chip !== "ioapic") throw new Error("unreachable");
    const redirections = ioapic.ioapic.redirections.map((r, i) => (i === 2 ? { ...r, vector: 0x30, mask: 0 } : r));
    source.kvm.setIrqchip({ chip: "ioapic", ioapic: { ...ioapic.ioapic, id: 0, redirections } });
    const pit = source.kvm.getPit2();
    const programmed: PitState = {
      ...pit,
      channels: [
        { ...pit.channels[0], mode: 2, rwMode: 3, count: 1193, countLoadTime: 5_000n },
        pit.channels[1],
        pit.channels[2],
      ],
    };
    source.kvm.setPit2(programmed);
    runWorkload(source.vcpu, { passes: 1 });
    const savedAt = BigInt(source.kvm.virtualTime);
    const chips = CHIPS.map((c) => source.kvm.getIrqchip(c));
    const pitAtSave = source.kvm.getPit2();
    const clockAtSave = source.kvm.getClock().clock;
    const { bytes } = saveSnapshot(source.migratable);

    const restored = machineWithKernelDevices();
    runWorkload(restored.vcpu, { slices: 1 }); // its own clock has moved on: load times must be rebased
    const loadedAt = BigInt(restored.kvm.virtualTime);
    expect(loadedAt).not.toBe(savedAt);
    loadSnapshot(restored.migratable, bytes);
    expect(CHIPS.map((c) => restored.kvm.getIrqchip(c))).toEqual(chips);
    const pitLoaded = restored.kvm.getPit2();
    for (let i = 0; i < 3; i++) {
      const { countLoadTime: a, ...before } = pitAtSave.channels[i]!;
      const { countLoadTime: b, ...after } = pitLoaded.channels[i]!;
      expect(after).toEqual(before);
      expect(loadedAt - b, `channel ${i}: the same age`).toBe(savedAt - a);
    }
    expect(restored.kvm.getClock().clock).toBe(clockAtSave);
    // The guest goes on and finishes as an uninterrupted run of the same passes would.
    expect(runWorkload(restored.vcpu, {})).toMatchObject({ stop: "checksum", pass: 6 });
  });

  it("refuses a state that is not the destination's shape before setting anything", () => {
    const m = machineWithKernelDevices();
    const [irqchip, pit, clock] = kvmDeviceModels(m.kvm, { irqchip: true, pit: true, clock: true });
    const chips = irqchip!.save() as unknown as Record<string, unknown>[];
    const before = CHIPS.map((c) => m.kvm.getIrqchip(c));
    const bad: unknown[] = [
      null,
      chips.slice(0, 2),
      [chips[1], chips[0], chips[2]],
      chips.map((c, i) => (i === 0 ? { ...c, pic: { ...(c.pic as object), imr: -1 } } : c)),
      chips.map((c, i) => (i === 0 ? { ...c, pic: { ...(c.pic as object), imr: 1.5 } } : c)),
      chips.map((c, i) => (i === 2 ? { ...c, ioapic: { ...(c.ioapic as object), baseAddress: 1 } } : c)),
      chips.map((c, i) => (i === 0 ? { ...c, extra: 1 } : c)),
    ];
    for (const state of bad) expect(() => irqchip!.prepareLoad(state as never, 1)).toThrow();
    expect(CHIPS.map((c) => m.kvm.getIrqchip(c))).toEqual(before);
    const p = pit!.save() as { channels: unknown[] };
    expect(() => pit!.prepareLoad({ ...p, channels: p.channels.slice(1) } as never, 1)).toThrow(/3 entries/);
    expect(() => clock!.prepareLoad({ clock: 5 } as never, 1)).toThrow(/u64/);
    expect(() => clock!.prepareLoad({ clock: -1n } as never, 1)).toThrow(/u64/);
  });
});
