import { renderFlatView } from "@memtopo/flatview";
import { ListenerCalls, type MemoryListener } from "@memtopo/listener-bus";
import { type EventNotifier, MemoryRegion, SIZE_2_64, StandaloneHost } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import {
  collectIoeventfds,
  diffIoeventfds,
  type IoeventfdRecord,
  ioeventfdBefore,
  ioeventfdEqual,
} from "../src/index.js";

const notifier = (id: number): EventNotifier => ({ id, signal: () => {} });
const e0 = notifier(1);
const e1 = notifier(2);
const h = (v: bigint) => v.toString(16);
const show = (r: IoeventfdRecord) => `${h(r.start)}/${r.size}${r.matchData ? `=${r.data}` : ""} e${r.notifier.id}`;

function pioMachine() {
  const host = new StandaloneHost();
  const io = new MemoryRegion(host, { kind: "io", name: "io", size: 0x10000n });
  const bar = new MemoryRegion(host, { kind: "io", name: "virtio-pci", size: 0x40n });
  bar.addEventfd(0x10n, 2, true, 1n, e1);
  bar.addEventfd(0x10n, 2, true, 0n, e0);
  io.addSubregion(0xc000n, bar);
  return { io, bar };
}

function logOf(log: string[], name: string): MemoryListener {
  return {
    name,
    eventfdAdd: (s, m, d, e) =>
      log.push(`${name}:add ${h(s.offsetWithinAddressSpace)}/${s.size}${m ? `=${d}` : ""} e${e.id}`),
    eventfdDel: (s, m, d, e) =>
      log.push(`${name}:del ${h(s.offsetWithinAddressSpace)}/${s.size}${m ? `=${d}` : ""} e${e.id}`),
  };
}

describe("record order and equality (re-exported from region-tree; memory_region_ioeventfd_before/_equal)", () => {
  const r = (start: bigint, size: bigint, matchData: boolean, data: bigint, e: EventNotifier): IoeventfdRecord => ({
    start,
    size,
    matchData,
    data,
    notifier: e,
  });
  it("before: start, size, match_data false first, data only when both match, notifier identity", () => {
    expect(ioeventfdBefore(r(1n, 4n, true, 9n, e1), r(2n, 1n, false, 0n, e0))).toBe(true);
    expect(ioeventfdBefore(r(1n, 2n, true, 9n, e1), r(1n, 4n, false, 0n, e0))).toBe(true);
    expect(ioeventfdBefore(r(1n, 2n, false, 9n, e1), r(1n, 2n, true, 0n, e0))).toBe(true);
    expect(ioeventfdBefore(r(1n, 2n, true, 0n, e1), r(1n, 2n, true, 1n, e0))).toBe(true);
    // data is not compared unless both match: the notifier decides
    expect(ioeventfdBefore(r(1n, 2n, false, 5n, e0), r(1n, 2n, false, 3n, e1))).toBe(true);
    expect(ioeventfdBefore(r(1n, 2n, false, 5n, e0), r(1n, 2n, false, 3n, e0))).toBe(false);
    expect(ioeventfdBefore(r(1n, 2n, false, 3n, e0), r(1n, 2n, false, 5n, e0))).toBe(false);
  });
  it("equal: a size 0 on either side matches any record with the same start", () => {
    expect(ioeventfdEqual(r(8n, 0n, false, 0n, e0), r(8n, 4n, true, 7n, e1))).toBe(true);
    expect(ioeventfdEqual(r(8n, 2n, true, 7n, e0), r(8n, 2n, true, 7n, e1))).toBe(false);
  });
});

describe("collection (address_space_update_ioeventfds)", () => {
  it("records are shifted to address-space addresses, in range order then region order", () => {
    const { io } = pioMachine();
    expect(collectIoeventfds(renderFlatView(io)).map(show)).toEqual(["c010/2=0 e1", "c010/2=1 e2"]);
  });

  it("a record is kept when it intersects the range; a size-0 record only when its start is inside", () => {
    const host = new StandaloneHost();
    const root = new MemoryRegion(host, { kind: "container", name: "root", size: SIZE_2_64 });
    const dev = new MemoryRegion(host, { kind: "io", name: "dev", size: 0x100n });
    const cover = new MemoryRegion(host, { kind: "io", name: "cover", size: 0x10n });
    dev.addEventfd(0x0en, 4, false, 0n, e0); // straddles 0x10, where `cover` hides dev
    dev.addEventfd(0x12n, 0, false, 0n, e1); // hidden, size 0
    dev.addEventfd(0x30n, 0, false, 0n, e1); // visible, size 0
    root.addSubregion(0x1000n, dev);
    root.addSubregionOverlap(0x1010n, cover, 1);
    expect(collectIoeventfds(renderFlatView(root)).map(show)).toEqual(["100e/4 e1", "1030/0 e2"]);
  });

  it("no sort and no de-duplication: a record straddling two ranges of its region is collected twice", () => {
    const host = new StandaloneHost();
    const root = new MemoryRegion(host, { kind: "container", name: "root", size: SIZE_2_64 });
    const dev = new MemoryRegion(host, { kind: "io", name: "dev", size: 0x100n });
    const hole = new MemoryRegion(host, { kind: "io", name: "hole", size: 0x2n });
    dev.addEventfd(0x0en, 8, false, 0n, e0);
    root.addSubregion(0n, dev);
    root.addSubregionOverlap(0x10n, hole, 1);
    expect(collectIoeventfds(renderFlatView(root)).map(show)).toEqual(["e/8 e1", "e/8 e1"]);
  });

  it("an alias window translates through the target's offsets", () => {
    const host = new StandaloneHost();
    const root = new MemoryRegion(host, { kind: "container", name: "root", size: SIZE_2_64 });
    const dev = new MemoryRegion(host, { kind: "io", name: "dev", size: 0x1000n });
    dev.addEventfd(0x810n, 4, false, 0n, e0);
    dev.addEventfd(0x10n, 4, false, 0n, e1);
    root.addSubregion(
      0x4000n,
      new MemoryRegion(host, { kind: "alias", name: "w", size: 0x800n, target: dev, offset: 0x800n }),
    );
    expect(collectIoeventfds(renderFlatView(root)).map(show)).toEqual(["4010/4 e1"]);
  });
});

describe("diff (address_space_add_del_ioeventfds)", () => {
  it("worked example: moving the BAR from 0xc000 to 0xd000 deletes both old records (Forward) then adds both new (Reverse)", () => {
    const { io, bar } = pioMachine();
    const old = collectIoeventfds(renderFlatView(io));
    bar.setAddress(0xd000n);
    const next = collectIoeventfds(renderFlatView(io));
    const log: string[] = [];
    const calls = new ListenerCalls();
    diffIoeventfds(calls, [logOf(log, "A"), logOf(log, "B")], old, next, null);
    expect(log).toEqual([
      "A:del c010/2=0 e1",
      "B:del c010/2=0 e1",
      "A:del c010/2=1 e2",
      "B:del c010/2=1 e2",
      "B:add d010/2=0 e1",
      "A:add d010/2=0 e1",
      "B:add d010/2=1 e2",
      "A:add d010/2=1 e2",
    ]);
  });

  it("records neither before the other are kept silently; sections carry only fv, address and size", () => {
    const { io, bar } = pioMachine();
    const old = collectIoeventfds(renderFlatView(io));
    const e2 = notifier(3);
    bar.addEventfd(0x20n, 4, false, 0n, e2);
    const v = renderFlatView(io);
    const next = collectIoeventfds(v);
    const seen: unknown[] = [];
    diffIoeventfds(
      new ListenerCalls(),
      [{ eventfdAdd: (s) => seen.push(s), eventfdDel: (s) => seen.push(s) }],
      old,
      next,
      v,
    );
    expect(seen).toEqual([
      {
        mr: null,
        fv: v,
        offsetWithinRegion: 0n,
        offsetWithinAddressSpace: 0xc020n,
        size: 4n,
        readonly: false,
        nonvolatile: false,
      },
    ]);
  });
});
