import type { KvmUserspaceMemoryRegion } from "@memtopo/kvm";
import { expect } from "vitest";

export const PAGE = 0x1000n;

/** A region request with a userspace address derived from the slot, so distinct slots never share host memory. */
export function region(
  slot: number,
  guestPhysAddr: bigint,
  memorySize: bigint,
  flags = 0,
  userspaceAddr = hostAddrFor(slot),
): KvmUserspaceMemoryRegion {
  return { slot, flags, guestPhysAddr, memorySize, userspaceAddr };
}

/** 256 MiB of user address space per slot id, 32 TiB per address space. */
export function hostAddrFor(slot: number): bigint {
  return 0x1000_0000_0000n + BigInt(slot & 0xffff) * 0x1000_0000n + BigInt(slot >>> 16) * 0x2000_0000_0000n;
}

/** Asserts that `fn` throws a KvmError with this errno name. */
export function expectErrno(fn: () => unknown, code: string): void {
  expect(fn).toThrow(expect.objectContaining({ name: "KvmError", code }));
}
