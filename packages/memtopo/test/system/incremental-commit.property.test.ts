import { fc, test } from "@fast-check/vitest";
import { type FlatRange, renderFlatView } from "@memtopo/flatview";
import { collectIoeventfds } from "@memtopo/ioeventfd";
import { type EventNotifier, MemoryRegion, MemtopoError, SIZE_2_64 } from "@memtopo/region-tree";
import { describe, expect } from "vitest";
import { type AddressSpace, MemorySystem } from "../../src/index.js";
import { fdKey, flatRangeKey, replica } from "./replica.js";

// A topology commit re-renders only the windows a change can reach, tells listeners what the
// splices changed and collects ioeventfds again only there. The oracles, checked at every
// commit: the full render (renderFlatView), the full collection of QEMU's
// address_space_update_ioeventfds (collectIoeventfds over every range of the view), and a
// listener without region_nop that rebuilds each space from the events alone.

const unit = 0x100n;
const notifiers: EventNotifier[] = [1, 2, 3].map((id) => ({ id, signal: () => {} }));

const op = fc.oneof(
  fc.record({ t: fc.constant("add" as const), parent: fc.nat(), child: fc.nat(), addr: fc.nat(0x30), prio: fc.nat(2) }),
  fc.record({ t: fc.constant("del" as const), r: fc.nat() }),
  fc.record({ t: fc.constant("enable" as const), r: fc.nat(), on: fc.boolean() }),
  fc.record({ t: fc.constant("move" as const), r: fc.nat(), addr: fc.nat(0x30) }),
  fc.record({ t: fc.constant("size" as const), r: fc.nat(), size: fc.nat(0x20) }),
  fc.record({ t: fc.constant("readonly" as const), r: fc.nat(), on: fc.boolean() }),
  fc.record({ t: fc.constant("nonvolatile" as const), r: fc.nat(), on: fc.boolean() }),
  fc.record({ t: fc.constant("log" as const), r: fc.nat(), on: fc.boolean() }),
  fc.record({ t: fc.constant("aliasOffset" as const), r: fc.nat(), offset: fc.nat(0x10) }),
  {
    arbitrary: fc.record({
      t: fc.constant("fd" as const),
      r: fc.nat(),
      at: fc.nat(0x20),
      size: fc.constantFrom(0, 1, 2, 4),
      data: fc.nat(3),
      e: fc.nat(2),
    }),
    weight: 3,
  },
  fc.record({ t: fc.constant("unfd" as const), r: fc.nat() }),
  fc.record({ t: fc.constant("begin" as const) }),
  fc.record({ t: fc.constant("commit" as const) }),
);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

/** A machine of small devices (several with ioeventfds) under containers and aliases, spaces on some of them. */
/** `wide`: devices spread over 0x400 slots of their container, so that a view holds more ranges than one chunk. */
function machine(shape: number[], wide = false) {
  const sys = new MemorySystem({ accel: "kvm" });
  const system = new MemoryRegion(sys, { kind: "container", name: "system", size: SIZE_2_64 });
  const all: MemoryRegion[] = [system];
  sys.begin();
  for (const [i, s] of shape.entries()) {
    const kind = (["io", "ram", "container", "io", "alias"] as const)[s % 5]!;
    const size = BigInt((s % 7) + 1) * unit;
    const target = all[s % all.length]!;
    const mr =
      kind === "alias"
        ? new MemoryRegion(sys, {
            kind,
            name: `a${i}`,
            size: size < target.size ? size : target.size,
            target,
            offset: 0n,
          })
        : kind === "io"
          ? new MemoryRegion(sys, { kind, name: `d${i}`, size, ops: {} })
          : new MemoryRegion(sys, {
              kind,
              name: `${kind[0]}${i}`,
              size: kind === "container" ? (wide ? 0x40000n : 0x4000n) : size,
            });
    if (kind === "io" && s % 2 === 0) mr.addEventfd(BigInt(s % 4) * 4n, 2, s % 3 === 0, BigInt(s % 3), notifiers[0]!);
    const parents = all.filter((p) => p.kind === "container");
    try {
      const slot = wide ? (s * 7 + i * 13) % 0x400 : s % 0x30;
      parents[s % parents.length]!.addSubregionOverlap(BigInt(slot) * unit, mr, s % 3);
    } catch (e) {
      if (!(e instanceof MemtopoError)) throw e;
    }
    all.push(mr);
  }
  sys.commit();
  const spaces: AddressSpace[] = [sys.createAddressSpace("memory", system), sys.createAddressSpace("cpu", system)];
  for (const [i, mr] of all.entries()) if (i % 4 === 2) spaces.push(sys.createAddressSpace(`as${i}`, mr));
  return { sys, all, spaces };
}

function apply(sys: MemorySystem, all: MemoryRegion[], o: Op): void {
  const r = "r" in o ? all[o.r % all.length]! : undefined;
  switch (o.t) {
    case "add": {
      const parent = all.filter((p) => p.kind === "container")[o.parent % all.length] ?? all[0]!;
      const child = all[o.child % all.length]!;
      if (child.container !== null) child.container.delSubregion(child);
      parent.addSubregionOverlap(BigInt(o.addr) * unit, child, o.prio);
      return;
    }
    case "del":
      r!.container?.delSubregion(r!);
      return;
    case "enable":
      r!.setEnabled(o.on);
      return;
    case "move":
      r!.setAddress(BigInt(o.addr) * unit);
      return;
    case "size":
      r!.setSize(BigInt(o.size) * unit);
      return;
    case "readonly":
      r!.setReadonly(o.on);
      return;
    case "nonvolatile":
      r!.setNonvolatile(o.on);
      return;
    case "log":
      r!.setLog(o.on);
      return;
    case "aliasOffset":
      r!.setAliasOffset(BigInt(o.offset) * unit);
      return;
    case "fd":
      r!.addEventfd(BigInt(o.at), o.size, o.data > 0, BigInt(o.data), notifiers[o.e]!);
      return;
    case "unfd": {
      const fd = r!.ioeventfds[0];
      if (fd !== undefined) r!.delEventfd(fd.start, Number(fd.size), fd.matchData, fd.data, fd.notifier);
      return;
    }
    case "begin":
      sys.begin();
      return;
    case "commit":
      if (sys.depth > 0) sys.commit();
      return;
  }
}

describe("incremental commits equal the full render, the full ioeventfd collection and the events (render_memory_region, address_space_update_ioeventfds, address_space_update_topology_pass)", () => {
  test.prop([fc.array(fc.nat(1000), { minLength: 1, maxLength: 30 }), fc.array(op, { maxLength: 40 })], {
    numRuns: 400,
  })("at every commit of random mutations, ioeventfd changes and nested transactions", (shape, ops) =>
    commitsMatchOracles(shape, ops, false),
  );

  // Views of more ranges than one chunk holds (RangeChunks): a commit shares the untouched chunks of the
  // old view, copies the touched ones, joins short pieces to their neighbours; the oracles are the same.
  test.prop([fc.array(fc.nat(1000), { minLength: 60, maxLength: 160 }), fc.array(op, { maxLength: 40 })], {
    numRuns: 60,
  })("the same on machines whose views span many chunks", (shape, ops) => commitsMatchOracles(shape, ops, true));
});

function commitsMatchOracles(shape: number[], ops: Op[], wide: boolean): void {
  const { sys, all, spaces } = machine(shape, wide);
  const replicas = spaces.map((as) => {
    const r = replica({ regionNop: false });
    sys.registerListener(r, as);
    return r;
  });
  const mismatches: string[] = [];
  sys.registerListener(
    {
      commit: () => {
        for (const as of spaces) {
          const full = renderFlatView(as.root, { dirtyLogMask: (mr) => sys.dirtyLogMask(mr) });
          if (JSON.stringify(plain(as.currentMap.ranges)) !== JSON.stringify(plain(full.ranges))) {
            mismatches.push(`${as.name}: view differs from the full render`);
          }
        }
      },
    },
    spaces[0]!,
  );
  const check = () => {
    for (const [i, as] of spaces.entries()) {
      const want = collectIoeventfds(as.currentMap).map((r) => fdKey(r.start, r.size, r.matchData, r.data, r.notifier));
      const got = as.ioeventfds.map((r) => fdKey(r.start, r.size, r.matchData, r.data, r.notifier));
      if (got.join() !== want.join()) mismatches.push(`${as.name}: ioeventfds ${got} != ${want}`);
      const held = [...replicas[i]!.fds].flatMap(([k, n]) => Array<string>(n).fill(k));
      if (held.sort().join() !== [...want].sort().join()) mismatches.push(`${as.name}: replica fds ${held}`);
      const ranges = as.currentMap.ranges.map(flatRangeKey);
      if ([...replicas[i]!.ranges].sort().join() !== ranges.sort().join()) {
        mismatches.push(`${as.name}: replica ranges differ`);
      }
      mismatches.push(...replicas[i]!.errors);
    }
  };
  for (const o of ops) {
    try {
      apply(sys, all, o);
    } catch (e) {
      if (!(e instanceof MemtopoError)) throw e;
    }
    if (sys.depth === 0) check();
  }
  while (sys.depth > 0) sys.commit();
  check();
  expect(mismatches).toEqual([]);
}

// Every field of a FlatRange, attributes included: a range whose flags were merged wrongly must differ.
const plain = (ranges: readonly FlatRange[]) =>
  ranges.map((r) => [
    r.mr.id,
    String(r.start),
    String(r.size),
    String(r.offsetInRegion),
    r.readonly,
    r.nonvolatile,
    r.romdMode,
    r.dirtyLogMask,
  ]);
