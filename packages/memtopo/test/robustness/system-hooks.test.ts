import { MemoryRegion } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { loadMachine } from "../../src/index.js";
import { recorder } from "../system/recorder.js";

// Found by system-misuse.property.test.ts: the RegionHost hooks are public methods of a
// MemorySystem, and called outside a region's own transaction they left a commit pending
// at depth 0 (or, with a foreign region, recorded windows in the view table) without any
// error. Regions always call them between begin() and commit(); anything else is refused.

const SMALL = {
  format: "memtopo-machine/1",
  name: "small",
  addressSpaces: [{ name: "memory", root: "system" }],
  regions: [
    {
      id: "system",
      name: "system",
      kind: "container",
      size: "0x10000000000000000",
      subregions: [{ id: "ram", name: "ram", kind: "ram", size: "0x1000" }],
    },
  ],
};

function machine() {
  const m = loadMachine(SMALL);
  const sys = m.host;
  const log: string[] = [];
  sys.registerListener(recorder(log, "l"), m.addressSpaces[0]!);
  log.length = 0;
  return { sys, system: m.regions.get("system")!, ram: m.regions.get("ram")!, memory: m.addressSpaces[0]!, log };
}

describe("the region hooks of a MemorySystem give typed refusals that change nothing", () => {
  it("topologyChanged, ioeventfdsChanged and topologyWillChange outside a transaction: E_NOT_IN_TRANSACTION, nothing pending", () => {
    const { sys, ram, log } = machine();
    expect(() => sys.topologyChanged()).toThrow(expect.objectContaining({ code: "E_NOT_IN_TRANSACTION" }));
    expect(() => sys.ioeventfdsChanged()).toThrow(expect.objectContaining({ code: "E_NOT_IN_TRANSACTION" }));
    expect(() => sys.topologyWillChange(ram)).toThrow(expect.objectContaining({ code: "E_NOT_IN_TRANSACTION" }));
    expect([sys.depth, sys.topologyPending, sys.ioeventfdPending]).toEqual([0, false, false]);
    // an empty transaction afterwards still commits nothing
    sys.begin();
    sys.commit();
    expect(log).toEqual([]);
  });

  it("inside a transaction they work as before: a forced topology commit tells listeners region_nop", () => {
    const { sys, log } = machine();
    sys.begin();
    sys.topologyChanged();
    sys.commit();
    expect(log).toEqual(["l:begin", "l:nop 0-1000 ram@0", "l:commit"]);
  });

  it("topologyWillChange takes only regions of this system", () => {
    const { sys } = machine();
    const other = machine();
    sys.begin();
    expect(() => sys.topologyWillChange(other.ram)).toThrow(expect.objectContaining({ code: "E_FOREIGN_REGION" }));
    expect(() => sys.topologyWillChange("ram" as never)).toThrow(
      expect.objectContaining({ code: "E_INVALID_ARGUMENT" }),
    );
    expect(sys.topologyPending).toBe(false);
    sys.commit();
  });

  it("from a listener callback they are refused like any other re-entry (E_REENTRANT)", () => {
    const { sys, system, memory } = machine();
    let inner: unknown;
    sys.registerListener(
      {
        name: "meddler",
        commit: () => {
          try {
            sys.topologyChanged();
          } catch (error) {
            inner = error;
          }
        },
      },
      memory,
    );
    system.addSubregion(0x10000n, new MemoryRegion(sys, { kind: "ram", name: "more", size: 0x1000n }));
    expect(inner).toMatchObject({ code: "E_REENTRANT" });
    expect(sys.topologyPending).toBe(false);
  });

  it("syncDirtyLog and dirtyLogMask refuse what is not one of their regions", () => {
    const { sys, log } = machine();
    const other = machine();
    expect(() => sys.syncDirtyLog(other.ram)).toThrow(expect.objectContaining({ code: "E_FOREIGN_REGION" }));
    expect(() => sys.syncDirtyLog(null as never)).toThrow(expect.objectContaining({ code: "E_INVALID_ARGUMENT" }));
    expect(() => sys.dirtyLogMask(null as never)).toThrow(expect.objectContaining({ code: "E_INVALID_ARGUMENT" }));
    expect(log).toEqual([]);
  });
});
