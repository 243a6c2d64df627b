import { describe, expect, it } from "vitest";
import { IncomingMigration, MigrationError, OutgoingMigration, systemDirtyPageSource } from "../src/index.js";
import { runWorkload, WORKLOAD_BAR_ADDRS, WORKLOAD_PAM_START, WORKLOAD_PASSES_DONE } from "../src/workload/index.js";
import { DIRTY_MODES, firstDifference, type MockWorkload, mockWorkload } from "./helpers.js";

/** Instructions the guest runs per page a round sent: the link's speed against the guest's. */
const INSTRUCTIONS_PER_PAGE = 4;
const SLICE = 50;

function passesDone(w: MockWorkload): number {
  return new DataView(w.machine.ram.ramBlock!.bytes().buffer).getUint32(WORKLOAD_PASSES_DONE, true);
}

describe("pre-copy live migration between two VMs (mock kernel, the guest runs between rounds)", () => {
  it.each(DIRTY_MODES)(
    "every page equals the source's final state, with a PAM toggle and a BAR move mid-migration; the guest goes on (%s)",
    (mode) => {
      const source = mockWorkload({ timeslice: SLICE, mode });
      const destination = mockWorkload({ timeslice: SLICE });
      runWorkload(source.vcpu, { passes: 2 });
      const incoming = new IncomingMigration(destination.migratable);
      const dirty = systemDirtyPageSource(source.migratable.system);
      const outgoing = new OutgoingMigration(source.migratable, dirty, (c) => incoming.push(c), { downtimePages: 24 });
      let last = outgoing.begin();
      expect(last.round).toBe(1);
      for (let round = 1; ; round++) {
        runWorkload(source.vcpu, { slices: Math.ceil((last.sent * INSTRUCTIONS_PER_PAGE) / SLICE) });
        if (round === 1) {
          source.machine.setPam(true); // PAM: the segment at 0xf0000 turns to RAM, its slot splits pc.ram's
          source.kvm.guestWrite(WORKLOAD_PAM_START + 0x40n, 0x1234_5678, 4);
          source.kvm.guestWrite(WORKLOAD_BAR_ADDRS[0] + 0x2000n, 0xaaaa_5555, 4);
        }
        if (round === 2) {
          source.machine.moveBar(WORKLOAD_BAR_ADDRS[1]); // the VRAM slot is deleted and created elsewhere
          source.kvm.guestWrite(WORKLOAD_BAR_ADDRS[1] + 0x3000n, 0x5555_aaaa, 4);
          source.kvm.guestWrite(WORKLOAD_PAM_START + 0x8000n, 0x8765_4321, 4);
        }
        const next = outgoing.iterate();
        if (next === null) break;
        last = next;
      }
      // The guest is stopped here (it runs only in runWorkload): stop-and-copy.
      const final = outgoing.complete();
      expect(final.sent).toBeLessThanOrEqual(24);
      incoming.finish();
      expect(incoming.committed).toBe(true);
      expect(outgoing.rounds.length).toBeGreaterThanOrEqual(3);
      expect(firstDifference(source.migratable, destination.migratable)).toBeNull();
      expect(destination.machine.pamRam).toBe(true);
      expect(destination.machine.barAddr).toBe(WORKLOAD_BAR_ADDRS[1]);
      expect(destination.kvm.guestRead(WORKLOAD_BAR_ADDRS[1] + 0x3000n, 4)).toEqual(
        new Uint8Array([0xaa, 0xaa, 0x55, 0x55]),
      );

      const passes = passesDone(source);
      const more = runWorkload(destination.vcpu, { passes: 2 });
      expect(more).toMatchObject({ stop: "passes", pass: passes + 2 });
      // The source, had it gone on, writes the same: the destination is the source's continuation.
      runWorkload(source.vcpu, { passes: 2 });
      expect(firstDifference(source.migratable, destination.migratable)).toBeNull();
    },
  );

  it("a destination that lost part of the stream never commits (E_STREAM_TRUNCATED) and refuses to go on", () => {
    const source = mockWorkload();
    const destination = mockWorkload();
    const chunks: Uint8Array[] = [];
    const outgoing = new OutgoingMigration(
      source.migratable,
      systemDirtyPageSource(source.migratable.system),
      (c) => chunks.push(c.slice()),
      { downtimePages: 1000 },
    );
    outgoing.begin();
    expect(outgoing.iterate()).toBeNull();
    outgoing.complete();
    const incoming = new IncomingMigration(destination.migratable);
    for (const c of chunks.slice(0, -2)) incoming.push(c);
    expect(() => incoming.finish()).toThrowError(expect.objectContaining({ code: "E_STREAM_TRUNCATED" }));
    expect(incoming.state).toBe("failed");
    expect(() => incoming.push(chunks.at(-1)!)).toThrow(MigrationError);
    expect(incoming.committed).toBe(false);
  });

  it("steps out of order are refused with E_MIGRATION_STATE", () => {
    const source = mockWorkload();
    const outgoing = new OutgoingMigration(
      source.migratable,
      systemDirtyPageSource(source.migratable.system),
      () => {},
      { downtimePages: 0 },
    );
    expect(() => outgoing.iterate()).toThrowError(expect.objectContaining({ code: "E_MIGRATION_STATE" }));
    expect(() => outgoing.complete()).toThrowError(expect.objectContaining({ code: "E_MIGRATION_STATE" }));
  });
});
