import { describe, expect, it } from "vitest";
import { type EventNotifier, MemoryRegion, SIZE_2_64, StandaloneHost } from "../src/index.js";

function setup() {
  const host = new StandaloneHost();
  const c = new MemoryRegion(host, { kind: "container", name: "c", size: 0x10000n });
  const r = new MemoryRegion(host, { kind: "ram", name: "r", size: 0x1000n });
  c.addSubregion(0n, r);
  host.topologyPending = false;
  host.ioeventfdPending = false;
  return { host, c, r };
}

const notifier = (id: number): EventNotifier => ({ id, signal() {} });

describe("which mutators schedule work (memory_region_transaction_commit)", () => {
  it("set_enabled always schedules when the flag flips, even on an unmapped region", () => {
    const host = new StandaloneHost();
    const lone = new MemoryRegion(host, { kind: "ram", name: "lone", size: 0x1000n });
    lone.setEnabled(false);
    expect(host.topologyPending).toBe(true);
  });

  it("set_enabled to the current value does nothing", () => {
    const { host, r } = setup();
    r.setEnabled(true);
    expect(host.topologyPending).toBe(false);
    expect(host.depth).toBe(0);
  });

  it("add/del_subregion schedule only when both container and child are enabled", () => {
    const { host, c } = setup();
    const d = new MemoryRegion(host, { kind: "io", name: "d", size: 0x10n });
    d.setEnabled(false);
    host.topologyPending = false;
    c.addSubregion(0x2000n, d);
    expect(host.topologyPending).toBe(false);
    c.delSubregion(d);
    expect(host.topologyPending).toBe(false);
    d.setEnabled(true);
    host.topologyPending = false;
    c.addSubregion(0x2000n, d);
    expect(host.topologyPending).toBe(true);
  });

  it("set_readonly, set_nonvolatile and set_alias_offset schedule only if the region itself is enabled", () => {
    const { host, r } = setup();
    r.setEnabled(false);
    host.topologyPending = false;
    r.setReadonly(true);
    r.setNonvolatile(true);
    expect(host.topologyPending).toBe(false);
    expect(r.readonly).toBe(true);
    expect(r.nonvolatile).toBe(true);
    r.setEnabled(true);
    host.topologyPending = false;
    r.setReadonly(false);
    expect(host.topologyPending).toBe(true);
  });

  it("set_size always schedules; UINT64_MAX means 2^64", () => {
    const host = new StandaloneHost();
    const lone = new MemoryRegion(host, { kind: "container", name: "big", size: 0x1000n });
    lone.setSize(0xffffffffffffffffn);
    expect(lone.size).toBe(SIZE_2_64);
    expect(host.topologyPending).toBe(true);
  });

  it("set_address without a container changes addr with no update at all (memory_region_set_address)", () => {
    const host = new StandaloneHost();
    const lone = new MemoryRegion(host, { kind: "ram", name: "lone", size: 0x1000n });
    lone.setAddress(0x5000n);
    expect(lone.addr).toBe(0x5000n);
    expect(host.topologyPending).toBe(false);
  });

  it("set_log(VGA) keeps a use count: only 0↔1 transitions change the mask and schedule", () => {
    const { host, r } = setup();
    r.setLog(true);
    expect(r.dirtyLogMask).toBe(1);
    expect(host.topologyPending).toBe(true);
    host.topologyPending = false;
    r.setLog(true);
    r.setLog(false);
    expect(host.topologyPending).toBe(false);
    expect(r.dirtyLogMask).toBe(1);
    r.setLog(false);
    expect(r.dirtyLogMask).toBe(0);
    expect(host.topologyPending).toBe(true);
    expect(() => r.setLog(false)).toThrow(expect.objectContaining({ code: "E_LOG_UNDERFLOW" }));
  });

  it("add/del_eventfd schedule the ioeventfd flag, not topology, and only when enabled", () => {
    const { host, r } = setup();
    r.addEventfd(0x10n, 4, false, 0n, notifier(1));
    expect(host.ioeventfdPending).toBe(true);
    expect(host.topologyPending).toBe(false);
    r.setEnabled(false);
    host.ioeventfdPending = false;
    r.delEventfd(0x10n, 4, false, 0n, notifier(1));
    expect(host.ioeventfdPending).toBe(false);
  });

  it("every mutator runs inside one begin/commit pair", () => {
    let events = "";
    const host = new StandaloneHost();
    host.begin = () => {
      events += "b";
    };
    host.commit = () => {
      events += "c";
    };
    const c = new MemoryRegion(host, { kind: "container", name: "c", size: 0x10000n });
    const r = new MemoryRegion(host, { kind: "ram", name: "r", size: 0x1000n });
    c.addSubregion(0n, r);
    r.setAddress(0x1000n);
    expect(events).toBe("bcbbcbcc");
  });
});

describe("ioeventfd records on a region (memory_region_add_eventfd/_del_eventfd)", () => {
  it("keeps records sorted by start, size, match_data, data (only when matching), notifier", () => {
    const { r } = setup();
    r.addEventfd(0x10n, 2, true, 1n, notifier(2));
    r.addEventfd(0x10n, 2, true, 0n, notifier(1));
    r.addEventfd(0x10n, 2, false, 9n, notifier(3));
    r.addEventfd(0x8n, 4, false, 0n, notifier(4));
    expect(r.ioeventfds.map((e) => e.notifier.id)).toEqual([4, 3, 1, 2]);
  });

  it("deleting with size 0 removes the first record at that start regardless of data or notifier", () => {
    const { r } = setup();
    r.addEventfd(0x10n, 2, true, 1n, notifier(2));
    r.addEventfd(0x10n, 2, true, 0n, notifier(1));
    r.delEventfd(0x10n, 0, false, 0n, notifier(99));
    expect(r.ioeventfds.map((e) => e.notifier.id)).toEqual([2]);
  });

  it("deleting a record that is not there is a typed error and changes nothing", () => {
    const { r } = setup();
    r.addEventfd(0x10n, 2, true, 1n, notifier(2));
    expect(() => r.delEventfd(0x10n, 2, true, 5n, notifier(2))).toThrow(
      expect.objectContaining({ code: "E_NO_SUCH_IOEVENTFD" }),
    );
    expect(r.ioeventfds).toHaveLength(1);
  });

  it("data is stored in the device's byte order (big-endian device on a little-endian target)", () => {
    const host = new StandaloneHost();
    const dev = new MemoryRegion(host, { kind: "io", name: "be", size: 0x100n, ops: { endianness: "big" } });
    dev.addEventfd(0n, 2, true, 0x1234n, notifier(1));
    expect(dev.ioeventfds[0]!.data).toBe(0x3412n);
  });
});

describe("memory_region_type", () => {
  it("prints the final alias target's word, romd only in romd mode, ramd for RAM devices", () => {
    const host = new StandaloneHost();
    const ram = new MemoryRegion(host, { kind: "ram", name: "ram", size: 0x1000n });
    const rom = new MemoryRegion(host, { kind: "rom", name: "rom", size: 0x1000n });
    const romd = new MemoryRegion(host, { kind: "rom-device", name: "flash", size: 0x1000n, ops: {} });
    const ramd = new MemoryRegion(host, { kind: "ram-device", name: "bar", size: 0x1000n });
    const container = new MemoryRegion(host, { kind: "container", name: "c", size: 0x1000n });
    const a1 = new MemoryRegion(host, { kind: "alias", name: "a1", size: 0x1000n, target: ram, offset: 0n });
    const a2 = new MemoryRegion(host, { kind: "alias", name: "a2", size: 0x1000n, target: a1, offset: 0n });
    a2.setReadonly(true);
    expect([ram, rom, romd, ramd, container, a2].map((r) => r.type())).toEqual([
      "ram",
      "rom",
      "romd",
      "ramd",
      "i/o",
      "ram",
    ]);
    romd.setRomdMode(false);
    expect(romd.type()).toBe("i/o");
    ramd.setReadonly(true);
    expect(ramd.type()).toBe("ramd");
  });
});

describe("mapped_via_alias", () => {
  it("counts every region on a mapped alias chain, not through containers", () => {
    const host = new StandaloneHost();
    const sys = new MemoryRegion(host, { kind: "container", name: "sys", size: 0x100000n });
    const ram = new MemoryRegion(host, { kind: "ram", name: "ram", size: 0x1000n });
    const a1 = new MemoryRegion(host, { kind: "alias", name: "a1", size: 0x1000n, target: ram, offset: 0n });
    const a2 = new MemoryRegion(host, { kind: "alias", name: "a2", size: 0x1000n, target: a1, offset: 0n });
    sys.addSubregion(0n, a2);
    expect([a1.mappedViaAlias, ram.mappedViaAlias]).toEqual([1, 1]);
    expect(ram.isMapped).toBe(true);
    sys.delSubregion(a2);
    expect([a1.mappedViaAlias, ram.mappedViaAlias]).toEqual([0, 0]);
    expect(ram.isMapped).toBe(false);
  });
});

describe("topologyWillChange: the incremental-render hook", () => {
  it("is called before each scheduling change with the region whose placement changes, seeing the old state", () => {
    const host = new StandaloneHost();
    const seen: string[] = [];
    host.topologyWillChange = (mr) => {
      seen.push(`${mr.name}@${mr.addr.toString(16)}:${mr.container?.name ?? "-"}`);
    };
    const c = new MemoryRegion(host, { kind: "container", name: "c", size: 0x10000n });
    const r = new MemoryRegion(host, { kind: "ram", name: "r", size: 0x1000n });
    c.addSubregion(0x1000n, r);
    r.setAddress(0x2000n);
    r.setReadonly(true);
    c.delSubregion(r);
    expect(seen).toEqual(["r@0:-", "r@1000:c", "r@1000:-", "r@2000:c", "r@2000:c"]);
  });

  it("aliasedBy lists the aliases that target a region", () => {
    const host = new StandaloneHost();
    const ram = new MemoryRegion(host, { kind: "ram", name: "ram", size: 0x1000n });
    const a = new MemoryRegion(host, { kind: "alias", name: "a", size: 0x1000n, target: ram, offset: 0n });
    const b = new MemoryRegion(host, { kind: "alias", name: "b", size: 0x800n, target: ram, offset: 0x800n });
    expect([...ram.aliasedBy]).toEqual([a, b]);
    expect(a.aliasedBy.size).toBe(0);
  });
});
