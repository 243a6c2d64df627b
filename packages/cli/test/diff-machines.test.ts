import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { casesDir } from "@memtopo/fixtures";
import { MemoryRegion, SIZE_2_64 } from "@memtopo/region-tree";
import { loadMachine, MemorySystem } from "memtopo";
import { describe, expect, it } from "vitest";
import { type DiffableMachine, type DiffEvent, diffMachines, diffSpaces } from "../src/diff/machine-diff.js";

const load = (slug: string) => loadMachine(readFileSync(path.join(casesDir, slug, "machine.json"), "utf8"));
const EMPTY: DiffableMachine = { addressSpaces: [] };

/** Ranges by address space, a space named `name#ordinal` (same-named spaces are distinct). */
type Replica = Map<string, Set<string>>;
const spaceKey = (name: string, ordinal: number) => `${name}#${ordinal}`;
const rangeKey = (e: { start: string; size: string; region: string; offset: string; readonly: boolean }) =>
  `${e.start}+${e.size} ${e.region}@${e.offset}${e.readonly ? " ro" : ""}`;

/** The flat views of a machine as the events describe ranges (names, not identities). */
function viewsOf(m: DiffableMachine): Replica {
  const out: Replica = new Map();
  for (const { as, space } of diffSpaces(m.addressSpaces)) {
    out.set(
      spaceKey(space.name, space.ordinal),
      new Set(
        as.currentMap.ranges.map((r) =>
          rangeKey({
            start: `0x${r.start.toString(16)}`,
            size: `0x${r.size.toString(16)}`,
            region: r.mr.name ?? "(null)",
            offset: `0x${r.offsetInRegion.toString(16)}`,
            readonly: r.readonly,
          }),
        ),
      ),
    );
  }
  return out;
}

/** Applies events to a replica, failing on any event that does not fit. */
function replay(start: Replica, events: readonly DiffEvent[]): Replica {
  const out: Replica = new Map([...start].map(([k, v]) => [k, new Set(v)]));
  for (const e of events) {
    if (!("region" in e)) continue;
    let set = out.get(spaceKey(e.as, e.asOrdinal));
    if (set === undefined) {
      set = new Set();
      out.set(spaceKey(e.as, e.asOrdinal), set);
    }
    const k = rangeKey(e);
    if (e.event === "region_add") {
      expect(set.has(k), `add of a held range ${e.as} ${k}`).toBe(false);
      set.add(k);
    } else if (e.event === "region_del") {
      expect(set.delete(k), `del of an unknown range ${e.as} ${k}`).toBe(true);
    } else {
      expect(set.has(k), `${e.event} of an unknown range ${e.as} ${k}`).toBe(true);
    }
  }
  for (const [k, v] of out) if (v.size === 0) out.delete(k);
  return out;
}

const nonEmpty = (r: Replica): Replica => new Map([...r].filter(([, v]) => v.size > 0));

describe("diffMachines", () => {
  it("gives QEMU's events in QEMU's order as JSON-able objects (seed scenario: one RAM region added)", () => {
    const build = (withNew: boolean) => {
      const sys = new MemorySystem();
      const system = new MemoryRegion(sys, { kind: "container", name: "system", size: SIZE_2_64 });
      const ram = new MemoryRegion(sys, { kind: "ram", name: "pc.ram", size: 0x8000000n });
      system.addSubregion(0n, ram);
      system.addSubregion(0xfee00000n, new MemoryRegion(sys, { kind: "io", name: "apic", size: 0x1000n }));
      if (withNew) system.addSubregion(0x10000000n, new MemoryRegion(sys, { kind: "ram", name: "hot", size: 0x1000n }));
      sys.createAddressSpace("memory", system);
      return sys;
    };
    const events = diffMachines(build(false), build(true));
    expect(events).toEqual([
      { event: "begin" },
      {
        event: "region_nop",
        as: "memory",
        asOrdinal: 0,
        start: "0x0",
        size: "0x8000000",
        region: "pc.ram",
        offset: "0x0",
        readonly: false,
      },
      {
        event: "region_add",
        as: "memory",
        asOrdinal: 0,
        start: "0x10000000",
        size: "0x1000",
        region: "hot",
        offset: "0x0",
        readonly: false,
      },
      {
        event: "region_nop",
        as: "memory",
        asOrdinal: 0,
        start: "0xfee00000",
        size: "0x1000",
        region: "apic",
        offset: "0x0",
        readonly: false,
      },
      { event: "commit" },
    ]);
    expect(JSON.parse(JSON.stringify(events))).toEqual(events);
  });

  it("a space only in a is deleted; a space only in b is added; deletions come before additions per space", () => {
    const sys = new MemorySystem();
    const r = new MemoryRegion(sys, { kind: "io", name: "r", size: 0x10n });
    const old = { addressSpaces: [sys.createAddressSpace("gone", r)] };
    const sys2 = new MemorySystem();
    const r2 = new MemoryRegion(sys2, { kind: "io", name: "r", size: 0x20n });
    const next = { addressSpaces: [sys2.createAddressSpace("new", r2)] };
    expect(diffMachines(old, next).map((e) => `${e.event} ${"as" in e ? e.as : ""}`)).toEqual([
      "begin ",
      "region_add new",
      "region_del gone",
      "commit ",
    ]);
    expect(() => diffMachines(null as never, next)).toThrow(expect.objectContaining({ code: "E_INVALID_ARGUMENT" }));
  });

  it("same-named spaces (QEMU allows them: one per e1000 NIC) are matched by creation order, not collapsed by name", () => {
    // Each NIC's bus-master space is "e1000"; the first NIC's window moves, the second stays, a third appears.
    const build = (firstAt: bigint, nics: number) => {
      const sys = new MemorySystem();
      for (let i = 0; i < nics; i++) {
        const root = new MemoryRegion(sys, { kind: "container", name: `bm-${i}`, size: 0x10000n });
        root.addSubregion(
          i === 0 ? firstAt : 0x1000n,
          new MemoryRegion(sys, { kind: "io", name: "win", size: 0x100n }),
        );
        sys.createAddressSpace("e1000", root);
      }
      return sys;
    };
    const lines = (events: readonly DiffEvent[]) =>
      events.map((e) => ("as" in e ? `${e.event} ${e.as}#${e.asOrdinal} ${e.start}` : e.event));
    expect(lines(diffMachines(build(0x1000n, 2), build(0x2000n, 3)))).toEqual([
      "begin",
      "region_del e1000#0 0x1000",
      "region_add e1000#0 0x2000",
      "region_nop e1000#1 0x1000",
      "region_add e1000#2 0x1000",
      "commit",
    ]);
    expect(lines(diffMachines(build(0x1000n, 3), build(0x1000n, 1)))).toEqual([
      "begin",
      "region_nop e1000#0 0x1000",
      "region_del e1000#1 0x1000",
      "region_del e1000#2 0x1000",
      "commit",
    ]);
  });

  it("a QEMU machine with seven spaces named vtd-root against itself: region_nop for every range of every space", () => {
    const m = load("x86-q35-iommu-held-tcg");
    expect(m.addressSpaces.filter((as) => as.name === "vtd-root")).toHaveLength(7);
    const nops = diffMachines(m, m).filter((e) => e.event === "region_nop");
    expect(nops).toHaveLength(m.addressSpaces.reduce((n, as) => n + as.currentMap.ranges.length, 0));
    expect(new Set(nops.filter((e) => "as" in e && e.as === "vtd-root").map((e) => "as" in e && e.asOrdinal))).toEqual(
      new Set([0, 1, 2, 3, 4, 5, 6]),
    );
  });

  it("ioeventfds are diffed by address, size and data", () => {
    const build = (at: bigint) => {
      const sys = new MemorySystem();
      const io = new MemoryRegion(sys, { kind: "io", name: "io", size: 0x10000n });
      const bar = new MemoryRegion(sys, { kind: "io", name: "bar", size: 0x40n });
      bar.addEventfd(0x10n, 2, true, 1n, { id: 1, signal: () => {} });
      io.addSubregion(at, bar);
      sys.createAddressSpace("I/O", io);
      return sys;
    };
    const fds = diffMachines(build(0xc000n), build(0xd000n)).filter((e) => e.event.startsWith("eventfd"));
    expect(fds).toEqual([
      { event: "eventfd_del", as: "I/O", asOrdinal: 0, start: "0xc010", size: "0x2", matchData: true, data: "0x1" },
      { event: "eventfd_add", as: "I/O", asOrdinal: 0, start: "0xd010", size: "0x2", matchData: true, data: "0x1" },
    ]);
    expect(diffMachines(build(0xc000n), build(0xc000n)).filter((e) => e.event.startsWith("eventfd"))).toEqual([]);
  });
});

/** QEMU's `info mtree -f` text as address space → ranges, in the replica's key format without `readonly`. */
function qemuFlatViews(text: string): Replica {
  const out: Replica = new Map();
  let spaces: string[] = [];
  let inHeader = false;
  for (const line of text.split("\n")) {
    const as = /^ AS "(.*)", root: /.exec(line);
    if (as !== null) {
      if (!inHeader) spaces = [];
      inHeader = true;
      spaces.push(as[1]!);
      continue;
    }
    inHeader = false;
    const r = /^ {2}([0-9a-f]{16})-([0-9a-f]{16}) \(prio -?\d+, [^)]+\): (.*?)(?: @([0-9a-f]{16}))?(?: KVM)?$/.exec(
      line,
    );
    if (r === null) continue;
    const start = BigInt(`0x${r[1]}`);
    const size = BigInt(`0x${r[2]}`) - start + 1n;
    const key = `0x${start.toString(16)}+0x${size.toString(16)} ${r[3]}@0x${BigInt(`0x${r[4] ?? "0"}`).toString(16)}`;
    for (const name of spaces) {
      if (!out.has(name)) out.set(name, new Set());
      out.get(name)!.add(key);
    }
  }
  return out;
}

/** QEMU's `-f` text names spaces without telling same-named ones apart: their ranges go under the one name. */
function withoutReadonly(r: Replica): Replica {
  const out: Replica = new Map();
  for (const [k, v] of r) {
    const name = k.slice(0, k.lastIndexOf("#"));
    const set = out.get(name) ?? new Set();
    for (const x of v) set.add(x.replace(/ ro$/, ""));
    out.set(name, set);
  }
  return out;
}

describe("diffMachines on the QEMU conformance cases", () => {
  const slugs = readdirSync(casesDir).filter((s) => !s.startsWith("."));
  it.each(slugs)("%s: the diff from an empty machine, replayed, gives QEMU's flat views (mtree-f.txt)", (slug) => {
    const m = load(slug);
    const replayed = replay(new Map(), diffMachines(EMPTY, m));
    expect(replayed).toEqual(nonEmpty(viewsOf(m)));
    const qemu = qemuFlatViews(readFileSync(path.join(casesDir, slug, "mtree-f.txt"), "utf8"));
    expect(withoutReadonly(replayed)).toEqual(qemu);
  });

  it.each([
    ["x86-q35-held-kvm", "x86-q35-ran-kvm"],
    ["x86-pc-held-kvm", "x86-pc-ran-kvm"],
    ["kvm-x86-pc-held", "kvm-x86-pc-ran"],
    ["x86-pc-held-tcg", "x86-pc-ran-tcg"],
  ])("%s -> %s: replaying the events on the first flat views gives the second", (a, b) => {
    const first = load(a);
    const second = load(b);
    const events = diffMachines(first, second);
    expect(events[0]).toEqual({ event: "begin" });
    expect(events.at(-1)).toEqual({ event: "commit" });
    const replayed = replay(viewsOf(first), events);
    expect(replayed).toEqual(nonEmpty(viewsOf(second)));
    expect(withoutReadonly(replayed)).toEqual(
      qemuFlatViews(readFileSync(path.join(casesDir, b, "mtree-f.txt"), "utf8")),
    );
  });
});
