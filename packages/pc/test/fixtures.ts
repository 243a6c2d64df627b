import { existsSync, readFileSync } from "node:fs";
import { pcCaptureFile } from "@memtopo/fixtures";
import { MockKvm } from "@memtopo/kvm-mock";
import type { MemoryRegion } from "@memtopo/region-tree";
import type { AddressSpace } from "memtopo";
import { createPcBoard, type PcBoard, type PcBoardOptions } from "../src/index.js";

export const SIZES = [
  { name: "128M", ramSize: 128n << 20n },
  { name: "3G", ramSize: 3n << 30n },
  { name: "6G", ramSize: 6n << 30n },
] as const;

export const SEABIOS = "/usr/share/seabios/bios.bin";

/** A captured QEMU file (`m128M-novapic/mtree-reset.txt`), or null when the capture has not been made. */
export function qemuFixture(dir: string, file: string): string | null {
  const file_ = pcCaptureFile(`${dir}/${file}`);
  return existsSync(file_) ? readFileSync(file_, "utf8") : null;
}

/** The firmware the fixtures were captured with, or a 128 KiB image of the same size where it is not installed. */
export function biosImage(): Uint8Array {
  return existsSync(SEABIOS) ? new Uint8Array(readFileSync(SEABIOS)) : new Uint8Array(0x2_0000);
}

/** The board on the mock kernel, with two KVM address spaces as x86 with SMM has. */
export function mockBoard(options: Partial<PcBoardOptions> & { ramSize: bigint }): { board: PcBoard; kvm: MockKvm } {
  const kvm = new MockKvm({ addressSpaces: 2 });
  const board = createPcBoard({ bios: biosImage(), accel: { kvm, ramAllocator: kvm.ramAllocator() }, ...options });
  return { board, kvm };
}

/**
 * QEMU prints `info mtree`'s blocks in a hash table's order, which differs from run to run:
 * the roots of the board's spaces in the order the captured text has them.
 */
export function blockOrder(text: string, spaces: readonly AddressSpace[]): MemoryRegion[] {
  const roots: MemoryRegion[] = [];
  for (const line of text.split("\n")) {
    const match = /^address-space: (.*)$/.exec(line);
    const root = match === null ? undefined : spaces.find((as) => as.name === match[1])?.root;
    if (root !== undefined && root !== null && !roots.includes(root)) roots.push(root);
  }
  return roots;
}

/** `info mtree -f`'s views in the captured order: the spaces sorted by where their name first shows. */
export function flatOrder(text: string, spaces: readonly AddressSpace[]): AddressSpace[] {
  const at = (as: AddressSpace) => {
    const i = text.indexOf(` AS "${as.name}"`);
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  return [...spaces].sort((a, b) => at(a) - at(b));
}
