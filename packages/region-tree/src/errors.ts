import { cutText, escapeText } from "./text.js";

/** Longest message an error carries; the values in it are cut first (see {@link cutText}). */
const MAX_MESSAGE = 2000;

/**
 * Every error memtopo throws on bad input is a {@link MemtopoError}: a stable
 * machine-readable `code`, a message that says what was wrong, and, where the
 * input was structured, the `path` of the bad value (e.g. `regions[0].subregions[3].size`).
 * A throwing call leaves every state it could touch unchanged.
 */
export class MemtopoError extends Error {
  readonly code: string;
  readonly path: string | undefined;

  constructor(code: string, message: string, options: { path?: string; cause?: unknown } = {}) {
    // Messages echo user input (names, ids, values): written the way every output writes names, so that printing
    // one can neither drive a terminal nor fake a line, and never longer than MAX_MESSAGE.
    const whole = escapeText(options.path === undefined ? message : `${options.path}: ${message}`);
    super(cutText(whole, MAX_MESSAGE), { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.path = options.path;
  }
}

/** Misuse of the region tree: the tree is unchanged when this is thrown. */
export class RegionTreeError extends MemtopoError {}
