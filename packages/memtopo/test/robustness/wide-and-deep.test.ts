import { renderFlatView } from "@memtopo/flatview";
import { MemoryRegion, MemtopoError } from "@memtopo/region-tree";
import { typedErrorExpectations } from "@memtopo/test-support";
import { describe, expect, it } from "vitest";
import { MemorySystem } from "../../src/index.js";
import { expectedReplicaState, replica } from "./replica-listener.js";

// Raw errors: the map may be as wide or as deep as the user makes it. No argument spread, recursion
// or quadratic list insertion may turn that into a RangeError, a stack overflow or a hang, and an error that
// escapes a commit must leave views and listeners as before it. (Printing, saving and importing such maps:
// @memtopo/qemu-text's test/robustness/wide-and-deep.test.ts.)

const WIDE = 150_000;

const { expectCode } = typedErrorExpectations(MemtopoError);

// 150 000 children take 5 to 12 s on an idle 2-core machine and 40 s under load: the timeout only stops a hang
// (speed is measured in bench/wide.bench.mjs, not here).
describe("a container with 150 000 children", { timeout: 180_000 }, () => {
  it("added in one transaction through the API: the commit renders them all", () => {
    const system = new MemorySystem();
    const root = new MemoryRegion(system, { kind: "container", name: "system", size: 1n << 40n });
    const as = system.createAddressSpace("memory", root);
    let added = 0;
    const counter = { name: "counter", regionAdd: () => void added++ };
    system.registerListener(counter, as);
    system.begin();
    for (let i = 0; i < WIDE; i++) {
      root.addSubregion(BigInt(i) * 0x1000n, new MemoryRegion(system, { kind: "ram", name: `r${i}`, size: 0x1000n }));
    }
    system.commit();
    // Adjacent ranges of different regions do not merge: one range per child.
    expect(as.currentMap.ranges).toHaveLength(WIDE);
    expect(added).toBe(WIDE);
    expect(as.currentMap.ranges).toEqual(renderFlatView(root).ranges);
    expect(root.subregions[0]!.name).toBe(`r${WIDE - 1}`);
  });
});

describe("a chain 100 000 containers deep under system, each level one byte further in", () => {
  it("commits render it, a change at the bottom commits, a listener's replica stays true (no walk recurses)", () => {
    const sys = new MemorySystem();
    const system = new MemoryRegion(sys, { kind: "container", name: "system", size: 1n << 40n });
    const io = new MemoryRegion(sys, { kind: "io", name: "io", size: 0x1000n });
    const top = new MemoryRegion(sys, { kind: "container", name: "level0", size: 1n << 30n });
    sys.begin();
    system.addSubregion(0n, io);
    system.addSubregion(0x100000n, top);
    let at = top;
    for (let i = 1; i < 100_000; i++) {
      const next = new MemoryRegion(sys, { kind: "container", name: `level${i}`, size: 1n << 30n });
      at.addSubregion(1n, next);
      at = next;
    }
    const leaf = new MemoryRegion(sys, { kind: "ram", name: "leaf", size: 0x1000n });
    at.addSubregion(1n, leaf);
    sys.commit();
    const as = sys.createAddressSpace("memory", system);
    const listener = replica("deep");
    sys.registerListener(listener, as);
    const leafAt = 0x100000n + 100_000n;
    expect(as.currentMap.ranges.map((r) => [r.mr, r.start])).toEqual([
      [io, 0n],
      [leaf, leafAt],
    ]);
    leaf.setEnabled(false);
    expect(as.currentMap.ranges.map((r) => r.mr)).toEqual([io]);
    sys.begin();
    leaf.setEnabled(true);
    leaf.setAddress(0x10n);
    sys.commit();
    expect(as.currentMap.ranges.map((r) => [r.mr, r.start])).toEqual([
      [io, 0n],
      [leaf, leafAt - 1n + 0x10n],
    ]);
    expect(listener.state()).toEqual(expectedReplicaState(as));
  });
});

describe("an error that escapes a commit (rule: a call that throws leaves views and listeners as they were)", () => {
  /**
   * Runs `work` with reading any region's subregion list failing at the k-th read: a fault inside the render, the
   * root resolution or the window walk, wherever k lands.
   */
  function withFaultAt<T>(k: number, work: () => T): T {
    const proto = MemoryRegion.prototype;
    const original = Object.getOwnPropertyDescriptor(proto, "subregions")!;
    let reads = 0;
    Object.defineProperty(proto, "subregions", {
      configurable: true,
      get(this: MemoryRegion) {
        if (++reads === k) throw new RangeError("injected: Maximum call stack size exceeded");
        return original.get!.call(this);
      },
    });
    try {
      return work();
    } finally {
      Object.defineProperty(proto, "subregions", original);
    }
  }

  it("at every read position of the commit: views and listeners unchanged, the next commit renders the truth", () => {
    let faulted = 0;
    for (let k = 1; k < 200; k++) {
      const system = new MemorySystem();
      const root = new MemoryRegion(system, { kind: "container", name: "system", size: 1n << 32n });
      const pci = new MemoryRegion(system, { kind: "container", name: "pci", size: 1n << 32n });
      root.addSubregionOverlap(0n, pci, -1);
      const ram = new MemoryRegion(system, { kind: "ram", name: "ram", size: 0x10000n });
      root.addSubregion(0n, ram);
      const other = new MemoryRegion(system, {
        kind: "alias",
        name: "ram-alias",
        target: ram,
        offset: 0n,
        size: 0x8000n,
      });
      const spaces = [system.createAddressSpace("memory", root), system.createAddressSpace("bm", other)];
      const mirrors = spaces.map((as, i) => {
        const m = replica(`m${i}`);
        system.registerListener(m, as);
        return m;
      });
      const before = spaces.map((as) => as.currentMap);
      system.begin();
      const bar = new MemoryRegion(system, { kind: "ram", name: "bar", size: 0x1000n });
      pci.addSubregion(0x20000n, bar);
      ram.setSize(0x4000n);
      let threw = false;
      withFaultAt(k, () => {
        try {
          system.commit();
        } catch (error) {
          threw = true;
          expect(String(error)).toContain("injected");
        }
      });
      if (!threw) {
        // k is past the last read of the commit: it ran normally.
        for (const [i, as] of spaces.entries()) expect(mirrors[i]!.state()).toEqual(expectedReplicaState(as));
        break;
      }
      faulted++;
      spaces.forEach((as, i) => {
        expect(as.currentMap).toBe(before[i]);
        expect(mirrors[i]!.state()).toEqual(expectedReplicaState(as));
      });
      system.begin();
      system.commit();
      spaces.forEach((as, i) => {
        expect(as.currentMap.ranges).toEqual(renderFlatView(as.root).ranges);
        expect(mirrors[i]!.state()).toEqual(expectedReplicaState(as));
      });
      // And later changes still reach the views.
      bar.setEnabled(false);
      expect(spaces[0]!.currentMap.ranges).toEqual(renderFlatView(root).ranges);
    }
    expect(faulted).toBeGreaterThan(3);
  });
});

describe("registerListener whose replay fails", () => {
  it("registers nothing: unregistering says so, a retry works, the space can be destroyed", () => {
    const system = new MemorySystem();
    const root = new MemoryRegion(system, { kind: "container", name: "system", size: 1n << 32n });
    root.addSubregion(0n, new MemoryRegion(system, { kind: "ram", name: "ram", size: 0x1000n }));
    const as = system.createAddressSpace("memory", root);
    let fail = true;
    const listener = {
      name: "flaky",
      regionAdd() {
        if (fail) throw new Error("not now");
      },
    };
    expectCode(() => system.registerListener(listener, as), "E_LISTENER_FAILED");
    expectCode(() => system.unregisterListener(listener), "E_LISTENER_NOT_REGISTERED");
    fail = false;
    system.registerListener(listener, as);
    system.unregisterListener(listener);
    system.destroyAddressSpace(as);
    expect(as.destroyed).toBe(true);
  });
});
