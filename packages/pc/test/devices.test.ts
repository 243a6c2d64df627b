import { existsSync, readFileSync } from "node:fs";
import { pcCaptureFile } from "@memtopo/fixtures";
import { MemoryRegion, SIZE_2_64 } from "@memtopo/region-tree";
import { MemorySystem, UNASSIGNED_IO_OPS } from "memtopo";
import { describe, expect, it } from "vitest";
import { ACPI_ENABLE, FW_CFG, Piix4Pm, parseRamSize, pcE820, splitRam } from "../src/index.js";
import { mockBoard } from "./fixtures.js";
import { cfgWrite, inb, outb } from "./helpers.js";

describe("RAM split (pc_piix)", () => {
  // Rule: below 3.5 GiB everything stays below 4 GiB; from 3.5 GiB on the split moves to 3 GiB.
  it.each([
    ["128M", 0x800_0000n, 0n],
    ["3G", 0xc000_0000n, 0n],
    ["3584M", 0xc000_0000n, 0x2000_0000n],
    ["6G", 0xc000_0000n, 0xc000_0000n],
  ])("-m %s: below %s, above %s", (size, below, above) => {
    expect(splitRam(parseRamSize(size))).toEqual({ below4g: below, above4g: above });
  });

  it("refuses sizes that are not whole pages or are zero, with a typed error", () => {
    expect(() => splitRam(0n)).toThrow(expect.objectContaining({ code: "E_PC_RAM_SIZE" }));
    expect(() => splitRam(0x1001n)).toThrow(expect.objectContaining({ code: "E_PC_RAM_SIZE" }));
    expect(() => parseRamSize("12Q")).toThrow(expect.objectContaining({ code: "E_PC_RAM_SIZE" }));
  });
});

describe("fw_cfg (0x510/0x511, DMA at 0x514)", () => {
  function readItem(board: ReturnType<typeof mockBoard>["board"], key: number, n: number): number[] {
    board.spaces.io.writeValue(0x510n, 2, BigInt(key));
    return Array.from({ length: n }, () => inb(board, 0x511n));
  }

  // Rule: with QEMU's default kvmvapic ROM the board's fw_cfg directory is QEMU 7.2's: every file's
  // name, key and size (bootorder, bios-geometry, etc/system-states, etc/tpm/log included, which
  // SeaBIOS lists too: its heap then matches QEMU's).
  it.skipIf(!existsSync("/usr/share/qemu/kvmvapic.bin"))(
    "lists QEMU's files, keys and sizes (with the kvmvapic ROM)",
    () => {
      const vapicRom = new Uint8Array(readFileSync("/usr/share/qemu/kvmvapic.bin"));
      const { board } = mockBoard({ ramSize: 128n << 20n, vapic: true, vapicRom });
      const dir = readItem(board, FW_CFG.FILE_DIR, 4 + 64 * 12);
      const count = (dir[0]! << 24) | (dir[1]! << 16) | (dir[2]! << 8) | dir[3]!;
      const files = Array.from({ length: count }, (_, i) => {
        const e = dir.slice(4 + 64 * i, 4 + 64 * (i + 1));
        return {
          name: String.fromCharCode(...e.slice(8).filter((c) => c !== 0)),
          key: `0x${((e[4]! << 8) | e[5]!).toString(16)}`,
          size: ((e[0]! << 24) | (e[1]! << 16) | (e[2]! << 8) | e[3]!) >>> 0,
        };
      });
      const qemu = JSON.parse(readFileSync(pcCaptureFile("acpi/m128M/fw-cfg-files.json"), "utf8")) as {
        name: string;
        size: number;
      }[];
      // The dump ran under TCG: etc/e820 lacks the entry kvm_arch_init adds for KVM's identity map
      // (2 entries of 20 bytes there, 3 on KVM, as this board is).
      expect(files).toEqual(qemu.map((f) => (f.name === "etc/e820" ? { ...f, size: 60 } : f)));
    },
  );

  it("has QEMU's signature, the DMA interface in its ID, the CPU count and the RAM size", () => {
    const { board } = mockBoard({ ramSize: 128n << 20n });
    expect(String.fromCharCode(...readItem(board, FW_CFG.SIGNATURE, 4))).toBe("QEMU");
    expect(readItem(board, FW_CFG.ID, 4)).toEqual([3, 0, 0, 0]);
    expect(readItem(board, FW_CFG.NB_CPUS, 2)).toEqual([1, 0]);
    expect(readItem(board, FW_CFG.RAM_SIZE, 8)).toEqual([0, 0, 0, 8, 0, 0, 0, 0]);
    // An unknown key selects nothing: reads return 0.
    expect(readItem(board, 0x7777, 2)).toEqual([0, 0]);
    // The DMA register reads "QEMU CFG" big-endian: the guest sees the bytes "QEMU" at 0x514.
    expect(board.spaces.io.readValue(0x514n, 4).value).toBe(0x554d4551n);
  });

  it("lists etc/e820 in the file directory and transfers it by DMA into guest memory", () => {
    const { board } = mockBoard({ ramSize: 128n << 20n });
    const dir = readItem(board, FW_CFG.FILE_DIR, 4 + 64 * 11);
    const count = (dir[0]! << 24) | (dir[1]! << 16) | (dir[2]! << 8) | dir[3]!;
    const names = Array.from({ length: count }, (_, i) =>
      String.fromCharCode(...dir.slice(4 + 64 * i + 8, 4 + 64 * i + 64).filter((c) => c !== 0)),
    );
    // In name order: QEMU's files without the kvmvapic ROM (vapic is off here).
    const qemu = JSON.parse(readFileSync(pcCaptureFile("acpi/m128M/fw-cfg-files.json"), "utf8")) as { name: string }[];
    expect(names).toEqual(qemu.map((f) => f.name).filter((n) => !n.startsWith("genroms/")));
    const at = 4 + 64 * names.indexOf("etc/e820");
    const key = (dir[at + 4]! << 8) | dir[at + 5]!;
    // FWCfgDmaAccess at 0x1000: select + read 60 bytes to 0x2000 (big-endian fields).
    const desc = new Uint8Array(16);
    const view = new DataView(desc.buffer);
    view.setUint32(0, (key << 16) | 0x08 | 0x02);
    view.setUint32(4, 60);
    view.setBigUint64(8, 0x2000n);
    board.spaces.memory.write(0x1000n, desc);
    board.spaces.io.writeValue(0x514n, 4, 0n);
    board.spaces.io.writeValue(0x518n, 4, 0x0010_0000n);
    const control = new Uint8Array(4);
    board.spaces.memory.read(0x1000n, control);
    expect([...control]).toEqual([0, 0, 0, 0]);
    const table = new Uint8Array(60);
    board.spaces.memory.read(0x2000n, table);
    const e = new DataView(table.buffer);
    const entries = Array.from({ length: 3 }, (_, i) => [
      e.getBigUint64(20 * i, true),
      e.getBigUint64(20 * i + 8, true),
      e.getUint32(20 * i + 16, true),
    ]);
    expect(entries).toEqual([
      [0xfeffc000n, 0x4000n, 2],
      [0xfd_0000_0000n, 0x3_0000_0000n, 2],
      [0n, 0x800_0000n, 1],
    ]);
  });
});

describe("RTC/CMOS (0x70/0x71)", () => {
  function cmos(board: ReturnType<typeof mockBoard>["board"], index: number): number {
    outb(board, 0x70n, index);
    return inb(board, 0x71n);
  }

  // Rule (pc_cmos_init): 640 KiB base, KiB above 1 MiB capped at 65535, 64 KiB units above 16 MiB and above 4 GiB.
  it.each([
    [128n << 20n, [0x80, 0x02, 0xff, 0xff, 0x00, 0x07, 0x00, 0x00, 0x00]],
    [6n << 30n, [0x80, 0x02, 0xff, 0xff, 0x00, 0xbf, 0x00, 0xc0, 0x00]],
  ])("RAM size fields for %s bytes", (ramSize, want) => {
    const { board } = mockBoard({ ramSize });
    expect([0x15, 0x16, 0x17, 0x18, 0x34, 0x35, 0x5b, 0x5c, 0x5d].map((i) => cmos(board, i))).toEqual(want);
    expect([cmos(board, 0x30), cmos(board, 0x31)]).toEqual([0xff, 0xff]);
    expect(cmos(board, 0x5f)).toBe(0);
    expect(cmos(board, 0x3d)).toBe(0x12);
    expect(cmos(board, 0x14)).toBe(0x06);
  });

  it("keeps time in BCD from the wall clock; register C clears on read; bit 7 of the index is the NMI mask", () => {
    const { board } = mockBoard({
      ramSize: 128n << 20n,
      clock: { wallMs: () => Date.UTC(2026, 11, 3, 9, 41, 27), nanos: () => 0n },
    });
    expect([0x00, 0x02, 0x04, 0x07, 0x08, 0x09, 0x32].map((i) => cmos(board, i))).toEqual([
      0x27, 0x41, 0x09, 0x03, 0x12, 0x26, 0x20,
    ]);
    expect(cmos(board, 0x0a)).toBe(0x26);
    expect(cmos(board, 0x8d)).toBe(0x80);
    outb(board, 0x70n, 0x02);
    outb(board, 0x71n, 0x59);
    expect(cmos(board, 0x02)).toBe(0x59);
    expect(cmos(board, 0x04)).toBe(0x09);
  });
});

describe("reset requests (stop the run, as -no-reboot)", () => {
  it.each([
    ["0xcf9 with SRST|RCPU", (b: ReturnType<typeof mockBoard>["board"]) => outb(b, 0xcf9n, 0x06), "reset control"],
    ["port 0x92 bit 0", (b: ReturnType<typeof mockBoard>["board"]) => outb(b, 0x92n, 0x01), "port 0x92"],
    ["i8042 command 0xfe", (b: ReturnType<typeof mockBoard>["board"]) => outb(b, 0x64n, 0xfe), "keyboard controller"],
  ])("%s", (_name, poke, reason) => {
    const { board } = mockBoard({ ramSize: 128n << 20n });
    expect(board.stopRequest).toBeNull();
    poke(board);
    expect(board.stopRequest?.kind).toBe("reset");
    expect(board.stopRequest?.reason).toContain(reason);
  });

  it("0xcf9 without RCPU only stores the bits (QEMU keeps SRST and FULL_RST)", () => {
    const { board } = mockBoard({ ramSize: 128n << 20n });
    outb(board, 0xcf9n, 0xff & ~0x04);
    expect(board.stopRequest).toBeNull();
    expect(inb(board, 0xcf9n)).toBe(0x0a);
  });
});

describe("i8042 (SeaBIOS's probe)", () => {
  it("passes the controller and keyboard tests and answers reset with ACK and BAT", () => {
    const { board } = mockBoard({ ramSize: 128n << 20n });
    outb(board, 0x64n, 0xaa);
    expect(inb(board, 0x64n) & 0x01).toBe(1);
    expect(inb(board, 0x60n)).toBe(0x55);
    outb(board, 0x64n, 0xab);
    expect(inb(board, 0x60n)).toBe(0x00);
    outb(board, 0x60n, 0xff);
    expect([inb(board, 0x60n), inb(board, 0x60n)]).toEqual([0xfa, 0xaa]);
    expect(inb(board, 0x64n) & 0x01).toBe(0);
    outb(board, 0x64n, 0x60);
    outb(board, 0x60n, 0x61);
    outb(board, 0x64n, 0x20);
    expect(inb(board, 0x60n)).toBe(0x61);
    outb(board, 0x60n, 0xf0);
    outb(board, 0x60n, 0x00);
    expect([inb(board, 0x60n), inb(board, 0x60n), inb(board, 0x60n)]).toEqual([0xfa, 0xfa, 0x02]);
  });
});

describe("debug console and UART", () => {
  it("collects what the guest writes to 0x402 and reads back 0xe9", () => {
    const seen: number[] = [];
    const { board } = mockBoard({ ramSize: 128n << 20n, onDebugcon: (b) => void seen.push(...b) });
    for (const c of "hi\n") outb(board, 0x402n, c.charCodeAt(0));
    expect(board.debugconText).toBe("hi\n");
    expect(seen).toEqual([0x68, 0x69, 0x0a]);
    expect(inb(board, 0x402n)).toBe(0xe9);
  });

  it("has no UART with -nodefaults; one at 0x3f8 when asked, whose scratch register holds a byte", () => {
    expect(mockBoard({ ramSize: 128n << 20n }).board.spaces.io.currentMap.lookup(0x3f8n)?.mr.name).toBe("io");
    const out: number[] = [];
    const { board } = mockBoard({ ramSize: 128n << 20n, serial: (b) => void out.push(...b) });
    outb(board, 0x3ffn, 0x5a);
    expect(inb(board, 0x3ffn)).toBe(0x5a);
    outb(board, 0x3f8n, 0x41);
    expect(out).toEqual([0x41]);
    expect(inb(board, 0x3fdn) & 0x60).toBe(0x60);
  });
});

describe("PIIX4 power management", () => {
  function pmAlone(smmEnabled: boolean) {
    const system = new MemorySystem();
    const root = new MemoryRegion(system, { kind: "container", name: "system", size: SIZE_2_64 });
    const io = new MemoryRegion(system, { kind: "io", name: "io", size: 0x1_0000n, ops: UNASSIGNED_IO_OPS });
    const ioSpace = system.createAddressSpace("I/O", io);
    const events = { smis: 0, shutdowns: [] as string[] };
    const pm = new Piix4Pm(
      { system, dmaRoot: root, io },
      { smmEnabled, smbusBase: 0xb100, clock: () => 1_000_000_000n },
      { smi: () => events.smis++, shutdown: (r) => events.shutdowns.push(r) },
    );
    return { pm, ioSpace, events };
  }

  it("maps the PM window at the base in 0x40 once PMREGMISC bit 0 is set; the timer counts at 3.579545 MHz", () => {
    const { pm, ioSpace } = pmAlone(true);
    expect(pm.pmIo.enabled).toBe(false);
    pm.writeConfig(0x40, 0x601, 4);
    pm.writeConfig(0x80, 1, 1);
    expect(ioSpace.currentMap.lookup(0x608n)?.mr.name).toBe("acpi-tmr");
    expect(ioSpace.readValue(0x608n, 4).value).toBe(3_579_545n);
    pm.writeConfig(0x90, 0x701, 4);
    expect(ioSpace.currentMap.lookup(0x700n)?.mr.name).toBe("pm-smbus");
  });

  // Rule (piix4.c apm_ctrl_changed): ACPI_ENABLE/DISABLE set/clear SCI_EN and raise nothing;
  // any other command raises an SMI only while DEVACTB.APMC_EN (bit 25) is set.
  it("APM: ACPI_ENABLE sets SCI_EN; other commands raise an SMI only with APMC_EN", () => {
    const { pm, ioSpace, events } = pmAlone(true);
    ioSpace.writeValue(0xb2n, 1, BigInt(ACPI_ENABLE));
    expect(pm.sciEnabled).toBe(true);
    ioSpace.writeValue(0xb2n, 1, 0n);
    expect(events.smis).toBe(0);
    pm.writeConfig(0x58, 1 << 25, 4);
    ioSpace.writeValue(0xb3n, 1, 0x01n);
    ioSpace.writeValue(0xb2n, 1, 0n);
    expect(events.smis).toBe(1);
    expect(ioSpace.readValue(0xb3n, 1).value).toBe(0x01n);
  });

  it("with SMM off, APMC_EN is set at reset (so firmware skips its SMM setup), as QEMU does", () => {
    expect(pmAlone(false).pm.readConfig(0x58, 4) >>> 25).toBe(1);
    expect(pmAlone(true).pm.readConfig(0x58, 4) >>> 25).toBe(0);
  });

  it("PM1 control with SLP_EN and type 0 asks for a shutdown", () => {
    const { pm, ioSpace, events } = pmAlone(true);
    pm.writeConfig(0x40, 0x601, 4);
    pm.writeConfig(0x80, 1, 1);
    ioSpace.writeValue(0x604n, 2, 0x2000n);
    expect(events.shutdowns).toEqual(["ACPI S5 (PM1 control)"]);
  });
});

it("cfgWrite reaches PIIX4 PM through the board too", () => {
  const { board } = mockBoard({ ramSize: 128n << 20n });
  cfgWrite(board, 1, 3, 0x40, 4, 0x601);
  cfgWrite(board, 1, 3, 0x80, 1, 1);
  expect(board.devices.pm.pmIo.addr).toBe(0x600n);
});

// Rule: QEMU 7.2's e820 order is kvm_arch_init's identity map, the AMD HT hole, then RAM below and above 4 GiB.
it("etc/e820 for -m 6G has RAM above 4 GiB after the reserved entries", () => {
  expect(pcE820(splitRam(6n << 30n))).toEqual([
    { address: 0xfeffc000n, length: 0x4000n, type: 2 },
    { address: 0xfd_0000_0000n, length: 0x3_0000_0000n, type: 2 },
    { address: 0n, length: 0xc000_0000n, type: 1 },
    { address: 0x1_0000_0000n, length: 0xc000_0000n, type: 1 },
  ]);
});
