import { describe, expect, it } from "vitest";
import { loadSnapshot, MigrationError, saveSnapshot } from "../src/index.js";
import { runWorkload, WORKLOAD_BAR_ADDRS, workloadChecksum } from "../src/workload/index.js";
import { firstDifference, mockWorkload } from "./helpers.js";

describe("snapshots of a stopped machine (map, sparse RAM, vCPU and device state)", () => {
  it("restored into a fresh machine, the guest continues and its own checksum equals an uninterrupted run's", () => {
    const straight = mockWorkload({ passLimit: 5 });
    const reference = runWorkload(straight.vcpu, { passes: 10 });
    expect(reference.stop).toBe("checksum");
    expect(reference.checksum).toBe(workloadChecksum(straight.machine.ram));

    const source = mockWorkload({ passLimit: 5 });
    expect(runWorkload(source.vcpu, { passes: 3 })).toMatchObject({ stop: "passes", pass: 3 });
    source.machine.setPam(true);
    source.machine.moveBar(WORKLOAD_BAR_ADDRS[1]);
    const { bytes, stats } = saveSnapshot(source.migratable);
    // Sparse: of 256 + 16 + 64 pages (RAM, ROM, VRAM) only those not zero: the 112 the guest
    // dirties, page 0 (its counters), its code page and the ROM's 16.
    expect(stats.data).toBe(112 + 1 + 1 + 16);
    expect(stats.zero).toBe(0);
    expect(stats.skipped).toBe(256 + 16 + 64 - stats.data);
    expect(stats.bytes).toBeLessThan(stats.data * 4104 + 16 * 1024); // pages, plus state and framing

    const restored = mockWorkload({ passLimit: 5 });
    loadSnapshot(restored.migratable, bytes);
    expect(restored.machine.pamRam).toBe(true);
    expect(restored.machine.barAddr).toBe(WORKLOAD_BAR_ADDRS[1]);
    expect(firstDifference(source.migratable, restored.migratable)).toBeNull();
    const after = runWorkload(restored.vcpu, { passes: 10 });
    expect(after).toEqual({ stop: "checksum", pass: 5, checksum: reference.checksum });
  });

  it("a snapshot of another machine (a RAM block of another size) is refused with E_STREAM_MAP", () => {
    const source = mockWorkload();
    const { bytes } = saveSnapshot({ ...source.migratable, ramBlocks: source.migratable.ramBlocks.slice(0, 1) });
    const other = mockWorkload();
    expect(() => loadSnapshot(other.migratable, bytes)).toThrowError(expect.objectContaining({ code: "E_STREAM_MAP" }));
    expect(() => loadSnapshot(other.migratable, bytes)).toThrow(MigrationError);
  });
});
