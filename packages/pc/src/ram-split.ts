import { describeValue } from "@memtopo/region-tree";
import { PcError } from "./errors.js";

/** Where the PC's RAM goes: below the PCI hole, and the rest from 4 GiB up. */
export interface RamSplit {
  readonly below4g: bigint;
  readonly above4g: bigint;
}

const GIB = 0x4000_0000n;
/** pc_piix's default `max-ram-below-4g`: the traditional 3.5 GiB split. */
export const DEFAULT_MAX_RAM_BELOW_4G = 0xe000_0000n;
/** QEMU's largest `-m` on x86-64 hosts is far above this; we refuse what no guest address can hold. */
const MAX_RAM = 1n << 46n;

/**
 * pc_init1's split of `ramSize` around the 32-bit PCI hole: when the RAM reaches the
 * 3.5 GiB default split, gigabyte alignment moves the split down to 3 GiB; RAM from the
 * split on goes above 4 GiB. So `-m 128M` and `-m 3G` stay below 4 GiB, `-m 6G` is 3G + 3G.
 */
export function splitRam(ramSize: bigint, maxRamBelow4g: bigint = DEFAULT_MAX_RAM_BELOW_4G): RamSplit {
  if (typeof ramSize !== "bigint" || ramSize <= 0n || ramSize > MAX_RAM || ramSize % 0x1000n !== 0n) {
    throw new PcError(
      "E_PC_RAM_SIZE",
      `ramSize must be a positive multiple of 4 KiB up to 64 TiB, got ${describeValue(ramSize)}`,
    );
  }
  let lowmem = maxRamBelow4g;
  if (ramSize >= maxRamBelow4g && lowmem > 3n * GIB) lowmem = 3n * GIB;
  return ramSize >= lowmem ? { below4g: lowmem, above4g: ramSize - lowmem } : { below4g: ramSize, above4g: 0n };
}

/** Parses QEMU's `-m` sizes: a number with an optional K, M, G or T suffix (MiB without one). */
export function parseRamSize(text: string): bigint {
  const match = /^(\d+)([KMGT]?)i?B?$/i.exec(text.trim());
  if (match === null) throw new PcError("E_PC_RAM_SIZE", `not a RAM size: "${text}" (expected e.g. 128M, 3G)`);
  const shift = { K: 10n, M: 20n, G: 30n, T: 40n, "": 20n }[match[2]!.toUpperCase() as "K" | "M" | "G" | "T" | ""];
  return BigInt(match[1]!) << shift;
}
