import type { PcBoard } from "../src/index.js";

/** A configuration read through mechanism #1, as firmware does it. */
export function cfgRead(board: PcBoard, dev: number, fn: number, offset: number, size: 1 | 2 | 4): number {
  const io = board.spaces.io;
  io.writeValue(0xcf8n, 4, BigInt((0x8000_0000 | (dev << 11) | (fn << 8) | (offset & 0xfc)) >>> 0));
  return Number(io.readValue(0xcfcn + BigInt(offset & 3), size).value);
}

export function cfgWrite(
  board: PcBoard,
  dev: number,
  fn: number,
  offset: number,
  size: 1 | 2 | 4,
  value: number,
): void {
  const io = board.spaces.io;
  io.writeValue(0xcf8n, 4, BigInt((0x8000_0000 | (dev << 11) | (fn << 8) | (offset & 0xfc)) >>> 0));
  io.writeValue(0xcfcn + BigInt(offset & 3), size, BigInt(value));
}

export function outb(board: PcBoard, port: bigint, value: number): void {
  board.spaces.io.writeValue(port, 1, BigInt(value));
}

export function inb(board: PcBoard, port: bigint): number {
  return Number(board.spaces.io.readValue(port, 1).value);
}

/** What the flat view of `as` sends `addr` to: the region's name, its type and whether it is read-only. */
export function at(board: PcBoard, space: "memory" | "smram", addr: bigint): string {
  const as = space === "memory" ? board.spaces.memory : board.spaces.smram!;
  const range = as.currentMap.lookup(addr);
  return range === undefined || range === null ? "unassigned" : `${range.mr.name}${range.readonly ? " ro" : ""}`;
}
