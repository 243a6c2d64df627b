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

/** A fw_cfg file read as firmware reads it: the directory (key 0x19), then the file's key byte by byte. */
export function fwCfgFile(board: PcBoard, wanted: string): Uint8Array | null {
  const io = board.spaces.io;
  const select = (key: number) => io.writeValue(0x510n, 2, BigInt(key));
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => Number(io.readValue(0x511n, 1).value));
  select(0x19);
  const count = new DataView(bytes(4).buffer).getUint32(0);
  for (let i = 0; i < count; i++) {
    const entry = bytes(64);
    const view = new DataView(entry.buffer);
    const name = new TextDecoder().decode(entry.subarray(8)).replace(/\0.*$/s, "");
    if (name === wanted) {
      select(view.getUint16(4));
      return bytes(view.getUint32(0));
    }
  }
  return null;
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
