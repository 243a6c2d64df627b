import {
  MEMTX_ACCESS_ERROR,
  MEMTX_DECODE_ERROR,
  MEMTX_ERROR,
  MEMTX_OK,
  MemoryRegion,
  type MemoryRegionOps,
  SIZE_2_64,
} from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { MemorySystem, UNASSIGNED_IO_OPS } from "../../src/index.js";
import { notifier } from "./recorder.js";

type Access = string;

/** A device that records every callback as `r|w size@offset[=value]` and reads back `value(offset, size)`. */
function device(
  log: Access[],
  extra: Partial<MemoryRegionOps> = {},
  value = (o: bigint, s: number) => o * 0x10n + BigInt(s),
) {
  return {
    read(offset: bigint, size: number): bigint {
      log.push(`r ${size}@${offset.toString(16)}`);
      return value(offset, size);
    },
    write(offset: bigint, v: bigint, size: number): void {
      log.push(`w ${size}@${offset.toString(16)}=${v.toString(16)}`);
    },
    ...extra,
  } satisfies MemoryRegionOps;
}

function machine(options: { accel?: "kvm" | "tcg" | "none"; targetBigEndian?: boolean } = {}) {
  const sys = new MemorySystem(options);
  const system = new MemoryRegion(sys, { kind: "container", name: "system", size: SIZE_2_64 });
  const ram = new MemoryRegion(sys, { kind: "ram", name: "ram", size: 0x10000n });
  system.addSubregion(0n, ram);
  const memory = sys.createAddressSpace("memory", system);
  return { sys, system, ram, memory };
}

const bytes = (...b: number[]) => new Uint8Array(b);

describe("translate, read and write (flatview_read/flatview_write)", () => {
  it("RAM is read and written directly through the RAM block", () => {
    const { memory, ram } = machine();
    expect(memory.write(0x100n, bytes(1, 2, 3, 4))).toBe(MEMTX_OK);
    expect([...ram.ramBlock!.bytes().subarray(0x100, 0x104)]).toEqual([1, 2, 3, 4]);
    const out = new Uint8Array(4);
    expect(memory.read(0x100n, out)).toBe(MEMTX_OK);
    expect([...out]).toEqual([1, 2, 3, 4]);
  });

  it("writes to ROM are not direct: dispatched to unassigned_mem_ops, dropped, MEMTX_DECODE_ERROR", () => {
    const { sys, system, memory } = machine();
    const rom = new MemoryRegion(sys, { kind: "rom", name: "pc.bios", size: 0x1000n });
    rom.ramBlock!.bytes()[0] = 0x55;
    system.addSubregion(0xf0000n, rom);
    expect(memory.write(0xf0000n, bytes(0xaa, 0xbb))).toBe(MEMTX_DECODE_ERROR);
    expect(rom.ramBlock!.bytes()[0]).toBe(0x55);
    const out = new Uint8Array(1);
    expect(memory.read(0xf0000n, out)).toBe(MEMTX_OK);
    expect(out[0]).toBe(0x55);
  });

  it("the access path ignores FlatRange.readonly: a write through a read-only alias of RAM writes the RAM", () => {
    const { sys, system, ram, memory } = machine();
    const pam = new MemoryRegion(sys, { kind: "alias", name: "pam-rom", size: 0x1000n, target: ram, offset: 0x2000n });
    pam.setReadonly(true);
    system.addSubregionOverlap(0x2000n, pam, 1);
    expect(memory.currentMap.lookup(0x2000n)!.readonly).toBe(true);
    expect(memory.write(0x2000n, bytes(7))).toBe(MEMTX_OK);
    expect(ram.ramBlock!.bytes()[0x2000]).toBe(7);
  });

  it("ROM device: romd on reads come from RAM and writes go to the ops; romd off both go to the ops", () => {
    const { sys, system, memory } = machine();
    const log: Access[] = [];
    const flash = new MemoryRegion(sys, { kind: "rom-device", name: "flash", size: 0x1000n, ops: device(log) });
    flash.ramBlock!.bytes()[4] = 0x99;
    system.addSubregion(0x20000n, flash);
    const out = new Uint8Array(1);
    memory.read(0x20004n, out);
    expect(out[0]).toBe(0x99);
    memory.write(0x20004n, bytes(0x12));
    expect(log).toEqual(["w 1@4=12"]);
    flash.setRomdMode(false);
    memory.read(0x20004n, out);
    expect(log).toEqual(["w 1@4=12", "r 1@4"]);
    expect(out[0]).toBe(0x41);
  });

  it("RAM accesses split at range ends; the MMIO rest goes through memory_access_size", () => {
    const { sys, system, memory, ram } = machine();
    const log: Access[] = [];
    system.addSubregion(0x10000n, new MemoryRegion(sys, { kind: "io", name: "dev", size: 0x100n, ops: device(log) }));
    ram.ramBlock!.bytes().set([1, 2], 0xfffe);
    const out = new Uint8Array(5);
    expect(memory.read(0xfffen, out)).toBe(MEMTX_OK);
    expect(log).toEqual(["r 2@0", "r 1@2"]);
    expect([...out]).toEqual([1, 2, 0x02, 0x00, 0x21]);
  });

  it("memory_access_size: a 3-byte read at offset 0 of default ops is 2 bytes at 0, then 1 byte at 2", () => {
    const { sys, system, memory } = machine();
    const log: Access[] = [];
    system.addSubregion(0x10000n, new MemoryRegion(sys, { kind: "io", name: "dev", size: 0x100n, ops: device(log) }));
    memory.read(0x10000n, new Uint8Array(3));
    expect(log).toEqual(["r 2@0", "r 1@2"]);
  });

  it("memory_access_size: valid.max_access_size 0 means 4, alignment caps unless impl.unaligned", () => {
    const { sys, system, memory } = machine();
    const log: Access[] = [];
    const wide = device(log, { valid: { maxAccessSize: 8 } });
    system.addSubregion(0x10000n, new MemoryRegion(sys, { kind: "io", name: "wide", size: 0x100n, ops: wide }));
    memory.read(0x10002n, new Uint8Array(8));
    expect(log).toEqual(["r 2@2", "r 4@4", "r 2@8"]);
    log.length = 0;
    const loose = device(log, {
      valid: { maxAccessSize: 8, unaligned: true },
      impl: { unaligned: true, maxAccessSize: 8 },
    });
    system.addSubregion(0x20000n, new MemoryRegion(sys, { kind: "io", name: "loose", size: 0x100n, ops: loose }));
    memory.read(0x20002n, new Uint8Array(8));
    expect(log).toEqual(["r 8@2"]);
  });

  it("MMIO lengths are not clamped to the range: inl 0xcf8 reaches pci-conf-idx whole, outb 0xcf9 the reset control (flatview_write_continue)", () => {
    const sys = new MemorySystem();
    const io = new MemoryRegion(sys, { kind: "io", name: "io", size: 0x10000n, ops: UNASSIGNED_IO_OPS });
    const idxLog: Access[] = [];
    const rcLog: Access[] = [];
    io.addSubregion(0xcf8n, new MemoryRegion(sys, { kind: "io", name: "pci-conf-idx", size: 4n, ops: device(idxLog) }));
    const rc = new MemoryRegion(sys, { kind: "io", name: "piix3-reset-control", size: 1n, ops: device(rcLog) });
    io.addSubregionOverlap(0xcf9n, rc, 1);
    const pio = sys.createAddressSpace("I/O", io);
    expect(pio.currentMap.ranges.filter((r) => r.start >= 0xcf8n && r.start < 0xcfcn).map((r) => r.mr.name)).toEqual([
      "pci-conf-idx",
      "piix3-reset-control",
      "pci-conf-idx",
    ]);
    pio.write(0xcf8n, bytes(0x00, 0x00, 0x00, 0x80));
    expect(idxLog).toEqual(["w 4@0=80000000"]);
    pio.write(0xcf9n, bytes(0x06));
    expect(rcLog).toEqual(["w 1@0=6"]);
  });
});

describe("MemoryRegionOps (memory_region_access_valid/access_with_adjusted_size)", () => {
  function oneDevice(ops: MemoryRegionOps, options: { targetBigEndian?: boolean; accel?: "kvm" | "tcg" } = {}) {
    const m = machine(options);
    const dev = new MemoryRegion(m.sys, { kind: "io", name: "dev", size: 0x100n, ops });
    m.system.addSubregion(0x10000n, dev);
    return { ...m, dev };
  }

  it("validity: valid.accepts refusing gives 0 with MEMTX_DECODE_ERROR and the device is not called", () => {
    const log: Access[] = [];
    const { memory } = oneDevice(device(log, { valid: { accepts: (_o, _s, isWrite) => !isWrite } }));
    const out = new Uint8Array(2).fill(0xee);
    expect(memory.read(0x10000n, out)).toBe(MEMTX_OK);
    expect(memory.write(0x10000n, bytes(1))).toBe(MEMTX_DECODE_ERROR);
    expect(log).toEqual(["r 2@0"]);
  });

  it("validity: unaligned accesses are invalid unless valid.unaligned; sizes outside [min, max] are invalid", () => {
    const log: Access[] = [];
    const { memory } = oneDevice(
      device(log, { valid: { minAccessSize: 2, maxAccessSize: 4 }, impl: { unaligned: true } }),
    );
    const out = new Uint8Array(2).fill(0xee);
    expect(memory.read(0x10001n, out)).toBe(MEMTX_DECODE_ERROR);
    expect([...out]).toEqual([0, 0]);
    expect(memory.read(0x10000n, new Uint8Array(1))).toBe(MEMTX_DECODE_ERROR);
    expect(memory.read(0x10000n, new Uint8Array(4))).toBe(MEMTX_OK);
    expect(log).toEqual(["r 4@0"]);
  });

  // The value is the one the device sees (after the byte-order adjustment): 0x11223344 in its own order.
  it("access_with_adjusted_size: a 4-byte write of 0x11223344 to impl.max 1 is four 1-byte writes, LE low byte first", () => {
    const log: Access[] = [];
    const { memory } = oneDevice(device(log, { impl: { maxAccessSize: 1 }, endianness: "little" }));
    memory.write(0x10000n, bytes(0x44, 0x33, 0x22, 0x11));
    expect(log).toEqual(["w 1@0=44", "w 1@1=33", "w 1@2=22", "w 1@3=11"]);
  });

  it("access_with_adjusted_size: the same write to a big-endian device gives 0x11 at +0 … 0x44 at +3", () => {
    const log: Access[] = [];
    const { memory } = oneDevice(device(log, { impl: { maxAccessSize: 1 }, endianness: "big" }));
    memory.write(0x10000n, bytes(0x11, 0x22, 0x33, 0x44));
    expect(log).toEqual(["w 1@0=11", "w 1@1=22", "w 1@2=33", "w 1@3=44"]);
  });

  it("access_with_adjusted_size: a 1-byte read at offset 3 with impl.min 4 is one 4-byte read at offset 3", () => {
    const log: Access[] = [];
    const le = oneDevice(device(log, { impl: { minAccessSize: 4 }, endianness: "little" }, () => 0xaabbccddn));
    expect(le.memory.readValue(0x10003n, 1).value).toBe(0xddn);
    expect(log).toEqual(["r 4@3"]);
    const be = oneDevice(device([], { impl: { minAccessSize: 4 }, endianness: "big" }, () => 0xaabbccddn));
    expect(be.memory.readValue(0x10003n, 1).value).toBe(0xaan);
  });

  it("access_with_adjusted_size: a 1-byte write of 0xab with impl.min 4 is a zero-extended 4-byte write at the same offset", () => {
    const log: Access[] = [];
    const { memory } = oneDevice(device(log, { impl: { minAccessSize: 4 }, valid: { unaligned: true } }));
    memory.write(0x10001n, bytes(0xab));
    expect(log).toEqual(["w 4@1=ab"]);
  });

  it("byte order: the device sees the bytes of the access in its own order", () => {
    const le: Access[] = [];
    const be: Access[] = [];
    oneDevice(device(le, { endianness: "little" })).memory.write(0x10000n, bytes(0x11, 0x22, 0x33, 0x44));
    oneDevice(device(be, { endianness: "big" })).memory.write(0x10000n, bytes(0x11, 0x22, 0x33, 0x44));
    expect(le).toEqual(["w 4@0=44332211"]);
    expect(be).toEqual(["w 4@0=11223344"]);
    const out = new Uint8Array(4);
    oneDevice(device([], { endianness: "big" }, () => 0x11223344n)).memory.read(0x10000n, out);
    expect([...out]).toEqual([0x11, 0x22, 0x33, 0x44]);
  });

  it("byte order: native-endian devices follow the target; readValue/writeValue use the target's order", () => {
    const log: Access[] = [];
    const { memory } = oneDevice(device(log), { targetBigEndian: true });
    memory.write(0x10000n, bytes(0x11, 0x22));
    expect(log).toEqual(["w 2@0=1122"]);
    const ram = machine({ targetBigEndian: true });
    ram.memory.writeValue(0x10n, 4, 0x01020304n);
    expect([...ram.ram.ramBlock!.bytes().subarray(0x10, 0x14)]).toEqual([1, 2, 3, 4]);
    expect(ram.memory.readValue(0x10n, 2).value).toBe(0x0102n);
  });

  it("readWithAttrs/writeWithAttrs results are OR-ed over the pieces", () => {
    const ops: MemoryRegionOps = {
      impl: { maxAccessSize: 1 },
      readWithAttrs: (o) => ({ value: o, result: o === 1n ? MEMTX_ERROR : MEMTX_OK }),
      writeWithAttrs: (o) => (o === 0n ? MEMTX_ERROR : MEMTX_OK),
    };
    const { memory } = oneDevice(ops);
    const out = new Uint8Array(2);
    expect(memory.read(0x10000n, out)).toBe(MEMTX_ERROR);
    expect([...out]).toEqual([0, 1]);
    expect(memory.write(0x10000n, bytes(1, 2))).toBe(MEMTX_ERROR);
  });

  it("a device read returning a non-bigint is a typed error", () => {
    const { memory } = oneDevice({ read: () => 5 as unknown as bigint, write: () => {} });
    expect(() => memory.read(0x10000n, new Uint8Array(1))).toThrow(
      expect.objectContaining({ code: "E_DEVICE_READ_VALUE" }),
    );
  });

  it("RAM devices are RAM accessed through ram_device_mem_ops (host order, up to 8 bytes)", () => {
    const { sys, system, memory } = machine();
    const bar = new MemoryRegion(sys, { kind: "ram-device", name: "vfio-bar", size: 0x1000n });
    system.addSubregion(0x40000n, bar);
    expect(memory.write(0x40001n, bytes(1, 2, 3, 4, 5, 6, 7, 8))).toBe(MEMTX_OK);
    expect([...bar.ramBlock!.bytes().subarray(1, 9)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(memory.readValue(0x40001n, 8).value).toBe(0x0807060504030201n);
  });
});

describe("unassigned addresses and unassigned_mem_ops", () => {
  it("a gap of the memory space reads 0 with MEMTX_DECODE_ERROR; writes are dropped with MEMTX_DECODE_ERROR", () => {
    const { memory } = machine();
    const out = new Uint8Array(4).fill(0xff);
    expect(memory.read(0x900000n, out)).toBe(MEMTX_DECODE_ERROR);
    expect([...out]).toEqual([0, 0, 0, 0]);
    expect(memory.write(0x900000n, bytes(1))).toBe(MEMTX_DECODE_ERROR);
  });

  it("I/O gaps belong to the io region (unassigned_io_ops): all ones with MEMTX_OK; a null-ops I/O region is unassigned_mem_ops", () => {
    const sys = new MemorySystem();
    const io = new MemoryRegion(sys, { kind: "io", name: "io", size: 0x10000n, ops: UNASSIGNED_IO_OPS });
    const pio = sys.createAddressSpace("I/O", io);
    const out = new Uint8Array(2);
    expect(pio.read(0x80n, out)).toBe(MEMTX_OK);
    expect([...out]).toEqual([0xff, 0xff]);
    expect(pio.write(0x80n, bytes(1))).toBe(MEMTX_OK);
    const reserved = new MemoryRegion(sys, { kind: "io", name: "reserved", size: 0x10n });
    io.addSubregion(0x100n, reserved);
    expect(pio.read(0x100n, out)).toBe(MEMTX_DECODE_ERROR);
  });

  it("attrs.memory: an access that needs real memory is refused on MMIO with MEMTX_ACCESS_ERROR", () => {
    const { memory } = machine();
    expect(memory.read(0x900000n, new Uint8Array(4), { memory: true })).toBe(MEMTX_ACCESS_ERROR);
    expect(memory.read(0x0n, new Uint8Array(4), { memory: true })).toBe(MEMTX_OK);
    expect(memory.read(0xfffcn, new Uint8Array(8), { memory: true })).toBe(MEMTX_ACCESS_ERROR);
  });

  it("bad arguments are typed errors", () => {
    const { memory } = machine();
    expect(() => memory.read(-1n, new Uint8Array(1))).toThrow(expect.objectContaining({ code: "E_INVALID_ADDRESS" }));
    expect(() => memory.readValue(0n, 9)).toThrow(expect.objectContaining({ code: "E_INVALID_SIZE" }));
    expect(() => memory.write(0n, [1] as unknown as Uint8Array)).toThrow(
      expect.objectContaining({ code: "E_INVALID_ARGUMENT" }),
    );
    expect(memory.read(0n, new Uint8Array(0))).toBe(MEMTX_OK);
  });
});

describe("userspace ioeventfd fallback (memory_region_dispatch_write_eventfds)", () => {
  function virtio(accel: "kvm" | "tcg") {
    const m = machine({ accel });
    const log: Access[] = [];
    const dev = new MemoryRegion(m.sys, { kind: "io", name: "notify", size: 0x100n, ops: device(log) });
    const e = notifier();
    const any = notifier();
    dev.addEventfd(0x10n, 2, true, 1n, e);
    dev.addEventfd(0x20n, 0, false, 0n, any);
    m.system.addSubregion(0x10000n, dev);
    return { ...m, log, e, any };
  }

  it("without KVM a matching write signals the first matching record and the device is not called", () => {
    const { memory, log, e, any } = virtio("tcg");
    memory.write(0x10010n, bytes(1, 0));
    expect(e.signals).toBe(1);
    expect(log).toEqual([]);
    memory.write(0x10010n, bytes(2, 0));
    expect(log).toEqual(["w 2@10=2"]);
    memory.write(0x10010n, bytes(1));
    expect(log).toEqual(["w 2@10=2", "w 1@10=1"]);
    memory.write(0x10020n, bytes(9, 9, 9, 9));
    expect(any.signals).toBe(1);
  });

  it("under KVM the kernel matches: the userspace check is skipped", () => {
    const { memory, log, e } = virtio("kvm");
    memory.write(0x10010n, bytes(1, 0));
    expect(e.signals).toBe(0);
    expect(log).toEqual(["w 2@10=1"]);
  });
});
