import { describe, expect, it } from "vitest";
import { IncomingMigration, OutgoingMigration, systemDirtyPageSource } from "../src/index.js";
import { type DirtyRingReap, runWorkload, WORKLOAD_BAR_ADDRS } from "../src/workload/index.js";
import { firstDifference, mockWorkload } from "./helpers.js";

// The smallest ring the kernel takes on x86 (a page): 256 entries, of which 64 are kept back, so a vCPU exits
// with KVM_EXIT_DIRTY_RING_FULL once 192 pages are waiting. A pass of the guest dirties 113 pages (one entry
// each until a reset), so DMA-like writes (the test's, which go to vCPU 0's ring) into 100 more pages of RAM
// outside the guest's area, [0x80000, 0xe4000), fill it.
const RING = 4096;
const EXTRA_PAGES = 100;

function dmaWrites(w: ReturnType<typeof mockWorkload>, value: number): void {
  for (let i = 0; i < EXTRA_PAGES; i++) w.kvm.guestWrite(0x8_0000n + BigInt(i) * 0x1000n, value + i, 4);
}

describe("KVM_EXIT_DIRTY_RING_FULL: the run loop reaps and resets the rings, then runs the vCPU on (kvm_dirty_ring_reap)", () => {
  it("a vCPU exits with dirty-ring-full at the ring's soft limit and again at every run until the rings are reset", () => {
    const w = mockWorkload({ mode: "ring", ringBytes: RING });
    w.machine.system.startDirtyLog(); // the listener starts the slots logging: first writes now take ring entries
    expect(runWorkload(w.vcpu, { passes: 1 })).toMatchObject({ stop: "passes" }); // 113 entries
    dmaWrites(w, 1); // 213: over the soft limit
    expect(() => runWorkload(w.vcpu, { passes: 1 })).toThrow(/dirty-ring-full/);
    expect(w.vcpu.run()).toEqual({ reason: "dirty-ring-full" });
    expect(w.vcpu.run()).toEqual({ reason: "dirty-ring-full" });
    const reaped = w.attachment.dirtyRing!.reap();
    expect(reaped).toBe(113 + EXTRA_PAGES);
    // Reset: the vCPU enters the guest again, and the run loop handles a later full ring by itself.
    expect(runWorkload(w.vcpu, { passes: 1 })).toMatchObject({ stop: "passes" });
    dmaWrites(w, 2);
    expect(runWorkload(w.vcpu, { passes: 1, dirtyRing: w.attachment.dirtyRing })).toMatchObject({ stop: "passes" });
  });

  it("a pre-copy whose guest fills its ring between rounds loses no page: every page equals the source's, the guest goes on", () => {
    const source = mockWorkload({ mode: "ring", ringBytes: RING });
    const destination = mockWorkload();
    let reaps = 0;
    const reaper: DirtyRingReap = {
      reap: () => {
        reaps++;
        return source.attachment.dirtyRing!.reap();
      },
    };
    runWorkload(source.vcpu, { passes: 2 });
    const incoming = new IncomingMigration(destination.migratable);
    const outgoing = new OutgoingMigration(
      source.migratable,
      systemDirtyPageSource(source.migratable.system),
      (c) => incoming.push(c),
      { downtimePages: 8, maxRounds: 4 },
    );
    let round = outgoing.begin();
    for (;;) {
      dmaWrites(source, round.round << 8);
      runWorkload(source.vcpu, { passes: 1, dirtyRing: reaper });
      if (round.round === 2) source.machine.moveBar(WORKLOAD_BAR_ADDRS[1]);
      const next = outgoing.iterate();
      if (next === null) break;
      round = next;
    }
    outgoing.complete();
    incoming.finish();
    expect(incoming.committed).toBe(true);
    // Each round's writes take 100 entries, and the pass that follows fills the ring at its 92nd page: the
    // vCPU exits mid-pass and the loop reaps, once in each of the four runs.
    expect(reaps).toBe(4);
    // A page reaped at a full ring waits in its slot and goes with the next round: each round sends what the
    // pass and the writes dirtied, none lost.
    expect(outgoing.rounds.slice(1).map((r) => r.sent)).toEqual([213, 213, 213, 213]);
    expect(firstDifference(source.migratable, destination.migratable)).toBeNull();
    const pass = runWorkload(source.vcpu, { passes: 2, dirtyRing: reaper }).pass;
    expect(runWorkload(destination.vcpu, { passes: 2 }).pass).toBe(pass);
    expect(firstDifference(source.migratable, destination.migratable)).toBeNull();
  });
});
