/**
 * How memtopo writes any text that came from a user (region and address-space names, values echoed in messages)
 * where it reaches a terminal or a file another tool reads: a backslash is written `\\`; a character that could
 * move the cursor, end a line, ring the bell or reorder what is shown (C0 and C1 controls, DEL, U+2028/U+2029,
 * the bidirectional overrides and isolates), and one that no text may hold (U+FFFE, U+FFFF, a lone surrogate) is
 * written `\xHH` below U+0100 and `\u{H…}` above. Everything else is written as is, so QEMU's own names print
 * unchanged. {@link unescapeText} reverses it.
 */
export function escapeText(text: string): string {
  return text.replace(UNSAFE, (c) => {
    if (c === "\\") return "\\\\";
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u{${code.toString(16)}}`;
  });
}

/** Reads back what {@link escapeText} wrote; a backslash that starts no escape is kept as it is. */
export function unescapeText(text: string): string {
  if (!text.includes("\\")) return text;
  return text.replace(ESCAPE, (all, hex2?: string, hexN?: string) => {
    if (all === "\\\\") return "\\";
    const code = Number.parseInt(hex2 ?? hexN!, 16);
    return code <= 0x10ffff ? String.fromCodePoint(code) : all;
  });
}

/** Longest value a message echoes whole. */
export const MAX_ECHO = 80;

/** `value` as a message echoes it: at most {@link MAX_ECHO} characters, then how many more there were. */
export function cutText(value: string, max = MAX_ECHO): string {
  return value.length <= max ? value : `${value.slice(0, max)}…(${value.length - max} more characters)`;
}

// Backslash; C0, DEL, C1; U+2028/2029; bidi embeddings/overrides U+202A–202E and isolates U+2066–2069;
// U+FFFE/FFFF; a high surrogate not followed by a low one, a low one not preceded by a high one.
const UNSAFE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this pattern's job.
  /[\\\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const ESCAPE = /\\\\|\\x([0-9a-f]{2})|\\u\{([0-9a-f]{1,6})\}/g;
