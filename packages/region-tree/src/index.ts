export { leBytes, loadLe, loadLeNumber, storeLe, storeLeNumber } from "./bytes.js";
export { type CoalescedRange, coalescedIntersection } from "./coalesced.js";
export { describeValue } from "./describe-value.js";
export { MemtopoError, RegionTreeError } from "./errors.js";
export type { EventNotifier } from "./event-notifier.js";
export { type RegionHost, StandaloneHost } from "./host.js";
export { type IoeventfdRecord, ioeventfdBefore, ioeventfdEqual } from "./ioeventfd-record.js";
export {
  bswap,
  hex,
  INT32_MAX,
  INT32_MIN,
  isU64,
  regionSizeFromU64,
  SIZE_2_64,
  UINT64_MAX,
  wrap64,
} from "./numbers.js";
export {
  type AccessConstraints,
  type DeviceEndianness,
  MEMTX_ACCESS_ERROR,
  MEMTX_DECODE_ERROR,
  MEMTX_ERROR,
  MEMTX_OK,
  type MemoryRegionOps,
  type MemTxAttrs,
  type MemTxResult,
  type ValidConstraints,
} from "./ops.js";
export {
  checkRamDiscard,
  lazyRamAllocator,
  RAM_VIEW_WHOLE,
  type RamAllocator,
  type RamBacking,
  ramViewLength,
} from "./ram.js";
export {
  adjustEndianness,
  DIRTY_LOG_CODE,
  DIRTY_LOG_MIGRATION,
  DIRTY_LOG_VGA,
  deviceIsBigEndian,
  MemoryRegion,
  type MemoryRegionInit,
  type RegionKind,
} from "./region.js";
export { cutText, escapeText, MAX_ECHO, unescapeText } from "./text.js";
export { BIG_EXACT_LIMIT, bigFromSafeInteger, EXACT_LIMIT, low32, toDouble } from "./words.js";
