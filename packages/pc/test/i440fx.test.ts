import { MemoryRegion } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { I440FX_PAM, I440FX_SMRAM, SMRAM_D_LCK, SMRAM_D_OPEN, SMRAM_G_SMRAME } from "../src/index.js";
import { mockBoard } from "./fixtures.js";
import { at, cfgRead, cfgWrite } from "./helpers.js";

const RAM = 128n << 20n;

describe("PCI configuration mechanism #1 (0xcf8/0xcfc)", () => {
  it("bus 0 answers with QEMU's IDs, classes and header types; absent functions read all ones", () => {
    const { board } = mockBoard({ ramSize: RAM });
    expect(cfgRead(board, 0, 0, 0, 4)).toBe(0x12378086);
    expect(cfgRead(board, 1, 0, 0, 4)).toBe(0x70008086);
    expect(cfgRead(board, 1, 1, 0, 4)).toBe(0x70108086);
    expect(cfgRead(board, 1, 3, 0, 4)).toBe(0x71138086);
    expect(cfgRead(board, 2, 0, 0, 4)).toBe(0xffffffff);
    expect(cfgRead(board, 0, 0, 0x0a, 2)).toBe(0x0600);
    expect(cfgRead(board, 1, 0, 0x0a, 2)).toBe(0x0601);
    expect(cfgRead(board, 1, 1, 0x08, 4)).toBe(0x01018000);
    expect(cfgRead(board, 1, 3, 0x08, 4)).toBe(0x06800003);
    expect(cfgRead(board, 0, 0, 0x08, 1)).toBe(0x02);
    expect(cfgRead(board, 1, 0, 0x0e, 1)).toBe(0x80);
    expect(cfgRead(board, 0, 0, 0x2c, 4)).toBe(0x11001af4);
  });

  it("reads all ones while the enable bit is clear, and only 32-bit writes load the address", () => {
    const { board } = mockBoard({ ramSize: RAM });
    board.spaces.io.writeValue(0xcf8n, 4, 0n);
    expect(Number(board.spaces.io.readValue(0xcfcn, 4).value)).toBe(0xffffffff);
    board.spaces.io.writeValue(0xcf8n, 4, 0x8000_0000n);
    board.spaces.io.writeValue(0xcfan, 2, 0x1234n);
    expect(Number(board.spaces.io.readValue(0xcf8n, 4).value)).toBe(0x8000_0000);
  });

  // Rule: piix3_reset writes command 0x07, then the bus's pci_do_device_reset clears its writable bits.
  it("holds QEMU's reset values: SMRAM 0x02, PIIX3's PIRQs disabled and command 0 after the bus reset, the RAM size in 8 MiB units", () => {
    const { board } = mockBoard({ ramSize: RAM });
    expect(cfgRead(board, 0, 0, I440FX_SMRAM, 1)).toBe(0x02);
    expect(cfgRead(board, 0, 0, 0x57, 1)).toBe(16);
    expect(cfgRead(board, 1, 0, 0x04, 4)).toBe(0x0200_0000);
    expect(cfgRead(board, 1, 0, 0x60, 4)).toBe(0x80808080);
    expect(board.devices.piix3.pirqRoute(0)).toBeNull();
    cfgWrite(board, 1, 0, 0x60, 1, 0x0b);
    expect(board.devices.piix3.pirqRoute(0)).toBe(11);
    // SeaBIOS's read-modify-write of Command (IO|MEM|SERR) leaves bus mastering off, as in QEMU.
    cfgWrite(board, 1, 0, 0x04, 2, cfgRead(board, 1, 0, 0x04, 2) | 0x103);
    expect(board.devices.piix3.busMasterEnable.enabled).toBe(false);
  });

  it("Command.MASTER switches the function's bus-master alias (pci_default_write_config)", () => {
    const { board } = mockBoard({ ramSize: RAM });
    const ide = board.devices.ide;
    expect(ide.busMasterAs.currentMap.ranges.length).toBe(0);
    cfgWrite(board, 1, 1, 0x04, 2, 0x0004);
    expect(ide.busMasterEnable.enabled).toBe(true);
    expect(ide.busMasterAs.currentMap.lookup(0x1000n)?.mr.name).toBe("pc.ram");
    cfgWrite(board, 1, 1, 0x04, 2, 0x0000);
    expect(ide.busMasterEnable.enabled).toBe(false);
  });

  it("maps the IDE BMDMA BAR4 in I/O space at priority 1 only with Command.IO set", () => {
    const { board } = mockBoard({ ramSize: RAM });
    cfgWrite(board, 1, 1, 0x20, 4, 0xffffffff);
    expect(cfgRead(board, 1, 1, 0x20, 4)).toBe(0xfffffff1);
    cfgWrite(board, 1, 1, 0x20, 4, 0xc001);
    expect(board.spaces.io.currentMap.lookup(0xc000n)?.mr.name).toBe("io");
    cfgWrite(board, 1, 1, 0x04, 2, 0x0001);
    expect(board.spaces.io.currentMap.lookup(0xc000n)?.mr.name).toBe("piix-bmdma");
    expect(board.devices.ide.bmdma.priority).toBe(1);
  });
});

describe("IDE bus-master registers (BAR4)", () => {
  it("hold command, status (RW and write-1-to-clear bits) and the PRD address, per byte too", () => {
    const { board } = mockBoard({ ramSize: RAM });
    cfgWrite(board, 1, 1, 0x20, 4, 0xc001);
    cfgWrite(board, 1, 1, 0x04, 2, 0x0001);
    const io = board.spaces.io;
    io.writeValue(0xc000n, 1, 0xffn);
    expect(io.readValue(0xc000n, 1).value).toBe(0x09n);
    io.writeValue(0xc002n, 1, 0x66n);
    expect(io.readValue(0xc002n, 1).value).toBe(0x60n);
    io.writeValue(0xc004n, 4, 0x1234_5677n);
    expect(io.readValue(0xc004n, 4).value).toBe(0x1234_5674n);
    io.writeValue(0xc005n, 1, 0xabn);
    expect(io.readValue(0xc004n, 4).value).toBe(0x1234_ab74n);
    // The secondary channel's registers are its own.
    expect(io.readValue(0xc00cn, 4).value).toBe(0n);
  });
});

// Rule (pam.c): each of the 13 segments has four aliases at priority 1 and exactly the one its
// nibble names is enabled: 0 = PCI (what the PCI space has there), 1 = RAM read-only,
// 2 = RAM through the second "pam-pci" alias (QEMU does not split reads from writes), 3 = RAM.
describe("PAM (registers 0x59-0x5f)", () => {
  const cases = [
    { mode: 0, bios: "pc.bios ro", rom: "pc.rom ro" },
    { mode: 1, bios: "pc.ram ro", rom: "pc.ram ro" },
    { mode: 2, bios: "pc.ram", rom: "pc.ram" },
    { mode: 3, bios: "pc.ram", rom: "pc.ram" },
  ];
  it.each(cases)("mode $mode: 0xf0000 shows $bios, 0xc0000 shows $rom", ({ mode, bios, rom }) => {
    const { board } = mockBoard({ ramSize: RAM });
    cfgWrite(board, 0, 0, I440FX_PAM, 1, mode << 4);
    cfgWrite(board, 0, 0, I440FX_PAM + 1, 1, mode);
    expect(at(board, "memory", 0xf_0000n)).toBe(bios);
    expect(at(board, "memory", 0xc_0000n)).toBe(rom);
    // The neighbour segment (PAM1's high nibble, 0xc4000) is still PCI.
    expect(at(board, "memory", 0xc_4000n)).toBe("pc.rom ro");
    const enabled = board.devices.i440fx.pam[1]!.aliases.filter((a) => a.enabled);
    expect(enabled).toEqual([board.devices.i440fx.pam[1]!.aliases[mode]]);
  });

  it("maps every nibble of 0x59-0x5f to its segment: PAM0 high = 0xf0000, then low/high per register", () => {
    const { board } = mockBoard({ ramSize: RAM });
    for (let reg = 1; reg < 7; reg++) cfgWrite(board, 0, 0, I440FX_PAM + reg, 1, 0x31);
    board.devices.i440fx.pam.slice(1).forEach((segment, i) => {
      expect(segment.start).toBe(0xc_0000n + BigInt(i) * 0x4000n);
      expect(segment.mode).toBe(i % 2 === 0 ? 1 : 3);
    });
  });
});

// Rule (i440fx.c): D_OPEN clear shows PCI's 0xa0000-0xbffff ("smram-region") over RAM to
// everyone; G_SMRAME enables "smram", where SMM code sees the RAM below ("smram-low") at
// priority 10; D_LCK is stored but locks nothing (QEMU does not implement it).
describe("SMRAM (register 0x72)", () => {
  function withVga() {
    const made = mockBoard({ ramSize: RAM });
    const vga = new MemoryRegion(made.board.system, { kind: "io", name: "vga-lowmem", size: 0x2_0000n, ops: {} });
    made.board.regions.pci.addSubregionOverlap(0xa_0000n, vga, 1);
    return made.board;
  }

  it("closed (0x02): everyone sees PCI's VGA window; SMM sees it too (G_SMRAME clear)", () => {
    const board = withVga();
    cfgWrite(board, 0, 0, I440FX_SMRAM, 1, 0x02);
    expect(at(board, "memory", 0xa_0000n)).toBe("vga-lowmem");
    expect(at(board, "smram", 0xa_0000n)).toBe("vga-lowmem");
  });

  it("G_SMRAME: SMM sees RAM at 0xa0000 while everyone else sees VGA", () => {
    const board = withVga();
    cfgWrite(board, 0, 0, I440FX_SMRAM, 1, 0x02 | SMRAM_G_SMRAME);
    expect(at(board, "memory", 0xa_0000n)).toBe("vga-lowmem");
    expect(at(board, "smram", 0xa_0000n)).toBe("pc.ram");
  });

  it("D_OPEN: everyone sees the RAM below (the firmware installs its SMI handler)", () => {
    const board = withVga();
    cfgWrite(board, 0, 0, I440FX_SMRAM, 1, 0x02 | SMRAM_G_SMRAME | SMRAM_D_OPEN);
    expect(at(board, "memory", 0xa_0000n)).toBe("pc.ram");
    expect(board.devices.i440fx.smramRegion.enabled).toBe(false);
  });

  it("D_LCK locks nothing: D_OPEN can still be set after it", () => {
    const board = withVga();
    cfgWrite(board, 0, 0, I440FX_SMRAM, 1, 0x02 | SMRAM_G_SMRAME | SMRAM_D_LCK);
    cfgWrite(board, 0, 0, I440FX_SMRAM, 1, 0x02 | SMRAM_G_SMRAME | SMRAM_D_LCK | SMRAM_D_OPEN);
    expect(cfgRead(board, 0, 0, I440FX_SMRAM, 1)).toBe(0x5a);
    expect(at(board, "memory", 0xa_0000n)).toBe("pc.ram");
  });
});
