import { attachKvm } from "@memtopo/kvm";
import { isAvailable, NativeKvm } from "@memtopo/kvm-native";
import { MemorySystem } from "memtopo";
import { afterEach, describe, expect, it } from "vitest";
import {
  DimmSlots,
  IncomingMigration,
  type MigratableMachine,
  OutgoingMigration,
  ramBlocksOf,
  systemDirtyPageSource,
} from "../src/index.js";
import { enterWorkload, runWorkload } from "../src/workload/index.js";
import { firstDifference } from "./helpers.js";
import { HOTPLUG_BASE, hotplugMachine } from "./hotplug-machine.js";

// Rule (QEMU): no RAM is plugged or unplugged while a migration runs (device_add/device_del refused); on /dev/kvm
// the refused request leaves the memslots as they were, the guest's writes to the DIMMs during the migration all
// arrive, and once the migration completed the DIMMs come and go again. Skipped (saying why) without /dev/kvm.
const kvm = isAvailable();
if (!kvm.ok) console.warn(`[migration] hotplug during migration on /dev/kvm skipped: ${kvm.reason}: ${kvm.detail}`);

const open: NativeKvm[] = [];
afterEach(() => {
  for (const vm of open.splice(0)) vm.close();
});

function dimmMachine() {
  const vm = NativeKvm.open();
  open.push(vm);
  const system = new MemorySystem({ ramAllocator: vm.ramAllocator, accel: "kvm" });
  const { memory, area } = hotplugMachine(system);
  attachKvm(system, vm, { memory });
  const vcpu = vm.createVcpu(0);
  enterWorkload(vcpu);
  const dimms = new DimmSlots(system, area, { align: 0x1_0000n });
  const plugged = [dimms.plug("dimm0", 0x3_0000n), dimms.plug("dimm1", 0x4_0000n)];
  const migratable: MigratableMachine = { system, ramBlocks: ramBlocksOf([memory]), vcpus: [] };
  const slots = () => vm.memslots().map((s) => [s.guestPhysAddr, s.memorySize]);
  return { vm, vcpu, dimms, plugged, migratable, slots };
}

describe.skipIf(!kvm.ok)("on /dev/kvm: memory hotplug and a running migration", () => {
  it("plug and unplug are refused between rounds, the memslots stay, the guest's DIMM writes all arrive; afterwards hotplug works", () => {
    const source = dimmMachine();
    const destination = dimmMachine();
    const incoming = new IncomingMigration(destination.migratable);
    const outgoing = new OutgoingMigration(
      source.migratable,
      systemDirtyPageSource(source.migratable.system),
      (c) => incoming.push(c),
      { downtimePages: 0, maxRounds: 5 },
    );
    outgoing.begin();
    // The guest writes a dword into every page of both DIMMs and sums them: every page dirty after round 1.
    expect(runWorkload(source.vcpu, {})).toMatchObject({ stop: "checksum" });
    const slots = source.slots();
    expect(() => source.dimms.plug("late", 0x1_0000n)).toThrow(
      expect.objectContaining({ code: "E_HOTPLUG_MIGRATING" }),
    );
    expect(() => source.dimms.unplug(source.plugged[1]!)).toThrow(
      expect.objectContaining({ code: "E_HOTPLUG_MIGRATING" }),
    );
    expect(source.slots()).toEqual(slots);
    expect(outgoing.iterate()?.sent).toBeGreaterThanOrEqual(0x7_0000 / 0x1000);
    while (outgoing.iterate() !== null);
    outgoing.complete();
    incoming.finish();
    expect(incoming.committed).toBe(true);
    expect(firstDifference(source.migratable, destination.migratable)).toBeNull();

    source.dimms.unplug(source.plugged[1]!);
    expect(source.slots()).toEqual([
      [0n, 0x1_0000n],
      [HOTPLUG_BASE, 0x3_0000n],
    ]);
  });
});
