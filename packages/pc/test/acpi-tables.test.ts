import { readFileSync } from "node:fs";
import { pcCaptureFile } from "@memtopo/fixtures";
import { describe, expect, it } from "vitest";
import { ACPI_BUILD_TABLE_SIZE, type AcpiBuildConfig, acpiBuild } from "../src/acpi/acpi-build.js";
import { splitRam } from "../src/index.js";
import { mockBoard, SIZES } from "./fixtures.js";
import { cfgWrite, fwCfgFile } from "./helpers.js";

const fixture = (size: string, file: string) => new Uint8Array(readFileSync(pcCaptureFile(`acpi/m${size}/${file}`)));

/** The PIIX4 PM facts as SeaBIOS leaves them before it loads the tables (PM base moved to 0x600). */
function config(ramSize: bigint): AcpiBuildConfig {
  return {
    pm: { pmBase: 0x600, gpe0Blk: 0xafe0, sciInt: 9, smiCmd: 0xb2, acpiEnable: 0xf1, acpiDisable: 0xf0 },
    ramSplit: splitRam(ramSize),
    cpus: 1,
    hpet: true,
  };
}

const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
const sig = (b: Uint8Array, at: number) => String.fromCharCode(...b.subarray(at, at + 4));

/** The tables of a tables file by signature, found as firmware finds them: RSDP -> RSDT -> each entry. */
function tablesOf(tables: Uint8Array, rsdp: Uint8Array): Map<string, { offset: number; bytes: Uint8Array }> {
  const out = new Map<string, { offset: number; bytes: Uint8Array }>();
  const add = (offset: number) =>
    out.set(sig(tables, offset), { offset, bytes: tables.subarray(offset, offset + u32(tables, offset + 4)) });
  const rsdt = u32(rsdp, 16);
  add(rsdt);
  const count = (u32(tables, rsdt + 4) - 36) / 4;
  for (let i = 0; i < count; i++) add(u32(tables, rsdt + 36 + 4 * i));
  const fadt = out.get("FACP")!;
  add(u32(fadt.bytes, 40));
  out.set("FACS", {
    offset: u32(fadt.bytes, 36),
    bytes: tables.subarray(u32(fadt.bytes, 36), u32(fadt.bytes, 36) + 64),
  });
  return out;
}

interface Command {
  readonly kind: number;
  readonly words: readonly (string | number)[];
}

/** The loader script as a list of commands, with file names decoded. */
function commands(loader: Uint8Array): Command[] {
  const name = (at: number) => new TextDecoder().decode(loader.subarray(at, at + 56)).replace(/\0.*$/s, "");
  const out: Command[] = [];
  for (let at = 0; at + 128 <= loader.length && u32(loader, at) !== 0; at += 128) {
    const kind = u32(loader, at);
    if (kind === 1) out.push({ kind, words: [name(at + 4), u32(loader, at + 60), loader[at + 64]!] });
    else if (kind === 2)
      out.push({ kind, words: [name(at + 4), name(at + 60), u32(loader, at + 116), loader[at + 120]!] });
    else out.push({ kind, words: [name(at + 4), u32(loader, at + 60), u32(loader, at + 64), u32(loader, at + 68)] });
  }
  return out;
}

/** romfile_loader_execute as SeaBIOS runs it: each file at the given address, pointers relocated, checksums fixed. */
function load(files: Record<string, Uint8Array>, loader: Uint8Array, base: Record<string, number>): void {
  for (const c of commands(loader)) {
    if (c.kind === 2) {
      const [dest, src, offset, size] = c.words as [string, string, number, number];
      expect(size).toBe(4);
      const view = new DataView(files[dest]!.buffer, files[dest]!.byteOffset);
      view.setUint32(offset, view.getUint32(offset, true) + base[src]!, true);
    } else if (c.kind === 3) {
      const [file, offset, start, length] = c.words as [string, number, number, number];
      const data = files[file]!;
      let sum = 0;
      for (let i = start; i < start + length; i++) sum += data[i]!;
      data[offset] = (data[offset]! - sum) & 0xff;
    }
  }
}

const sum8 = (b: Uint8Array) => b.reduce((s, x) => (s + x) & 0xff, 0);

describe.each(SIZES)("ACPI tables of the board against QEMU 7.2's fw_cfg files, -m $name", ({ name, ramSize }) => {
  const ours = acpiBuild(config(ramSize));
  const qemuTables = fixture(name, "acpi-tables.bin");
  const qemuRsdp = fixture(name, "acpi-rsdp.bin");
  const theirs = tablesOf(qemuTables, qemuRsdp);
  const mine = tablesOf(ours.tables, ours.rsdp);

  // Rule: acpi_build pads etc/acpi/tables to ACPI_BUILD_TABLE_SIZE (128 KiB) and the loader to
  // 4 KiB, so the firmware allocates as much as under QEMU; the RSDP is ACPI 1.0's 20 bytes.
  it("has QEMU's file sizes: 128 KiB of tables, a 4 KiB loader script, a 20-byte RSDP", () => {
    expect(ours.tables.length).toBe(ACPI_BUILD_TABLE_SIZE);
    expect(ours.loader.length).toBe(4096);
    expect(ours.rsdp.length).toBe(qemuRsdp.length);
    // Signature, (zero) checksum, OEM ID, revision 0, the RSDT's offset.
    expect(ours.rsdp).toEqual(qemuRsdp);
  });

  // Rule: the tables QEMU builds for -M pc are FACS, DSDT, FACP, APIC, HPET, WAET and RSDT in that
  // order, each equal to QEMU's byte for byte, PM base 0x600 included.
  it("lays out QEMU's tables in QEMU's order; FACS, FADT, MADT, HPET, WAET and RSDT equal QEMU's bytes", () => {
    const order = (m: typeof mine) => [...m.entries()].sort((a, b) => a[1].offset - b[1].offset).map(([s]) => s);
    expect(order(mine)).toEqual(order(theirs));
    expect(order(mine)).toEqual(["FACS", "DSDT", "FACP", "APIC", "HPET", "WAET", "RSDT"]);
    for (const s of ["FACS", "FACP", "APIC", "HPET", "WAET", "RSDT"])
      expect(mine.get(s)!.bytes, s).toEqual(theirs.get(s)!.bytes);
  });

  // Rule: build_dsdt for -M pc: the DSDT is QEMU's byte for byte (6 333 bytes): the debug method,
  // PCI0, PCI hot-plug registers and PDSM, _PRT with LNKA-LNKD and LNKS, HPET, \_GPE, CPU
  // hot-plug with C000, PCI0's _CRS with the RAM-dependent windows, sleep states, fw_cfg, the 32
  // slots of bus 0 (PIIX3's with the ISA devices) with DVNT/PCNT, and \_GPE._E01.
  it("builds QEMU's DSDT byte for byte", () => {
    expect(mine.get("DSDT")!.bytes.length).toBe(6333);
    expect(mine.get("DSDT")!.bytes).toEqual(theirs.get("DSDT")!.bytes);
  });

  // Rule: with every table QEMU's, the three fw_cfg files are QEMU's: the tables file up to the
  // RSDT and zeros after it, the RSDP, and the loader script's 16 commands then zeros.
  it("hands over QEMU's etc/acpi/tables, etc/acpi/rsdp and etc/table-loader byte for byte", () => {
    expect(ours.tables.subarray(0, qemuTables.length)).toEqual(qemuTables);
    expect(ours.tables.subarray(qemuTables.length).every((b) => b === 0)).toBe(true);
    expect(ours.rsdp).toEqual(qemuRsdp);
    const qemuLoader = fixture(name, "table-loader.bin");
    expect(ours.loader.subarray(0, qemuLoader.length)).toEqual(qemuLoader);
    expect(ours.loader.subarray(qemuLoader.length).every((b) => b === 0)).toBe(true);
  });

  // Rule: the loader script allocates the RSDP in the F-segment (align 16) and the tables high
  // (align 64), then has QEMU's pointer and checksum commands, each on the same table field.
  it("has QEMU's loader commands, each on the same field of the same table", () => {
    const where = (m: typeof mine, offset: number) => {
      for (const [s, t] of m)
        if (offset >= t.offset && offset < t.offset + t.bytes.length) return `${s}+${offset - t.offset}`;
      return `?${offset}`;
    };
    const describeAll = (loader: Uint8Array, m: typeof mine) =>
      commands(loader).map((c) => {
        if (c.kind !== 2 && c.kind !== 3) return c.words.join(" ");
        const file = c.kind === 2 ? c.words[0] : c.words[0];
        const field = c.kind === 2 ? (c.words[2] as number) : (c.words[1] as number);
        const at = file === "etc/acpi/tables" ? where(m, field) : `rsdp+${field}`;
        return `${c.kind} ${c.words.slice(0, c.kind === 2 ? 2 : 1).join(" ")} ${at}${c.kind === 3 ? ` len ${c.words[3]}` : ""}`;
      });
    const mineCmds = describeAll(ours.loader, mine);
    const qemuCmds = describeAll(fixture(name, "table-loader.bin"), theirs);
    expect(mineCmds.length).toBe(16);
    expect(mineCmds).toEqual(qemuCmds);
  });

  // Rule: after SeaBIOS's romfile_loader runs the script, every table's checksum sums to zero,
  // the RSDP's 20 bytes sum to zero, and each pointer holds the address of the table it names.
  it("loads as SeaBIOS loads it: checksums sum to zero, pointers reach the named tables", () => {
    const files = { "etc/acpi/tables": ours.tables.slice(), "etc/acpi/rsdp": ours.rsdp.slice() };
    const base = { "etc/acpi/tables": 0x07fe_0000, "etc/acpi/rsdp": 0x000f_6a00 };
    load(files, ours.loader, base);
    const tables = files["etc/acpi/tables"];
    expect(sum8(files["etc/acpi/rsdp"])).toBe(0);
    const rsdt = u32(files["etc/acpi/rsdp"], 16) - base["etc/acpi/tables"];
    expect(sig(tables, rsdt)).toBe("RSDT");
    const entries = Array.from(
      { length: (u32(tables, rsdt + 4) - 36) / 4 },
      (_, i) => u32(tables, rsdt + 36 + 4 * i) - base["etc/acpi/tables"],
    );
    expect(entries.map((o) => sig(tables, o))).toEqual(["FACP", "APIC", "HPET", "WAET"]);
    const fadt = entries[0]!;
    expect(sig(tables, u32(tables, fadt + 36) - base["etc/acpi/tables"])).toBe("FACS");
    const dsdt = u32(tables, fadt + 40) - base["etc/acpi/tables"];
    expect(sig(tables, dsdt)).toBe("DSDT");
    for (const o of [rsdt, dsdt, ...entries])
      expect(sum8(tables.subarray(o, o + u32(tables, o + 4))), sig(tables, o)).toBe(0);
  });
});

// Rule: build_dsdt/build_madt for -smp 2 (QEMU 7.2: one socket of two cores): two Processor
// objects, C001 with _EJ0 (only the boot CPU cannot be ejected), CTFY for both, two Local APICs.
describe("ACPI tables with two CPUs against QEMU 7.2's -smp 2 files", () => {
  it("equal QEMU's etc/acpi/tables, etc/acpi/rsdp and etc/table-loader byte for byte", () => {
    const ours = acpiBuild({ ...config(128n << 20n), cpus: 2 });
    const qemuTables = fixture("128M-smp2", "acpi-tables.bin");
    expect(qemuTables.length).toBe(6872);
    expect(ours.tables.subarray(0, qemuTables.length)).toEqual(qemuTables);
    expect(ours.rsdp).toEqual(fixture("128M-smp2", "acpi-rsdp.bin"));
    const qemuLoader = fixture("128M-smp2", "table-loader.bin");
    expect(ours.loader.subarray(0, qemuLoader.length)).toEqual(qemuLoader);
  });
});

// Rule (acpi_build_update): the tables are rebuilt from the machine the first time firmware
// selects one of the three files, so the FADT carries the PM base the firmware had programmed
// (SeaBIOS moves it to 0x600 when etc/table-loader exists); -machine acpi=off offers none.
describe("ACPI files in the board's fw_cfg", () => {
  const readFile = fwCfgFile;

  it("offers QEMU's three files, the FADT holding the PM base programmed before the first select", () => {
    const { board } = mockBoard({ ramSize: 128n << 20n });
    cfgWrite(board, 1, 3, 0x40, 4, 0x601);
    const rsdp = readFile(board, "etc/acpi/rsdp")!;
    const tables = readFile(board, "etc/acpi/tables")!;
    expect(readFile(board, "etc/table-loader")!.length).toBe(4096);
    expect(tables.length).toBe(ACPI_BUILD_TABLE_SIZE);
    const fadt = tablesOf(tables, rsdp).get("FACP")!.bytes;
    expect(u32(fadt, 56)).toBe(0x600);
    expect(u32(fadt, 76)).toBe(0x608);
    // Built once: a later PM base change does not rewrite what firmware may already have loaded.
    cfgWrite(board, 1, 3, 0x40, 4, 0xb001);
    expect(u32(tablesOf(readFile(board, "etc/acpi/tables")!, rsdp).get("FACP")!.bytes, 56)).toBe(0x600);
  });

  it("has no table loader with acpi off", () => {
    const { board } = mockBoard({ ramSize: 128n << 20n, acpi: false });
    expect(readFile(board, "etc/table-loader")).toBeNull();
    expect(readFile(board, "etc/e820")).not.toBeNull();
  });
});
