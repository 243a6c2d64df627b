import { describeValue } from "./describe-value.js";
import { RegionTreeError } from "./errors.js";
import type { AccessConstraints, MemoryRegionOps } from "./ops.js";

/** The sizes an access can have: QEMU's MemOp sizes, MO_8 to MO_64. */
const ACCESS_SIZES: readonly number[] = [1, 2, 4, 8];

/**
 * Refuses ops whose `valid`/`impl` sizes the access path cannot use, before the region exists.
 * QEMU's `memory_region_access_valid` and `access_with_adjusted_size` take 0 as the default
 * (`impl`: 1 and 4; `valid.maxAccessSize`: no check) and trust every other value; here a size
 * that is no power of two up to 8 would make the split of an access step by a fraction, by nothing
 * or backwards, so it is refused with where it was. A minimum above its maximum is QEMU's to keep:
 * `impl` then splits into pieces of the minimum, and `valid` refuses every access.
 */
export function checkOpsSizes(ops: MemoryRegionOps): void {
  const valid = constraints(ops.valid, "ops.valid");
  const impl = constraints(ops.impl, "ops.impl");
  if (valid !== undefined) {
    size(valid.minAccessSize, "ops.valid.minAccessSize");
    size(valid.maxAccessSize, "ops.valid.maxAccessSize");
  }
  if (impl !== undefined) {
    size(impl.minAccessSize, "ops.impl.minAccessSize");
    size(impl.maxAccessSize, "ops.impl.maxAccessSize");
  }
}

function constraints(value: unknown, path: string): AccessConstraints | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object") {
    throw new RegionTreeError("E_INVALID_ARGUMENT", `must be an object, got ${describeValue(value)}`, { path });
  }
  return value as AccessConstraints;
}

/** The size, 0 standing for the default. */
function size(value: unknown, path: string): number {
  if (value === undefined || value === 0) return 0;
  if (typeof value === "number" && ACCESS_SIZES.includes(value)) return value;
  throw new RegionTreeError(
    "E_INVALID_ACCESS_SIZE",
    `must be 0 (the default), 1, 2, 4 or 8, got ${describeValue(value)}`,
    {
      path,
    },
  );
}
