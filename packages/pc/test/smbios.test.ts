import { readFileSync } from "node:fs";
import { pcCaptureFile } from "@memtopo/fixtures";
import { describe, expect, it } from "vitest";
import { E820_RAM, pcE820, type SmbiosConfig, smbiosBuild, splitRam } from "../src/index.js";
import { mockBoard, SIZES } from "./fixtures.js";
import { fwCfgFile } from "./helpers.js";

const fixture = (size: string, file: string) => new Uint8Array(readFileSync(pcCaptureFile(`acpi/m${size}/${file}`)));

const GIB = 1n << 30n;
const TIB = 1n << 40n;

/** QEMU 7.2's defaults for -M pc with the qemu64 CPU under TCG (its unfiltered CPUID.1). */
function config(ramSize: bigint, overrides: Partial<SmbiosConfig> = {}): SmbiosConfig {
  return {
    manufacturer: "QEMU",
    product: "Standard PC (i440FX + PIIX, 1996)",
    version: "pc-i440fx-7.2",
    uuid: new Uint8Array(16),
    ramSize,
    ramAreas: pcE820(splitRam(ramSize)).filter((e) => e.type === E820_RAM),
    sockets: 1,
    cores: 1,
    threads: 1,
    cpuidVersion: 0x0006_0fb1,
    cpuidFeatures: 0x078b_fbfd,
    ...overrides,
  };
}

/** The structures of a tables blob: each one's type, handle, formatted bytes and strings. */
function structures(tables: Uint8Array) {
  const out: { type: number; handle: number; formatted: Uint8Array; strings: string[] }[] = [];
  let at = 0;
  while (at < tables.length) {
    const length = tables[at + 1]!;
    let end = at + length;
    while (tables[end] !== 0 || tables[end + 1] !== 0) end++;
    const text = new TextDecoder().decode(tables.subarray(at + length, end));
    out.push({
      type: tables[at]!,
      handle: tables[at + 2]! | (tables[at + 3]! << 8),
      formatted: tables.subarray(at, at + length),
      strings: text === "" ? [] : text.split("\0"),
    });
    at = end + 2;
  }
  return out;
}

const u16 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint16(at, true);
const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
const u64 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getBigUint64(at, true);

describe.each(SIZES)("SMBIOS against QEMU 7.2's fw_cfg files, -m $name", ({ name, ramSize }) => {
  it("smbiosBuild's tables and entry point are QEMU's byte for byte (smbios_get_tables)", () => {
    const { tables, anchor } = smbiosBuild(config(ramSize));
    expect(tables).toEqual(fixture(name, "smbios-tables.bin"));
    expect(anchor).toEqual(fixture(name, "smbios-anchor.bin"));
  });

  it("the board offers them as etc/smbios/smbios-tables and -anchor (fw_cfg_build_smbios)", () => {
    // The mock's KVM supports every qemu64 CPUID.1 EDX bit, so the filtered CPU is QEMU's TCG one.
    const { board } = mockBoard({ ramSize });
    expect(fwCfgFile(board, "etc/smbios/smbios-tables")).toEqual(fixture(name, "smbios-tables.bin"));
    expect(fwCfgFile(board, "etc/smbios/smbios-anchor")).toEqual(fixture(name, "smbios-anchor.bin"));
  });
});

// Rule: QEMU 7.2's -smp 2 is one socket of two cores: one type 4 with core count 2, and a thread
// count of 2 (QEMU 7.2.22 counts the socket's threads there).
it("-smp 2: smbiosBuild's tables and entry point are QEMU's byte for byte", () => {
  const { tables, anchor } = smbiosBuild(config(128n << 20n, { sockets: 1, cores: 2, threads: 1 }));
  expect(tables).toEqual(fixture("128M-smp2", "smbios-tables.bin"));
  expect(anchor).toEqual(fixture("128M-smp2", "smbios-anchor.bin"));
});

describe("SMBIOS structures (QEMU 7.2's smbios.c rules)", () => {
  it("types 1, 3, 4, 16, 17, 19 per e820 RAM range, 32, 127: no type 0, which SeaBIOS adds itself", () => {
    const list = structures(smbiosBuild(config(6n * GIB)).tables);
    expect(list.map((s) => `${s.type}@${s.handle.toString(16)}`)).toEqual([
      "1@100",
      "3@300",
      "4@400",
      "16@1000",
      "17@1100",
      "19@1300",
      "19@1301",
      "32@2000",
      "127@7f00",
    ]);
  });

  it("the entry point counts the structures, their bytes and the largest one; checksums are the firmware's", () => {
    const { tables, anchor } = smbiosBuild(config(6n * GIB));
    const list = structures(tables);
    expect(u16(anchor, 0x16)).toBe(tables.length);
    expect(u16(anchor, 0x1c)).toBe(list.length);
    const largest = Math.max(...list.map((s) => s.formatted.length + s.strings.join("\0").length + 2));
    expect(u16(anchor, 8)).toBe(largest);
    expect([anchor[4], anchor[0x15], u32(anchor, 0x18)]).toEqual([0, 0, 0]);
    expect([anchor[6], anchor[7], anchor[0x1e]]).toEqual([2, 8, 0x28]);
  });

  it("splits RAM into 16 GiB memory devices, the last one holding the rest (GET_DIMM_SZ)", () => {
    const list = structures(smbiosBuild(config(40n * GIB)).tables);
    expect(u16(list.find((s) => s.type === 16)!.formatted, 13)).toBe(3);
    const dimms = list.filter((s) => s.type === 17);
    expect(dimms.map((s) => [s.handle, u16(s.formatted, 12), s.strings[0]])).toEqual([
      [0x1100, 16384, "DIMM 0"],
      [0x1101, 16384, "DIMM 1"],
      [0x1102, 8192, "DIMM 2"],
    ]);
  });

  it("rounds a memory device's size up to whole MiB and the array's capacity up to whole KiB", () => {
    const ramSize = (128n << 20n) + 1n;
    const ramAreas = [{ address: 0n, length: ramSize }];
    const list = structures(smbiosBuild(config(128n << 20n, { ramSize, ramAreas })).tables);
    expect(u16(list.find((s) => s.type === 17)!.formatted, 12)).toBe(129);
    expect(u32(list.find((s) => s.type === 16)!.formatted, 7)).toBe(128 * 1024 + 1);
  });

  it("moves the type 19 handles past 0x1300 when more than 512 memory devices need handles", () => {
    const ramSize = 8n * TIB + 16n * GIB;
    const list = structures(smbiosBuild(config(ramSize)).tables);
    expect(list.filter((s) => s.type === 17).length).toBe(513);
    expect(list.filter((s) => s.type === 19).map((s) => s.handle)).toEqual([0x1301, 0x1302]);
  });

  it("uses type 16's extended capacity from 2 TiB and type 19's extended addresses past 4 TiB", () => {
    const ramSize = 5n * TIB;
    const list = structures(smbiosBuild(config(ramSize)).tables);
    const t16 = list.find((s) => s.type === 16)!.formatted;
    expect([u32(t16, 7), u64(t16, 15)]).toEqual([0x8000_0000, ramSize]);
    const [low, high] = list.filter((s) => s.type === 19).map((s) => s.formatted);
    expect([u32(low!, 4), u32(low!, 8), u64(low!, 15)]).toEqual([0, 3 * 1024 * 1024 - 1, 0n]);
    const end = 0x1_0000_0000n + ramSize - 3n * GIB - 1n;
    expect([u32(high!, 4), u32(high!, 8), u64(high!, 15), u64(high!, 23)]).toEqual([
      0xffff_ffff,
      0xffff_ffff,
      0x1_0000_0000n,
      end,
    ]);
  });

  it('names sockets "CPU%2x" and counts each one\'s cores and threads (255 at most)', () => {
    const list = structures(smbiosBuild(config(GIB, { sockets: 17, cores: 300, threads: 2 })).tables);
    const cpus = list.filter((s) => s.type === 4);
    expect(cpus.map((s) => s.strings[0])).toContain("CPU a");
    expect(cpus.at(-1)!.strings[0]).toBe("CPU10");
    expect(cpus.at(-1)!.handle).toBe(0x410);
    expect(Array.from(cpus[0]!.formatted.subarray(35, 38))).toEqual([0xff, 0xff, 0xff]);
    const small = structures(smbiosBuild(config(GIB, { cores: 3, threads: 2 })).tables).find((x) => x.type === 4)!;
    expect(Array.from(small.formatted.subarray(35, 38))).toEqual([3, 3, 6]);
  });

  it("stores the UUID with its first three fields little-endian and leaves empty strings out", () => {
    const uuid = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    const t1 = structures(smbiosBuild(config(GIB, { uuid, version: "" })).tables)[0]!;
    expect(Array.from(t1.formatted.subarray(8, 16))).toEqual([4, 3, 2, 1, 6, 5, 8, 7]);
    expect(Array.from(t1.formatted.subarray(16, 24))).toEqual([9, 10, 11, 12, 13, 14, 15, 16]);
    expect([t1.formatted[4], t1.formatted[5], t1.formatted[6]]).toEqual([1, 2, 0]);
    expect(t1.strings).toEqual(["QEMU", "Standard PC (i440FX + PIIX, 1996)"]);
  });

  it.each([
    ["manufacturer", { manufacturer: "Q\u00e9MU" }],
    ["uuid", { uuid: new Uint8Array(8) }],
    ["ramSize", { ramSize: 0n }],
    ["ramAreas[0]", { ramAreas: [{ address: 0n, length: 0n }] }],
    ["sockets", { sockets: 0 }],
    ["sockets", { sockets: 0xc01 }],
    ["cores", { cores: 1.5 }],
    ["cpuidFeatures", { cpuidFeatures: -1 }],
  ] as const)("refuses a bad %s with E_PC_SMBIOS naming it", (field, override) => {
    expect(() => smbiosBuild(config(GIB, override as Partial<SmbiosConfig>))).toThrow(
      expect.objectContaining({ code: "E_PC_SMBIOS", message: expect.stringContaining(field) }),
    );
  });
});
