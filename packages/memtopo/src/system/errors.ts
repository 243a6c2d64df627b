import { MemtopoError } from "@memtopo/region-tree";

/** Misuse of a MemorySystem or an AddressSpace; the system is unchanged when it is thrown. */
export class MemorySystemError extends MemtopoError {}

/** A device's MemoryRegionOps broke its contract (e.g. `read` returned something other than a bigint). */
export class DeviceOpsError extends MemtopoError {}
