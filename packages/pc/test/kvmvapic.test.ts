import { existsSync, readFileSync } from "node:fs";
import { printMtree } from "@memtopo/qemu-text";
import { describe, expect, it } from "vitest";
import { PcError } from "../src/index.js";
import { mockBoard, qemuFixture } from "./fixtures.js";
import { at } from "./helpers.js";

const ROM = "/usr/share/qemu/kvmvapic.bin";
const rom = existsSync(ROM) ? new Uint8Array(readFileSync(ROM)) : null;
if (rom === null) console.warn(`[pc] kvmvapic tests skipped: ${ROM} is not installed (Debian's qemu-system-data)`);

// Rule (hw/i386/kvmvapic.c): the kvmvapic ROM reaches the firmware as fw_cfg's
// genroms/kvmvapic.bin; when its init code writes its state block's offset to port 0x7e (16
// bits), the device maps the ROM's pages (header byte 2 = size in 512-byte blocks, rounded out
// to pages) writable over everything as "kvmvapic-rom", an alias of pc.ram at priority 1000.
describe.skipIf(rom === null)("kvmvapic", () => {
  it("hands the ROM over in fw_cfg and maps its pages as RAM when the ROM reports itself", () => {
    const { board } = mockBoard({ ramSize: 128n << 20n, vapic: true, vapicRom: rom! });
    expect(board.devices.fwCfg.file("genroms/kvmvapic.bin")).toEqual(rom);
    // SeaBIOS copied the ROM to 0xc0000 (shadow RAM) and runs its init at c000:0003.
    board.regions.ram.ramBlock!.bytes().set(rom!, 0xc_0000);
    const vcpu = board.vcpu!;
    const sregs = vcpu.getSregs();
    sregs.cs = { ...sregs.cs, base: 0xc_0000n, selector: 0xc000 };
    vcpu.setSregs(sregs);
    const regs = vcpu.getRegs();
    regs.rip = 0x18n; // after the ROM's `out %ax, $0x7e`
    vcpu.setRegs(regs);
    // At reset PAM sends 0xc0000-0xfffff to the PCI space: the read-only pc.rom.
    const before = at(board, "memory", 0xc_3000n);
    expect(at(board, "memory", 0xc_0000n)).toBe(before);
    expect(before).toBe("pc.rom ro");
    board.spaces.io.writeValue(0x7en, 2, 0x100n);
    expect(board.devices.vapic!.romStatePaddr).toBe(0xc_0100n);
    // 18 blocks = 9 KiB: pages 0xc0000-0xc2fff.
    expect(at(board, "memory", 0xc_0000n)).toBe("pc.ram");
    expect(at(board, "memory", 0xc_2fffn)).toBe("pc.ram");
    expect(at(board, "memory", 0xc_3000n)).toBe(before);
    const tree = printMtree(board.addressSpaces);
    const qemu = qemuFixture("m128M", "mtree-after.txt");
    const line = (text: string) => text.split("\n").find((l) => l.includes("kvmvapic-rom")) ?? "";
    if (qemu !== null) expect(line(tree)).toBe(line(qemu));
    // Reads of the port give all ones, as QEMU's vapic_read.
    expect(board.spaces.io.readValue(0x7en, 1).value).toBe(0xffn);
  });

  it("refuses a ROM without the device, and an empty ROM", () => {
    expect(() => mockBoard({ ramSize: 128n << 20n, vapicRom: rom! })).toThrow(PcError);
    expect(() => mockBoard({ ramSize: 128n << 20n, vapic: true, vapicRom: new Uint8Array(0) })).toThrow(PcError);
  });
});
