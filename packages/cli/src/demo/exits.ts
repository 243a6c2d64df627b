import type { GuestBus } from "@memtopo/kvm";
import { loadLe, type MemTxResult } from "@memtopo/region-tree";
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

/** An address space as an exit handler that also writes down every access it handles. */
export function recordingBus(as: AddressSpace, log: ExitRecord[]): GuestBus {
  const record = (kind: "read" | "write", addr: bigint, data: Uint8Array, result: MemTxResult): void => {
    const region = as.currentMap.lookup(addr)?.mr.name ?? null;
    log.push({ space: as.name, kind, addr, size: data.length, value: loadLe(data), result, region });
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
