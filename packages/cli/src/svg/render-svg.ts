import { hex } from "@memtopo/region-tree";
import { formatSize, textWidth, xmlEscape } from "./format.js";
import type { PictureLane, PictureRange, RangeKind } from "./model.js";
import { DEFAULT_SCALE, type PlacedSegment, placeSegments, type ScaleOptions, segmentsOf } from "./scale.js";

export interface SvgOptions {
  /** The heading (a machine's name). */
  readonly title?: string;
  readonly scale?: ScaleOptions;
}

/** Fill and text colour per kind (Okabe–Ito colours, told apart by most colour-blind readers). */
export const KIND_STYLE: Readonly<Record<RangeKind, { fill: string; text: string; label: string }>> = {
  ram: { fill: "#009e73", text: "#ffffff", label: "RAM" },
  rom: { fill: "#0072b2", text: "#ffffff", label: "ROM / read-only" },
  romd: { fill: "#cc79a7", text: "#1a1a1a", label: "ROM device" },
  ramd: { fill: "#56b4e9", text: "#1a1a1a", label: "RAM device" },
  "i/o": { fill: "#e69f00", text: "#1a1a1a", label: "I/O (MMIO, ports)" },
};

const MARGIN = 24;
const HEADER_H = 74;
const LANE_TITLE_H = 24;
const BAR_H = 30;
const STRIP_GAP = 2;
const STRIP_H = 7;
const TICK_H = 4;
const LANE_GAP = 22;
const LABEL_FONT = 11;
const AXIS_FONT = 10;
const SIN45 = Math.SQRT1_2;
const MAX_LABEL = 44;

/** A lane's rows, measured: rotated labels above and below decide each row's height. */
interface Row {
  readonly segments: PlacedSegment[];
  above: number;
  below: number;
  right: number;
}

/** Renders lanes as one standalone SVG document. */
export function renderLanesSvg(lanes: readonly PictureLane[], options: SvgOptions = {}): string {
  const scale = options.scale ?? DEFAULT_SCALE;
  // Every lane's segments, each one flat string, joined once with the head: a picture of 20 000 ranges
  // is 17 MB of two-byte text (the dashes and arrows), and each join of it copies it all.
  const body: string[] = [];
  let y = HEADER_H;
  let width = legendWidth();
  for (const lane of lanes) {
    const drawn = drawLane(lane, y, scale, body);
    y = drawn.bottom + LANE_GAP;
    width = Math.max(width, drawn.right + 2 * MARGIN);
  }
  width = Math.ceil(width);
  const height = Math.ceil(y);
  const title = options.title ?? "memory map";
  return [
    // Drawn at its natural size, and scaled down (never up) to a narrower window: no sideways scrolling.
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"`,
    ' style="max-width:100%;height:auto"',
    ` font-family="DejaVu Sans, Verdana, Arial, sans-serif" role="img" aria-label="${xmlEscape(title)}">\n`,
    `<title>${xmlEscape(title)}</title>\n`,
    DEFS,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>\n`,
    header(title),
    ...body,
    "</svg>\n",
  ].join("");
}

const DEFS = `<defs>
<pattern id="alias-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
<rect width="2.2" height="6" fill="#ffffff" fill-opacity="0.45"/></pattern>
</defs>
`;

function header(title: string): string {
  const out: string[] = [
    `<text x="${MARGIN}" y="28" font-size="18" font-weight="bold" fill="#1a1a1a">${xmlEscape(title)}</text>\n`,
    `<text x="${MARGIN}" y="46" font-size="11" fill="#555">one lane per flat view · widths grow with log2(size) · ` +
      `unassigned stretches collapsed (not to scale) · hover for details</text>\n`,
  ];
  let x = MARGIN;
  const y = 56;
  const item = (swatch: string, label: string): void => {
    out.push(`<g class="legend">${swatch.replaceAll("X", String(x))}`);
    out.push(`<text x="${x + 20}" y="${y + 10}" font-size="11" fill="#333">${xmlEscape(label)}</text></g>\n`);
    x += 28 + textWidth(label, 11);
  };
  for (const style of Object.values(KIND_STYLE)) {
    item(`<rect x="X" y="${y}" width="14" height="12" fill="${style.fill}"/>`, style.label);
  }
  item(
    `<rect x="X" y="${y}" width="14" height="12" fill="#888"/><rect x="X" y="${y}" width="14" height="12" fill="url(#alias-hatch)"/>`,
    "reached through an alias",
  );
  item(
    `<rect x="X" y="${y + 4}" width="14" height="5" fill="#888" fill-opacity="0.6"/>`,
    "hidden beneath (lower priority)",
  );
  return out.join("");
}

/** The legend's width, so that a picture of one small lane still shows all of it. */
function legendWidth(): number {
  const labels = [
    ...Object.values(KIND_STYLE).map((s) => s.label),
    "reached through an alias",
    "hidden beneath (lower priority)",
  ];
  return labels.reduce((w, label) => w + 28 + textWidth(label, 11), 2 * MARGIN);
}

function rangeLabel(range: PictureRange): string {
  let label = range.name;
  if (range.via.length > 0) label += ` ⇐ ${[...range.via].reverse().join(" ⇐ ")}`;
  // As `info mtree -f` labels the range; the priority that decided an overlap is in the hover text's path.
  if (range.flatPriority !== 0) label += ` (prio ${range.flatPriority})`;
  return label.length > MAX_LABEL ? `${label.slice(0, MAX_LABEL - 1)}…` : label;
}

function fitsInside(label: string, width: number): boolean {
  return textWidth(label, LABEL_FONT) + 8 <= width;
}

/**
 * The rows of `placed`, measured; each segment's label and start address are kept in `labels` and `starts`
 * (the drawing writes them).
 */
function measureRows(placed: readonly PlacedSegment[], lastEnd: bigint, labels: string[], starts: string[]): Row[] {
  const rows: Row[] = [];
  for (const p of placed) {
    const label = p.segment.type === "range" ? rangeLabel(p.segment.range) : "";
    const start = hex(p.segment.start);
    labels.push(label);
    starts.push(start);
    const addr = textWidth(start, AXIS_FONT);
    const labelOut = p.segment.type === "range" && !fitsInside(label, p.width) ? textWidth(label, LABEL_FONT) : 0;
    let row = rows[p.row];
    if (row === undefined) {
      row = { segments: [], above: 14, below: 14, right: 0 };
      rows[p.row] = row;
    }
    row.segments.push(p);
    row.above = Math.max(row.above, labelOut * SIN45 + 12);
    row.below = Math.max(row.below, addr * SIN45 + 14);
    row.right = Math.max(row.right, p.x + p.width, p.x + p.width / 2 + labelOut * SIN45 + 8, p.x + addr * SIN45 + 8);
  }
  const last = rows.at(-1);
  if (last !== undefined) {
    const p = last.segments.at(-1)!;
    const endW = textWidth(endLabel(lastEnd), AXIS_FONT);
    last.below = Math.max(last.below, endW * SIN45 + 14);
    last.right = Math.max(last.right, p.x + p.width + endW * SIN45 + 8);
  }
  return rows;
}

function endLabel(end: bigint): string {
  return end === 1n << 64n ? "2^64" : hex(end);
}

/** Appends the lane's SVG to `out`. */
function drawLane(
  lane: PictureLane,
  top: number,
  scale: ScaleOptions,
  out: string[],
): { bottom: number; right: number } {
  const spaces = lane.spaces.map((s) => `"${s}"`).join(", ");
  const root = lane.rootName === null ? "empty view" : `root ${lane.rootName}`;
  const count = `${lane.ranges.length} range${lane.ranges.length === 1 ? "" : "s"}`;
  out.push(
    `<g class="lane"><text x="${MARGIN}" y="${top + 16}" font-size="13" fill="#1a1a1a"><tspan font-weight="bold">` +
      `${xmlEscape(spaces)}</tspan> — ${xmlEscape(root)} · ${count}</text>\n`,
  );
  const placed = placeSegments(segmentsOf(lane), scale);
  const labels: string[] = [];
  const starts: string[] = [];
  const rows = measureRows(placed, lane.end, labels, starts);
  let y = top + LANE_TITLE_H;
  let right = 0;
  let k = 0;
  for (const [i, row] of rows.entries()) {
    const barY = y + row.above;
    const bar = barText(barY);
    // A row's pieces are joined into one string as soon as it is drawn: they die young (kept apart until the
    // document's join, 20 000 ranges' pieces outlived young collections), and the row is one flat string.
    const pieces: string[] = [];
    for (const p of row.segments) {
      drawSegment(p, bar, lane, labels[k]!, starts[k]!, pieces);
      k++;
    }
    if (i === rows.length - 1) {
      const p = row.segments.at(-1)!;
      pieces.push(axisLabel(MARGIN + p.x + p.width, bar, endLabel(lane.end)));
    }
    out.push(pieces.join(""));
    right = Math.max(right, row.right + MARGIN);
    y = barY + BAR_H + STRIP_GAP + STRIP_H + row.below;
  }
  out.push("</g>\n");
  return { bottom: y, right };
}

/**
 * The heights a row's segments are drawn at, as text: the same for every segment of the row, and a row's
 * height is rarely a whole number, so writing them once per row instead of per segment saves most of the
 * number formatting of a large picture.
 */
interface BarText {
  readonly top: string;
  /** A gap's size label and its break mark's upper ends. */
  readonly gapLabel: string;
  readonly gapMark: string;
  /** The break mark's lower ends. */
  readonly gapFoot: string;
  /** A range's label inside the bar, and a rotated one above it. */
  readonly inside: string;
  readonly above: string;
  readonly beneath: string;
  /** The axis tick's ends and its rotated address. */
  readonly tick: string;
  readonly tickEnd: string;
  readonly address: string;
}

function barText(barY: number): BarText {
  const tickY = barY + BAR_H + STRIP_GAP + STRIP_H;
  return {
    top: `${barY}`,
    gapLabel: `${barY + 11}`,
    gapMark: `${barY + 14}`,
    gapFoot: `${barY + BAR_H - 2}`,
    inside: `${barY + BAR_H / 2 + 4}`,
    above: `${barY - 4}`,
    beneath: `${barY + BAR_H + STRIP_GAP}`,
    tick: `${tickY}`,
    tickEnd: `${tickY + TICK_H}`,
    address: `${tickY + TICK_H + 7}`,
  };
}

function axisLabel(x: number, bar: BarText, text: string): string {
  return (
    `<line x1="${x}" y1="${bar.tick}" x2="${x}" y2="${bar.tickEnd}" stroke="#666"/>` +
    `<text transform="translate(${x + 2},${bar.address}) rotate(45)" font-size="${AXIS_FONT}" ` +
    `font-family="DejaVu Sans Mono, monospace" fill="#444">${xmlEscape(text)}</text>\n`
  );
}

/** Appends one segment's pieces to `out` (`label` and `start`, its range's label and start address, measureRows made). */
function drawSegment(
  p: PlacedSegment,
  bar: BarText,
  lane: PictureLane,
  label: string,
  start: string,
  out: string[],
): void {
  const x = MARGIN + p.x;
  const seg = p.segment;
  if (seg.type === "gap") {
    const size = formatSize(seg.end - seg.start);
    const tip = xmlEscape(`unassigned ${start} – ${hex(seg.end - 1n)} (${size}), drawn collapsed`);
    const cx = x + p.width / 2;
    out.push(
      `<g class="gap" data-tip="${tip}"><title>${tip}</title>`,
      `<rect x="${x + 1}" y="${bar.top}" width="${p.width - 2}" height="${BAR_H}" fill="#f1f3f5" stroke="#c3c8ce" stroke-dasharray="3 2"/>`,
      `<path d="M${cx - 7} ${bar.gapFoot}L${cx - 2} ${bar.gapMark}M${cx + 2} ${bar.gapFoot}L${cx + 7} ${bar.gapMark}" stroke="#8a9099" stroke-width="1.5"/>`,
      `<text x="${cx}" y="${bar.gapLabel}" font-size="8.5" text-anchor="middle" fill="#5f6670">${xmlEscape(size)}</text>`,
      "</g>\n",
    );
  } else {
    const r = seg.range;
    const style = KIND_STYLE[r.kind];
    const tip = xmlEscape(rangeTip(r, lane));
    out.push(
      `<g class="range" data-tip="${tip}"><title>${tip}</title>`,
      `<rect x="${x}" y="${bar.top}" width="${p.width}" height="${BAR_H}" fill="${style.fill}" stroke="#ffffff"/>`,
    );
    if (r.via.length > 0) {
      out.push(`<rect x="${x}" y="${bar.top}" width="${p.width}" height="${BAR_H}" fill="url(#alias-hatch)"/>`);
    }
    if (fitsInside(label, p.width)) {
      out.push(
        `<text x="${x + p.width / 2}" y="${bar.inside}" font-size="${LABEL_FONT}" text-anchor="middle" ` +
          `fill="${style.text}">${xmlEscape(label)}</text>`,
      );
    } else {
      out.push(
        `<text transform="translate(${x + p.width / 2 - 3},${bar.above}) rotate(-45)" font-size="${LABEL_FONT}" ` +
          `fill="#222">${xmlEscape(label)}</text>`,
      );
    }
    if (r.beneath !== null) {
      const b = KIND_STYLE[r.beneath.kind];
      out.push(
        `<rect class="beneath" x="${x}" y="${bar.beneath}" width="${p.width}" height="${STRIP_H}" ` +
          `fill="${b.fill}" fill-opacity="0.6"/>`,
      );
    }
    out.push("</g>\n");
  }
  out.push(axisLabel(x, bar, start));
}

function rangeTip(r: PictureRange, lane: PictureLane): string {
  const lines = [
    `${r.name}${r.offsetInRegion === 0n ? "" : ` @${hex(r.offsetInRegion)}`} (${r.kind})`,
    `${hex(r.start)} – ${hex(r.start + r.size - 1n)} (${formatSize(r.size)})`,
    `path: ${r.path.map((s) => `${s.name}${s.alias ? " (alias)" : ""}${s.priority === 0 ? "" : ` prio ${s.priority}`}`).join(" ▸ ")}`,
  ];
  if (r.beneath !== null) {
    lines.push(`hides: ${r.beneath.name} (${r.beneath.kind}, prio ${r.beneath.priority}) at ${hex(r.start)}`);
  }
  lines.push(`address space${lane.spaces.length === 1 ? "" : "s"}: ${lane.spaces.join(", ")}`);
  return lines.join("\n");
}
