import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HexTexts } from "../../src/import/hex-texts.js";
import { RegionLineReader } from "../../src/import/region-line.js";

// The oracle is the regular expression every region line was read with before (and every line the reader leaves
// is still read with, in parseTreeText): the reader must read a line exactly as it does, or leave it to it.
const LINE =
  /^(?:\[DETECTED OVERFLOW!\] )*((?: {2})+)([0-9a-f]{16})-([0-9a-f]{16}) \(prio (-?\d+), (nv-)?(ram|rom|romd|ramd|i\/o)\): (.*)$/;

const hexDigits = (n: number) =>
  fc.string({ unit: fc.constantFrom(..."0123456789abcdefABx"), minLength: n, maxLength: n });
const addressArb = fc.oneof(
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((v) => v.toString(16).padStart(16, "0")),
  fc.constantFrom(
    "0000000000000000",
    "ffffffffffffffff",
    "001fffffffffffff",
    "0020000000000001",
    "003fffffffffffff",
    "fffffffffffffffe",
  ),
  hexDigits(16),
  fc.integer({ min: 14, max: 18 }).chain(hexDigits),
);
const nameArb = fc.string({ unit: fc.constantFrom(..."ab @-[]():.\\x\r\u2028\u2029\u00e9") });

const lineArb = fc
  .record({
    prefix: fc.constantFrom("", "", "", "[DETECTED OVERFLOW!] "),
    indent: fc.integer({ min: 0, max: 7 }),
    start: addressArb,
    dash: fc.constantFrom("-", "-", "-", "+"),
    end: addressArb,
    prio: fc.oneof(
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map(String),
      fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: 0, maxLength: 12 }).map((d) => `-${d}`),
      fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: 0, maxLength: 12 }),
      fc.constantFrom("-0", "007", "+1", " 1"),
    ),
    nv: fc.constantFrom("", "", "nv-", "nv"),
    type: fc.constantFrom("ram", "rom", "romd", "ramd", "i/o", "io", "ra", "romdd"),
    close: fc.constantFrom("): ", "): ", "): ", "):", ") "),
    name: nameArb,
  })
  .map(
    (p) =>
      `${p.prefix}${" ".repeat(p.indent)}${p.start}${p.dash}${p.end} (prio ${p.prio}, ${p.nv}${p.type}${p.close}${p.name}`,
  );

describe("RegionLineReader against the full expression (property)", () => {
  it("a line read in place is the line the expression reads; a plain one is never left to it", () => {
    fc.assert(
      fc.property(lineArb, fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 }), (line, before, after) => {
        // Among other lines: the reader is given where the line lies in a larger text.
        const text = `${before.replaceAll("\n", "")}\n${line}\n${after}`;
        const from = text.indexOf("\n") + 1;
        const to = from + line.length;
        const reader = new RegionLineReader();
        const read = reader.read(text, from, to);
        const m = LINE.exec(line);
        if (read) {
          expect(m).not.toBeNull();
          const f = reader.fields;
          expect(f.indent).toBe(m![1]!.length);
          expect(f.start).toBe(BigInt(`0x${m![2]}`));
          expect(f.end).toBe(BigInt(`0x${m![3]}`));
          expect(Object.is(f.priority, Number(m![4]))).toBe(true);
          expect(f.nonvolatile).toBe(m![5] !== undefined);
          expect(f.type).toBe(m![6]);
          expect(text.slice(f.restFrom, to)).toBe(m![7]);
        } else if (m !== null) {
          // Left to the expression: only a marked line, a long priority or an end below the start.
          const plain =
            !line.startsWith("[") && m[4]!.replace("-", "").length <= 9 && BigInt(`0x${m[3]}`) >= BigInt(`0x${m[2]}`);
          expect(plain).toBe(false);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("equal addresses read from different lines are one value, whatever the cache held before", () => {
    fc.assert(
      fc.property(fc.array(addressArb, { minLength: 1, maxLength: 40 }), (addresses) => {
        const reader = new RegionLineReader();
        for (const a of addresses) {
          const line = `  ${a}-${"f".repeat(16)} (prio 0, ram): x`;
          if (!reader.read(line, 0, line.length)) continue;
          expect(reader.fields.start).toBe(BigInt(`0x${a}`));
        }
      }),
    );
  });
});

describe("HexTexts against toString (property)", () => {
  it("every value's text is 0x and its hex digits, shared or not", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.bigInt({ min: 0n, max: 1n << 64n }),
            fc.nat(64).map((k) => 1n << BigInt(k)),
            fc.nat(8).map((k) => BigInt(k) * 0x1000n),
          ),
          { maxLength: 60 },
        ),
        (values) => {
          const hex = new HexTexts();
          for (const v of [...values, ...values]) expect(hex.of(v)).toBe(`0x${v.toString(16)}`);
        },
      ),
    );
  });
});
