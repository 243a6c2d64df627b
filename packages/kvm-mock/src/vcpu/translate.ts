import type { Sregs, Translation } from "@memtopo/kvm";

const CR0_PG = 1n << 31n;
const CR4_PSE = 1n << 4n;
const CR4_PAE = 1n << 5n;
const EFER_LMA = 1n << 10n;
const PRESENT = 1n;
const LARGE = 0x80n;
const ADDR_MASK = 0x000f_ffff_ffff_f000n;

/**
 * KVM_TRANSLATE: the physical address of `linear` through the paging mode the sregs select
 * (none, 32-bit, PAE or 4-level). As the kernel, `writeable` is always 1 and `usermode` 0; an
 * unmapped address (or page tables outside RAM) is `valid: false`.
 */
export function translate(sregs: Sregs, linear: bigint, readPhys: (gpa: bigint) => bigint | null): Translation {
  const result = (physicalAddress: bigint | null): Translation => ({
    linearAddress: linear,
    physicalAddress: physicalAddress ?? (1n << 64n) - 1n,
    valid: physicalAddress !== null,
    writeable: true,
    usermode: false,
  });
  if ((sregs.cr0 & CR0_PG) === 0n) return result(linear & 0xffff_ffffn);
  if ((sregs.efer & EFER_LMA) !== 0n)
    return result(walk(sregs.cr3 & ADDR_MASK, linear, [39n, 30n, 21n, 12n], 8, readPhys));
  if ((sregs.cr4 & CR4_PAE) !== 0n) {
    const pdpte = readPhys((sregs.cr3 & 0xffff_ffe0n) + ((linear >> 30n) & 3n) * 8n);
    if (pdpte === null || (pdpte & PRESENT) === 0n) return result(null);
    return result(walk(pdpte & ADDR_MASK, linear, [21n, 12n], 8, readPhys));
  }
  return result(walk32(sregs, linear & 0xffff_ffffn, readPhys));
}

/** A 64-bit-entry walk (4-level or PAE below the PDPTE), large pages at the levels above 4 KiB. */
function walk(
  table: bigint,
  linear: bigint,
  shifts: readonly bigint[],
  entryBytes: number,
  readPhys: (gpa: bigint) => bigint | null,
): bigint | null {
  let base = table;
  for (const shift of shifts) {
    const entry = readPhys(base + ((linear >> shift) & 0x1ffn) * BigInt(entryBytes));
    if (entry === null || (entry & PRESENT) === 0n) return null;
    const pageMask = (1n << shift) - 1n;
    if (shift === 12n || (shift <= 30n && (entry & LARGE) !== 0n)) {
      return (entry & ADDR_MASK & ~pageMask) | (linear & pageMask);
    }
    base = entry & ADDR_MASK;
  }
  return null;
}

function walk32(sregs: Sregs, linear: bigint, readPhys: (gpa: bigint) => bigint | null): bigint | null {
  const pde = low32(readPhys((sregs.cr3 & 0xffff_f000n) + (linear >> 22n) * 4n));
  if (pde === null || (pde & PRESENT) === 0n) return null;
  if ((pde & LARGE) !== 0n && (sregs.cr4 & CR4_PSE) !== 0n)
    return ((pde & 0xffc0_0000n) | (linear & 0x3f_ffffn)) & 0xffff_ffffn;
  const pte = low32(readPhys((pde & 0xffff_f000n) + ((linear >> 12n) & 0x3ffn) * 4n));
  if (pte === null || (pte & PRESENT) === 0n) return null;
  return ((pte & 0xffff_f000n) | (linear & 0xfffn)) & 0xffff_ffffn;
}

/** A 32-bit paging entry out of the eight bytes read. */
function low32(value: bigint | null): bigint | null {
  return value === null ? null : value & 0xffff_ffffn;
}
