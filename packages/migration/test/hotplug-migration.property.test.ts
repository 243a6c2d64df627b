import { fc, test } from "@fast-check/vitest";
import type { MemoryRegion } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import {
  DimmSlots,
  IncomingMigration,
  type MigratableMachine,
  OutgoingMigration,
  ramBlocksOf,
  systemDirtyPageSource,
  VirtioMem,
} from "../src/index.js";
import { firstDifference } from "./helpers.js";
import { HOTPLUG_BASE, HOTPLUG_SIZE, mockHotplugMachine } from "./hotplug-machine.js";

// Rule (QEMU): RAM is neither plugged nor unplugged while a migration runs. pc-dimm's device_add and device_del
// fail while migration is not idle, and virtio-mem answers plug/unplug requests BUSY; so the DIMM set is fixed
// from the first round to the completion, the refused request changes nothing (map, memslots, RAM), and the
// migration loses no page. Between migrations the DIMMs come and go, and their memslots follow.

const BLOCK = 0x1_0000n;
const PAGE = 0x1000n;

type Machine = ReturnType<typeof mockHotplugMachine>;
const slotsOf = (m: Machine) => m.kvm.memslots().map((s) => [s.slot, s.guestPhysAddr, s.memorySize, s.userspaceAddr]);

function migratable(m: Machine): MigratableMachine {
  return { system: m.system, ramBlocks: ramBlocksOf([m.memory]), vcpus: [] };
}

type Plan = { addr: bigint; blocks: number };
type Step =
  | { kind: "write"; dimm: number; page: number; at: number; value: number }
  | { kind: "iterate" }
  | { kind: "plug"; blocks: number }
  | { kind: "unplug"; dimm: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("write" as const),
      dimm: fc.nat(7),
      page: fc.nat(63),
      at: fc.nat(1023),
      value: fc.integer({ min: 1, max: 0xffff_ffff }),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: "iterate" as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("plug" as const), blocks: fc.integer({ min: 1, max: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("unplug" as const), dimm: fc.nat(7) }) },
);

/** DIMMs of whole 64 KiB blocks at block-aligned places of the 448 KiB area, without overlap. */
const plans: fc.Arbitrary<Plan[]> = fc
  .array(fc.record({ block: fc.nat(6), blocks: fc.integer({ min: 1, max: 3 }) }), { maxLength: 5 })
  .map((wanted) => {
    const taken = new Array<boolean>(7).fill(false);
    const out: Plan[] = [];
    for (const w of wanted) {
      const end = Math.min(7, w.block + w.blocks);
      if (taken.slice(w.block, end).some(Boolean)) continue;
      for (let b = w.block; b < end; b++) taken[b] = true;
      out.push({ addr: BigInt(w.block) * BLOCK, blocks: end - w.block });
    }
    return out;
  });

function plugAll(m: Machine, plan: Plan[]): { dimms: DimmSlots; plugged: MemoryRegion[] } {
  const dimms = new DimmSlots(m.system, m.area, { align: BLOCK });
  const plugged = plan.map((p, i) => dimms.plug(`dimm${i}`, BigInt(p.blocks) * BLOCK, p.addr));
  return { dimms, plugged };
}

describe("memory hotplug and a running migration", () => {
  test.prop([plans, fc.array(step, { maxLength: 50 }), fc.nat(8)], { numRuns: 30 })(
    "plug and unplug requests between rounds are refused and change nothing; no page is lost; afterwards the DIMMs come and go again",
    (plan, steps, downtimePages) => {
      const source = mockHotplugMachine();
      const destination = mockHotplugMachine();
      const from = plugAll(source, plan);
      plugAll(destination, plan);
      const out = migratable(source);
      const oracle = new Map(out.ramBlocks.map((mr) => [mr.name!, mr.ramBlock!.bytes().slice()]));
      const into = migratable(destination);
      const incoming = new IncomingMigration(into);
      const outgoing = new OutgoingMigration(out, systemDirtyPageSource(source.system), (c) => incoming.push(c), {
        downtimePages,
        maxRounds: 1000,
      });
      outgoing.begin();
      let converged = false;
      for (const s of steps) {
        if (s.kind === "iterate") {
          if (!converged) converged = outgoing.iterate() === null;
        } else if (s.kind === "write") {
          if (from.plugged.length === 0) continue;
          const dimm = from.plugged[s.dimm % from.plugged.length]!;
          const offset = (BigInt(s.page) * PAGE) % dimm.size;
          const at = offset + BigInt(s.at * 4);
          expect(source.kvm.guestWrite(HOTPLUG_BASE + dimm.addr + at, s.value, 4).kind).toBe("ram");
          new DataView(oracle.get(dimm.name!)!.buffer).setUint32(Number(at), s.value, true);
        } else {
          const slots = slotsOf(source);
          const dimmsBefore = from.dimms.dimms;
          const request = () =>
            s.kind === "plug"
              ? from.dimms.plug("late", BigInt(s.blocks) * BLOCK)
              : from.plugged.length > 0
                ? from.dimms.unplug(from.plugged[s.dimm % from.plugged.length]!)
                : from.dimms.plug("late", BLOCK);
          // Refused before anything else is looked at (room, place), as QEMU's device_add.
          expect(request).toThrow(expect.objectContaining({ code: "E_HOTPLUG_MIGRATING" }));
          expect(slotsOf(source)).toEqual(slots);
          expect(from.dimms.dimms).toEqual(dimmsBefore);
        }
      }
      outgoing.complete();
      incoming.finish();
      expect(incoming.committed).toBe(true);
      for (const mr of into.ramBlocks) {
        expect(Buffer.compare(mr.ramBlock!.bytes(), oracle.get(mr.name!)!), mr.name!).toBe(0);
      }
      expect(firstDifference(out, into)).toBeNull();

      // The migration over, hotplug works again and the memslots follow.
      if (from.plugged.length > 0) {
        const gone = from.plugged[0]!;
        from.dimms.unplug(gone);
        expect(slotsOf(source).some(([, gpa]) => gpa === HOTPLUG_BASE + gone.addr)).toBe(false);
      }
      const free = [0n, 1n, 2n, 3n, 4n, 5n, 6n]
        .map((b) => b * BLOCK)
        .find((a) => from.dimms.dimms.every((d) => a < d.addr || a >= d.addr + d.size));
      if (free !== undefined) {
        const late = from.dimms.plug("late", BLOCK, free);
        expect(slotsOf(source).some(([, gpa, size]) => gpa === HOTPLUG_BASE + late.addr && size === BLOCK)).toBe(true);
      }
    },
  );

  it("a refused plug is refused for the migration alone: the same request succeeds once the migration completed", () => {
    const source = mockHotplugMachine();
    const destination = mockHotplugMachine();
    const dimms = new DimmSlots(source.system, source.area, { align: BLOCK });
    const incoming = new IncomingMigration(migratable(destination));
    const outgoing = new OutgoingMigration(
      migratable(source),
      systemDirtyPageSource(source.system),
      (c) => incoming.push(c),
      { downtimePages: 0 },
    );
    outgoing.begin();
    expect(() => dimms.plug("dimm0", BLOCK)).toThrow(expect.objectContaining({ code: "E_HOTPLUG_MIGRATING" }));
    outgoing.complete();
    incoming.finish();
    expect(incoming.committed).toBe(true);
    const dimm = dimms.plug("dimm0", BLOCK);
    expect(slotsOf(source).map(([, gpa, size]) => [gpa, size])).toEqual([
      [0n, 0x1_0000n],
      [HOTPLUG_BASE + dimm.addr, BLOCK],
    ]);
  });

  it("virtio-mem: plug and unplug requests while the migration runs are refused (QEMU answers BUSY), the plugged blocks and memslots stay", () => {
    const source = mockHotplugMachine();
    const destination = mockHotplugMachine();
    const mems = [source, destination].map((m) => {
      const mem = new VirtioMem(m.system, { name: "virtio-mem0", size: HOTPLUG_SIZE, blockSize: BLOCK });
      m.area.addSubregion(0n, mem.region);
      mem.plug(0n, 3n * BLOCK);
      return mem;
    });
    const mem = mems[0]!;
    mem.memory.ramBlock!.bytes().fill(0xa5, 0, 3 * Number(BLOCK));
    const incoming = new IncomingMigration(migratable(destination));
    const outgoing = new OutgoingMigration(
      migratable(source),
      systemDirtyPageSource(source.system),
      (c) => incoming.push(c),
      { downtimePages: 0 },
    );
    outgoing.begin();
    const slots = slotsOf(source);
    expect(() => mem.plug(4n * BLOCK, BLOCK)).toThrow(expect.objectContaining({ code: "E_HOTPLUG_MIGRATING" }));
    expect(() => mem.unplug(BLOCK, BLOCK)).toThrow(expect.objectContaining({ code: "E_HOTPLUG_MIGRATING" }));
    expect(mem.plugged).toEqual([true, true, true, false, false, false, false]);
    expect(slotsOf(source)).toEqual(slots);
    expect(mem.memory.ramBlock!.bytesAt(BLOCK, Number(BLOCK))).toEqual(new Uint8Array(Number(BLOCK)).fill(0xa5));
    source.kvm.guestWrite(HOTPLUG_BASE + BLOCK + 0x10n, 0x1234_5678, 4);
    outgoing.complete();
    incoming.finish();
    expect(incoming.committed).toBe(true);
    expect(Buffer.compare(mems[1]!.memory.ramBlock!.bytes(), mem.memory.ramBlock!.bytes())).toBe(0);
    mem.unplug(BLOCK, BLOCK);
    expect(mem.plugged).toEqual([true, false, true, false, false, false, false]);
  });
});
