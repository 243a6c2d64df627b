import { RegionTreeError } from "./errors.js";
import type { AccessConstraints, MemoryRegionOps } from "./ops.js";
import { cutText } from "./text.js";

/** The sizes an access can have: QEMU's MemOp sizes, MO_8 to MO_64. */
const ACCESS_SIZES: readonly number[] = [1, 2, 4, 8];

/**
 * Refuses ops whose `valid`/`impl` sizes the access path cannot use, before the region exists.
 * QEMU's `memory_region_access_valid` and `access_with_adjusted_size` take 0 as the default
 * (`impl`: 1 and 4; `valid.maxAccessSize`: no check) and trust every other value; here a size
 * that is no power of two up to 8, or a minimum above its maximum, would make the split of an
 * access step by a fraction, by nothing or backwards, so it is refused with where it was.
 */
export function checkOpsSizes(ops: MemoryRegionOps): void {
  const valid = constraints(ops.valid, "ops.valid");
  const impl = constraints(ops.impl, "ops.impl");
  if (valid !== undefined) {
    const min = size(valid.minAccessSize, "ops.valid.minAccessSize");
    const max = size(valid.maxAccessSize, "ops.valid.maxAccessSize");
    // A valid maximum of 0 turns the size check off, the minimum with it.
    if (max !== 0 && min > max) refuseOrder("ops.valid", min, max);
  }
  if (impl !== undefined) {
    const min = size(impl.minAccessSize, "ops.impl.minAccessSize") || 1;
    const max = size(impl.maxAccessSize, "ops.impl.maxAccessSize") || 4;
    if (min > max) refuseOrder("ops.impl", min, max);
  }
}

function constraints(value: unknown, path: string): AccessConstraints | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object") {
    throw new RegionTreeError("E_INVALID_ARGUMENT", `must be an object, got ${cutText(String(value))}`, { path });
  }
  return value as AccessConstraints;
}

/** The size, 0 standing for the default. */
function size(value: unknown, path: string): number {
  if (value === undefined || value === 0) return 0;
  if (typeof value === "number" && ACCESS_SIZES.includes(value)) return value;
  const got = typeof value === "string" ? `"${cutText(value)}"` : cutText(String(value));
  throw new RegionTreeError("E_INVALID_ACCESS_SIZE", `must be 0 (the default), 1, 2, 4 or 8, got ${got}`, { path });
}

function refuseOrder(path: string, min: number, max: number): never {
  throw new RegionTreeError(
    "E_INVALID_ACCESS_SIZE",
    `minAccessSize ${min} is above maxAccessSize ${max} (0 standing for the default)`,
    { path: `${path}.minAccessSize` },
  );
}
