import { regionWindows, renderFlatView, rerenderWithEdit } from "@memtopo/flatview";
import { type EventNotifier, MemoryRegion, StandaloneHost } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { collectIoeventfdList, recollectIoeventfds, recollectIoeventfdsIn } from "../src/index.js";

const notifier = (id: number): EventNotifier => ({ id, signal: () => {} });

/** An I/O space of eight devices, two of them with a queue-notify ioeventfd each. */
function ports() {
  const host = new StandaloneHost();
  const io = new MemoryRegion(host, { kind: "io", name: "io", size: 0x10000n });
  const devs = Array.from({ length: 8 }, (_, i) => {
    const dev = new MemoryRegion(host, { kind: "io", name: `dev${i}`, size: 0x40n });
    if (i === 2 || i === 6) dev.addEventfd(0x10n, 2, true, BigInt(i), notifier(i));
    io.addSubregion(0xc000n + BigInt(i) * 0x100n, dev);
    return dev;
  });
  return { io, devs };
}

/** Where `mr` renders in the view of `root`, as the view table finds it. */
const windowsOf = (mr: MemoryRegion, root: MemoryRegion) => regionWindows(mr, new Set([root]))!.get(root) ?? [];

describe("ioeventfds collected again only in a re-rendered view's splices (address_space_update_ioeventfds)", () => {
  it("a device moved: its record moves, the other device's record is the same object, as a full collection finds", () => {
    const { io, devs } = ports();
    const before = collectIoeventfdList(renderFlatView(io));
    const windows = windowsOf(devs[2]!, io);
    devs[2]!.setAddress(0xd000n);
    windows.push(...windowsOf(devs[2]!, io));
    windows.sort((a, b) => (a.start < b.start ? -1 : 1));
    const { view, edit } = rerenderWithEdit(before.view, windows);
    const after = recollectIoeventfds(before, view, edit);
    expect(after.records).toEqual(collectIoeventfdList(renderFlatView(io)).records);
    expect(after.records.map((r) => r.start)).toEqual([0xc610n, 0xd010n]);
    expect(after.records[0]).toBe(before.records[1]);
  });

  it("a change away from every record keeps the very list, so the caller diffs nothing", () => {
    const { io, devs } = ports();
    const before = collectIoeventfdList(renderFlatView(io));
    const windows = windowsOf(devs[4]!, io);
    devs[4]!.setEnabled(false);
    const { view, edit } = rerenderWithEdit(before.view, windows);
    const after = recollectIoeventfds(before, view, edit);
    expect(after.view).toBe(view);
    expect(after.records).toBe(before.records);
  });

  it("without an edit from the list's view, the whole view is collected", () => {
    const { io, devs } = ports();
    const before = collectIoeventfdList(renderFlatView(io));
    devs[6]!.delEventfd(0x10n, 2, true, 6n, notifier(6));
    const view = renderFlatView(io);
    expect(recollectIoeventfds(before, view, undefined).records).toEqual(collectIoeventfdList(view).records);
    expect(recollectIoeventfds(before, view, undefined).records).toHaveLength(1);
  });

  it("an ioeventfd-only change: only the ranges in the changed device's windows are collected again, the rest kept as objects", () => {
    const { io, devs } = ports();
    const view = renderFlatView(io);
    const before = collectIoeventfdList(view);
    devs[6]!.addEventfd(0x20n, 4, false, 0n, notifier(9));
    const after = recollectIoeventfdsIn(before, windowsOf(devs[6]!, io));
    expect(after.view).toBe(view);
    expect(after.records).toEqual(collectIoeventfdList(view).records);
    expect(after.records.map((r) => r.start)).toEqual([0xc210n, 0xc610n, 0xc620n]);
    expect(after.records[0]).toBe(before.records[0]);
  });

  it("an ioeventfd-only change where the view shows nothing of the device keeps the very list", () => {
    const { io, devs } = ports();
    devs[3]!.setEnabled(false);
    const view = renderFlatView(io);
    const before = collectIoeventfdList(view);
    devs[3]!.addEventfd(0x8n, 1, false, 0n, notifier(3));
    const after = recollectIoeventfdsIn(before, windowsOf(devs[3]!, io));
    expect(after.records).toBe(before.records);
    expect(after.records).toEqual(collectIoeventfdList(view).records);
  });
});
