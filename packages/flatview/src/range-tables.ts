/** A table slot holding more range starts than this gets a finer table of its own. */
const LEAF_STARTS = 8;
/** The fewest slots a table has (unless its window is narrower): fewer would rarely split anything. */
const MIN_SLOTS = 16;

/**
 * Radix tables over sorted range starts, for RangeIndex. Table 0 covers [0, span); a slot
 * holding more than LEAF_STARTS starts is split by a child table over the slot's window.
 * Slot widths are powers of two, so `(a - base) * scale` finds a slot exactly.
 */
export interface RangeTables {
  /** Three numbers per table: the address its slot 0 starts at, 1 / slot width, its first slot. */
  readonly tables: Float64Array;
  /**
   * Two numbers per slot (each table has one slot more than it covers, closing its last
   * window): how many ranges start at or below the slot's first address, and the table that
   * splits the slot or 0 (table 0 is the root, never a child). An address in slot k lies in
   * range `slots[2k] - 1` or in one of those up to `slots[2k + 2] - 1`.
   */
  readonly slots: Int32Array;
}

/** Builds the tables breadth first; `starts` are sorted, `span` is 0 or a power of two. */
export function buildRangeTables(starts: Float64Array, span: number): RangeTables {
  const n = starts.length;
  // While building, a table's second and third numbers are its width and the parent slot
  // it splits (-1 for the root); they become its scale and first slot when it is filled.
  let tables = new Float64Array(3 * 16);
  let tableCount = 0;
  // The root has fewer than 2n + MIN_SLOTS + 1 slots; room for about as many again in
  // child tables is usually enough not to grow.
  let slots = new Int32Array(2 * (3 * n + 64));
  let slotCount = 0;
  if (span > 0) {
    tables.set([0, span, -1]);
    tableCount = 1;
  }
  for (let t = 0; t < tableCount; t++) {
    const at = tables[3 * t]!;
    const width = tables[3 * t + 1]!;
    const parent = tables[3 * t + 2]!;
    const lo = parent < 0 ? 0 : slots[2 * parent]!;
    const hi = parent < 0 ? n : slots[2 * parent + 2]!;
    const count = Math.min(width, Math.max(MIN_SLOTS, nextPowerOfTwo(hi - lo)));
    const slotWidth = width / count;
    const first = slotCount;
    tables[3 * t + 1] = 1 / slotWidth;
    tables[3 * t + 2] = first;
    if (2 * (slotCount + count + 1) > slots.length) slots = grown(slots, 2 * (slotCount + count + 1));
    let i = lo;
    for (let k = 0; k <= count; k++) {
      const x = at + k * slotWidth;
      while (i < n && starts[i]! <= x) i++;
      slots[2 * slotCount] = i;
      slots[2 * slotCount + 1] = 0;
      slotCount++;
    }
    for (let k = first; k < first + count; k++) {
      if (slots[2 * k + 2]! - slots[2 * k]! > LEAF_STARTS) {
        if (3 * (tableCount + 1) > tables.length) tables = grown(tables, 3 * (tableCount + 1));
        slots[2 * k + 1] = tableCount;
        tables[3 * tableCount] = at + (k - first) * slotWidth;
        tables[3 * tableCount + 1] = slotWidth;
        tables[3 * tableCount + 2] = k;
        tableCount++;
      }
    }
  }
  return { tables: tables.slice(0, 3 * tableCount), slots: slots.slice(0, 2 * slotCount) };
}

function grown<T extends Float64Array | Int32Array>(array: T, atLeast: number): T {
  const bigger = new (array.constructor as new (length: number) => T)(Math.max(atLeast, 2 * array.length));
  bigger.set(array);
  return bigger;
}

function nextPowerOfTwo(x: number): number {
  let p = 1;
  while (p < x) p *= 2;
  return p;
}
