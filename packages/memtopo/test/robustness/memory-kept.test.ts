import v8 from "node:v8";
import vm from "node:vm";
import { MemoryRegion } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { MemorySystem } from "../../src/index.js";

// Memory kept forever: after a region is removed (or an address space destroyed) and a commit ran,
// nothing of it may stay reachable from the system. Checked with a FinalizationRegistry after forced collections.

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

const CYCLES = 2000;
/**
 * What may still be held when the cycles end: the view table forgets removed regions in amortized rebuilds, which
 * run once its set of regions has doubled (plus a slack of 64); never a number that grows with the cycles.
 */
const HELD_AT_MOST = 100;

/** Counts how many of the objects handed to `track` were collected, after full collections. */
async function collectedCount(run: (track: (o: object) => void) => void): Promise<number> {
  let collected = 0;
  const registry = new FinalizationRegistry(() => {
    collected++;
  });
  run((o) => registry.register(o, null));
  for (let i = 0; i < 10; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return collected;
}

function machine() {
  const system = new MemorySystem();
  const root = new MemoryRegion(system, { kind: "container", name: "system", size: 1n << 40n });
  const pci = new MemoryRegion(system, { kind: "container", name: "pci", size: 1n << 32n });
  root.addSubregionOverlap(0n, pci, -1);
  root.addSubregion(0n, new MemoryRegion(system, { kind: "ram", name: "ram", size: 1n << 20n }));
  const as = system.createAddressSpace("memory", root);
  // A bus-master space aliasing the root, as every PCI device has.
  system.createAddressSpace(
    "bm",
    new MemoryRegion(system, { kind: "alias", name: "bm", target: root, offset: 0n, size: 1n << 40n }),
  );
  return { system, root, pci, as };
}

describe("nothing of a removed region or a destroyed space stays reachable", () => {
  it(`${CYCLES} RAM regions plugged into a container and removed: all but a bounded few collected`, async () => {
    const { system, pci, as } = machine();
    const collected = await collectedCount((track) => {
      for (let i = 0; i < CYCLES; i++) {
        const dimm = new MemoryRegion(system, { kind: "ram", name: `dimm${i}`, size: 1n << 20n });
        track(dimm);
        pci.addSubregion(0x1000_0000n, dimm);
        dimm.setEnabled(false);
        dimm.setEnabled(true);
        pci.delSubregion(dimm);
      }
    });
    expect(CYCLES - collected).toBeLessThanOrEqual(HELD_AT_MOST);
    expect(as.currentMap.ranges).toHaveLength(1);
  });

  it(`${CYCLES} io regions mapped through an alias and removed: all but a bounded few collected`, async () => {
    const { system, root } = machine();
    const collected = await collectedCount((track) => {
      for (let i = 0; i < CYCLES; i++) {
        const io = new MemoryRegion(system, { kind: "io", name: `io${i}`, size: 0x100n });
        const alias = new MemoryRegion(system, {
          kind: "alias",
          name: `io${i}-alias`,
          target: io,
          offset: 0n,
          size: 0x100n,
        });
        track(io);
        track(alias);
        root.addSubregionOverlap(0xfee0_0000n, alias, 2);
        root.delSubregion(alias);
      }
    });
    expect(2 * CYCLES - collected).toBeLessThanOrEqual(HELD_AT_MOST);
  });

  it(`${CYCLES} address spaces created with a new root and destroyed: all but a bounded few collected`, async () => {
    const { system } = machine();
    const collected = await collectedCount((track) => {
      for (let i = 0; i < CYCLES; i++) {
        const root = new MemoryRegion(system, { kind: "container", name: `dev${i}`, size: 1n << 16n });
        root.addSubregion(0n, new MemoryRegion(system, { kind: "io", name: `regs${i}`, size: 0x100n }));
        const as = system.createAddressSpace(`dev${i}`, root);
        track(root);
        track(as);
        system.begin();
        system.commit();
        system.destroyAddressSpace(as);
        system.begin();
        system.topologyChanged();
        system.commit();
      }
    });
    expect(2 * CYCLES - collected).toBeLessThanOrEqual(HELD_AT_MOST);
  });
});
