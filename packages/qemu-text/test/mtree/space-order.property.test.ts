import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { sortedInsertOrder } from "../../src/mtree/tree.js";

// The oracle is GLib's sorted insert done one name at a time, as QEMU's `info mtree` lists the spaces of one root:
// each new name goes before the first name that is not below it in UTF-8 byte order.
function insertOneByOne(names: readonly string[]): string[] {
  const out: string[] = [];
  const compare = (a: string, b: string) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
  for (const name of names) {
    const at = out.findIndex((other) => compare(name, other) <= 0);
    out.splice(at < 0 ? out.length : at, 0, name);
  }
  return out;
}

describe("the address-space names heading an info mtree block", () => {
  test.prop([fc.array(fc.oneof(fc.constantFrom("memory", "I/O", "cpu-memory-0", "é", "e", "E", ""), fc.string()))], {
    numRuns: 1000,
  })("sortedInsertOrder is the one-by-one sorted insert, equal names later-created first", (names) => {
    expect(sortedInsertOrder(names)).toEqual(insertOneByOne(names));
  });
});
