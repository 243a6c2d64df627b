import { escapeText } from "@memtopo/region-tree";

/** Text helpers shared by the picture renderers. */

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"] as const;

/** A size a person reads at a glance: `1 B`, `4 KiB`, `3.9 GiB`, `16 EiB` (binary units). */
export function formatSize(size: bigint): string {
  let unit = 0;
  while (unit < UNITS.length - 1 && size >= 1n << BigInt(10 * (unit + 1))) unit++;
  const scale = 1n << BigInt(10 * unit);
  const whole = size / scale;
  const rest = size % scale;
  if (rest === 0n) return `${whole} ${UNITS[unit]}`;
  // One decimal, truncated: "3.9 GiB" never claims a full 4 GiB. Pictures are approximate; hovers give exact hex.
  const tenths = (rest * 10n) / scale;
  return `${whole}.${tenths} ${UNITS[unit]}`;
}

/**
 * Escapes text for XML content and attribute values. Characters XML 1.0 does not allow at all (controls other than
 * tab and line ends, U+FFFE, U+FFFF, lone surrogates) are written as escapeText writes them, so the picture is
 * well-formed whatever a name holds (names arrive escaped already; this is for any other text).
 */
export function xmlEscape(text: string): string {
  // Most text needs nothing: one test instead of two replacing passes (a large picture escapes 60 000 strings).
  if (!MAY_ESCAPE.test(text)) return text;
  return text.replace(NOT_XML, (c) => escapeText(c)).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Every character either pass below may replace (surrogates whether paired or not). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the same characters as NOT_XML's.
const MAY_ESCAPE = /[&<>"'\u0000-\u0008\u000b\u000c\u000e-\u001f\ud800-\udfff\ufffe\uffff]/;

const NOT_XML =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding the characters XML forbids is this pattern's job.
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** An estimate of rendered text width for the sans-serif font the pictures use. */
export function textWidth(text: string, fontSize: number): number {
  return text.length * fontSize * 0.6;
}
