import type { MemoryRegion } from "@memtopo/region-tree";
import type { MemorySystem } from "memtopo";
import { unimplementedIo } from "./unimplemented.js";

/**
 * i8257_dma_init's windows: the two controllers' channel ("dma-chan") and control
 * ("dma-cont") registers and the page registers ("dma-page"). No transfer is modelled:
 * with no floppy and no ISA sound card nothing on this board uses ISA DMA.
 */
export function addIsaDma(system: MemorySystem, io: MemoryRegion): void {
  io.addSubregion(0x00n, unimplementedIo(system, "dma-chan", 8n));
  io.addSubregion(0x08n, unimplementedIo(system, "dma-cont", 8n));
  for (const [base, size] of [
    [0x81n, 3n],
    [0x87n, 1n],
    [0x89n, 3n],
    [0x8fn, 1n],
  ] as const) {
    io.addSubregion(base, unimplementedIo(system, "dma-page", size));
  }
  io.addSubregion(0xc0n, unimplementedIo(system, "dma-chan", 16n));
  io.addSubregion(0xd0n, unimplementedIo(system, "dma-cont", 16n));
}
