import { hex } from "./numbers.js";
import { cutText } from "./text.js";

/**
 * A bad argument as an error message shows it. It runs none of the value's own code: `String()` on an object
 * calls its `toString`/`valueOf`, which may throw, be missing (`Object.create(null)`, `{ toString: 1 }`) or be a
 * Proxy trap, and a validation error must never turn into a TypeError of its own. Primitives are shown as
 * JavaScript literals (bigints in hex, as addresses are printed, with their `n`; strings quoted), cut to {@link cutText}'s length.
 */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case "bigint":
      return `${value < 0n ? "-" : ""}${cutText(hex(value < 0n ? -value : value), 40)}n`;
    case "string":
      return `"${cutText(value)}"`;
    case "number":
    case "boolean":
    case "undefined":
      return String(value);
    case "symbol":
      return "a symbol";
    case "function":
      return "a function";
    default:
      return value === null ? "null" : "an object";
  }
}
