import { MemoryRegion } from "@memtopo/region-tree";
import type { MemorySystem } from "memtopo";
import { PcError } from "./errors.js";

/** The legacy window at the top of the first MiB shows at most the BIOS's last 128 KiB. */
const ISA_BIOS_MAX = 0x2_0000n;

/** The firmware regions: "pc.bios" at the top of 4 GiB and "isa-bios" below 1 MiB. */
export interface BiosRegions {
  readonly bios: MemoryRegion;
  readonly isaBios: MemoryRegion;
}

/**
 * x86_bios_rom_init: the image becomes the read-only "pc.bios" at 4 GiB minus its size,
 * and its last 128 KiB also show at 1 MiB minus that size through the "isa-bios" alias
 * (priority 1 in the ROM container). QEMU wants a whole number of 64 KiB.
 */
export function x86BiosRomInit(host: MemorySystem, romMemory: MemoryRegion, image: Uint8Array): BiosRegions {
  const size = BigInt(image.length);
  if (size === 0n || size % 0x1_0000n !== 0n || size > 0x1000_0000n) {
    throw new PcError(
      "E_PC_BIOS",
      `the BIOS image must be a non-empty multiple of 64 KiB up to 256 MiB, got ${size} bytes`,
    );
  }
  const bios = new MemoryRegion(host, { kind: "ram", name: "pc.bios", size });
  bios.setReadonly(true);
  bios.ramBlock!.bytes().set(image);
  const isaSize = size < ISA_BIOS_MAX ? size : ISA_BIOS_MAX;
  const isaBios = new MemoryRegion(host, {
    kind: "alias",
    name: "isa-bios",
    target: bios,
    offset: size - isaSize,
    size: isaSize,
  });
  romMemory.addSubregionOverlap(0x10_0000n - isaSize, isaBios, 1);
  isaBios.setReadonly(true);
  romMemory.addSubregion(0x1_0000_0000n - size, bios);
  return { bios, isaBios };
}
