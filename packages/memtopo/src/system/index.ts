export { AddressSpace } from "./address-space.js";
export { UNASSIGNED_IO_OPS, UNASSIGNED_MEM_OPS } from "./builtin-ops.js";
export type { CoalescedMmioSource, CoalescedWrite } from "./coalesced-flush.js";
export { GLOBAL_DIRTY_DIRTY_RATE, GLOBAL_DIRTY_LIMIT, GLOBAL_DIRTY_MIGRATION } from "./dirty-log.js";
export { DIRTY_PAGE_SIZE, type DirtyClient, dirtyPageOffsets } from "./dirty-memory.js";
export { DeviceOpsError, MemorySystemError } from "./errors.js";
export { type Accel, MemorySystem, type MemorySystemOptions } from "./memory-system.js";
