import { unescapeText } from "@memtopo/region-tree";

/**
 * What `info mtree -o` appends to a region's line (QEMU 7.2's `mtree_print_mr_owner`): ` owner:{…}`
 * with an optional ` parent:{…}` when the QOM parent differs, a lone ` parent:{…}` for a region
 * without owner, or ` orphan` for one with neither. Each `{…}` is `dev` or `obj`, then `id=`
 * (a device's id), `path=` (its canonical QOM path) or `type=` (when it has no path).
 */
export interface OwnerTail {
  /** The line without its owner part. */
  readonly rest: string;
  /** The owner as memtopo's label (the id, path or type), or null for a lone `parent:` or `orphan`. */
  readonly owner: string | null;
  /** The owner is not a device named by id or path, which is all memtopo's label prints back as. */
  readonly lossy: boolean;
}

const PART = String.raw`\{(dev|obj) (id|path|type)=([^{}]*)\}`;
const TAIL = new RegExp(` (?:owner:${PART}(?: parent:${PART})?|parent:${PART}|orphan)$`);

/** The owner part ending `text`, or null when it has none (or a malformed one). */
export function readOwnerTail(text: string): OwnerTail | null {
  const m = TAIL.exec(text);
  if (m === null) return null;
  // An id belongs to devices only (DeviceState::id).
  if ([m[1], m[4], m[7]].some((kind, i) => kind === "obj" && m[2 + 3 * i] === "id")) return null;
  const rest = text.slice(0, m.index);
  if (m[1] === undefined) return { rest, owner: null, lossy: false };
  return { rest, owner: unescapeText(m[3]!), lossy: m[1] !== "dev" || m[2] === "type" };
}

/** The words `info mtree -o` is told by, for messages. */
export const OWNER_TAIL_FORM = "owner:{dev|obj id|path|type=…}, parent:{…} or orphan";
