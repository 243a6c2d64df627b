import { escapeText, type MemoryRegion, wrap64 } from "@memtopo/region-tree";

/** Every printed number: 16 lowercase hex digits, no `0x`, in 64-bit arithmetic (QEMU's `%016" PRIx64`). */
export function hex16(value: bigint): string {
  return wrap64(value).toString(16).padStart(16, "0");
}

/** QEMU's `MR_SIZE`: size − 1, except 0 for an empty region, truncated to 64 bits. */
export function mrSize(size: bigint): bigint {
  return size === 0n ? 0n : wrap64(size - 1n);
}

/**
 * `memory_region_name`: unnamed regions print `(null)`, as glibc prints a NULL `%s`. A name's control characters
 * and backslashes are escaped (`escapeText`), so no name can fake a line; the importer reads them back.
 */
export function regionName(mr: MemoryRegion): string {
  return mr.name === null ? "(null)" : escapeText(mr.name);
}

/**
 * `info mtree -o`, best effort: memtopo's owner is a label, not a QOM object. A label that
 * starts with `/` is printed as a device path, any other as a device id. Without an owner a
 * named region is a QOM child of `/machine/unattached`; an unnamed one has no parent at all.
 */
export function ownerSuffix(mr: MemoryRegion): string {
  if (mr.owner !== null) {
    const owner = escapeText(mr.owner);
    return owner.startsWith("/") ? ` owner:{dev path=${owner}}` : ` owner:{dev id=${owner}}`;
  }
  return mr.name === null ? " orphan" : " parent:{obj path=/machine/unattached}";
}
