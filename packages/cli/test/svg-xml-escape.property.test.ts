import { fc, test } from "@fast-check/vitest";
import { escapeText } from "@memtopo/region-tree";
import { describe, expect } from "vitest";
import { xmlEscape } from "../src/svg/format.js";

// xmlEscape returns text that needs nothing as it is, after one test; the oracle is the two replacing passes it
// always made before (characters XML forbids as escapeText writes them, then the five markup characters).
const NOT_XML =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the characters XML 1.0 forbids.
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function twoPasses(text: string): string {
  return text.replace(NOT_XML, (c) => escapeText(c)).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// Plain text, markup, controls, the non-characters, and surrogates paired, lone and reversed.
const pieces = fc.oneof(
  fc.string({ unit: "grapheme-ascii" }),
  fc.constantFrom("&", "<", ">", '"', "'", "\t", "\n", "\r", "\u0000", "\u0007", "\u000c", "\u001f", "\u007f"),
  fc.constantFrom("\ufffe", "\uffff", "\ud83d\ude00", "\ud83d", "\ude00", "\ude00\ud83d", "–", "▸", "⇐"),
  fc.string({ unit: "binary" }),
);

describe("xmlEscape against its two replacing passes", () => {
  test.prop([fc.array(pieces, { maxLength: 12 })], { numRuns: 2000 })(
    "any text escapes exactly as the two passes escape it",
    (parts) => {
      const text = parts.join("");
      expect(xmlEscape(text)).toBe(twoPasses(text));
    },
  );
});
