import type { PictureLane, PictureRange } from "./model.js";

/**
 * The address axis. Memory maps mix 1-byte ports with terabyte holes, so a linear
 * axis shows nothing; this one is broken and log-like: every range gets a width
 * that grows with the logarithm of its size (a 1-byte port stays legible, 16 EiB
 * is only ~15 times wider), and every unassigned stretch collapses into a fixed
 * break mark labelled with its size. Edges stay exact addresses: the axis labels
 * each boundary, so nothing is lost, only the distances are not to scale.
 */
export interface ScaleOptions {
  /** Width of a 1-byte range. */
  readonly minWidth: number;
  /** Extra width per doubling of size. */
  readonly perDoubling: number;
  /** Width of the break mark that stands for an unassigned stretch. */
  readonly gapWidth: number;
  /** Rows wrap when they would grow past this width. */
  readonly rowWidth: number;
}

/**
 * A 1-byte range is 20 wide so that the 45° labels of neighbours never touch: two parallel labels whose anchors are
 * d apart are d·sin 45° apart, and 20·0.707 = 14 is more than the line height of the 11-px labels (and of the 10-px
 * addresses below). Rows of 1000 keep the whole picture, labels running off the right end included, near 1250
 * wide: a 1280-px window shows it at its natural size.
 */
export const DEFAULT_SCALE: ScaleOptions = { minWidth: 20, perDoubling: 4.5, gapWidth: 44, rowWidth: 1000 };

export type Segment =
  | { readonly type: "range"; readonly start: bigint; readonly end: bigint; readonly range: PictureRange }
  | { readonly type: "gap"; readonly start: bigint; readonly end: bigint };

/** A segment placed on a row of a lane. */
export interface PlacedSegment {
  readonly segment: Segment;
  readonly row: number;
  readonly x: number;
  readonly width: number;
}

/** The lane's ranges with the unassigned stretches between them, covering [0, lane end). */
export function segmentsOf(lane: PictureLane): Segment[] {
  const out: Segment[] = [];
  let pos = 0n;
  for (const range of lane.ranges) {
    if (range.start > pos) out.push({ type: "gap", start: pos, end: range.start });
    out.push({ type: "range", start: range.start, end: range.start + range.size, range });
    pos = range.start + range.size;
  }
  if (pos < lane.end) out.push({ type: "gap", start: pos, end: lane.end });
  return out;
}

/** log2 of a positive bigint, good to a few digits (enough for a width). */
export function log2(value: bigint): number {
  if (value <= 0n) return 0;
  const bits = value.toString(2).length;
  if (bits <= 52) return Math.log2(Number(value));
  return bits - 52 + Math.log2(Number(value >> BigInt(bits - 52)));
}

export function segmentWidth(segment: Segment, options: ScaleOptions = DEFAULT_SCALE): number {
  if (segment.type === "gap") return options.gapWidth;
  return Math.round(options.minWidth + options.perDoubling * log2(segment.end - segment.start));
}

/** Places segments left to right, starting a new row when the next one would pass the row width. */
export function placeSegments(segments: readonly Segment[], options: ScaleOptions = DEFAULT_SCALE): PlacedSegment[] {
  const placed: PlacedSegment[] = [];
  let row = 0;
  let x = 0;
  for (const segment of segments) {
    const width = segmentWidth(segment, options);
    if (x > 0 && x + width > options.rowWidth) {
      row++;
      x = 0;
    }
    placed.push({ segment, row, x, width });
    x += width;
  }
  return placed;
}
