import type { MemTxResult } from "@memtopo/region-tree";
import type { AddressSpace } from "memtopo";

/** One access that left the guest and was dispatched in TypeScript. */
export interface ExitRecord {
  readonly space: string;
  readonly kind: "read" | "write";
  readonly addr: bigint;
  readonly size: number;
  readonly value: bigint;
  readonly result: MemTxResult;
  /** The region the address space's flat view sends the access to, or null when unassigned. */
  readonly region: string | null;
}

/** What a vCPU run loop dispatches exits to (kvm-native's GuestBus). */
export interface ExitBus {
  read(addr: bigint, data: Uint8Array): MemTxResult;
  write(addr: bigint, data: Uint8Array): MemTxResult;
}

export function littleEndian(data: Uint8Array): bigint {
  let value = 0n;
  for (let i = data.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(data[i]!);
  return value;
}

/** An address space as an exit handler that also writes down every access it handles. */
export function recordingBus(as: AddressSpace, log: ExitRecord[]): ExitBus {
  const record = (kind: "read" | "write", addr: bigint, data: Uint8Array, result: MemTxResult): void => {
    const region = as.currentMap.lookup(addr)?.mr.name ?? null;
    log.push({ space: as.name, kind, addr, size: data.length, value: littleEndian(data), result, region });
  };
  return {
    read(addr, data) {
      const result = as.read(addr, data);
      record("read", addr, data, result);
      return result;
    },
    write(addr, data) {
      const result = as.write(addr, data);
      record("write", addr, data, result);
      return result;
    },
  };
}

/** Little-endian bytes of a `size`-byte value. */
export function bytesOf(value: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = Number((value >> BigInt(8 * i)) & 0xffn);
  return out;
}
