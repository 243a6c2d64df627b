import { describe, expect, it } from "vitest";
import { describeValue, MemoryRegion, MemtopoError, StandaloneHost } from "../src/index.js";

// Objects that String() cannot convert, or that run hostile code when it tries.
const unconvertible: [string, unknown][] = [
  ["a null-prototype object", Object.create(null)],
  ["an object whose toString is not callable", { toString: 1, valueOf: 2 }],
  [
    "an object whose conversions throw",
    {
      toString() {
        throw new Error("hostile");
      },
    },
  ],
  [
    "a Proxy whose every trap throws",
    new Proxy(
      {},
      {
        get() {
          throw new Error("hostile");
        },
      },
    ),
  ],
];

describe("describeValue: a bad argument shown without running its code", () => {
  it.each(unconvertible)("%s is 'an object'", (_, value) => {
    expect(describeValue(value)).toBe("an object");
  });

  it("primitives as JavaScript writes them, long ones cut", () => {
    expect(describeValue(-1n)).toBe("-0x1n");
    expect(describeValue(4096n)).toBe("0x1000n");
    expect(describeValue("x")).toBe('"x"');
    expect(describeValue(Number.NaN)).toBe("NaN");
    expect(describeValue(undefined)).toBe("undefined");
    expect(describeValue(null)).toBe("null");
    expect(describeValue(Symbol("s"))).toBe("a symbol");
    expect(describeValue(() => 0)).toBe("a function");
    expect(describeValue("y".repeat(500))).toMatch(/more characters\)"$/);
    expect(describeValue(10n ** 100n).length).toBeLessThan(80);
  });

  it.each(unconvertible)("a region mutator given %s throws a MemtopoError, not a TypeError", (_, value) => {
    const root = new MemoryRegion(new StandaloneHost(), { kind: "container", name: "root", size: 0x1000n });
    const child = new MemoryRegion(new StandaloneHost(), { kind: "container", name: "child", size: 0x10n });
    expect(() => root.addSubregionOverlap(0n, child, value as number)).toThrow(MemtopoError);
    expect(() => root.setAddress(value as bigint)).toThrow(MemtopoError);
    expect(() => root.setSize(value as bigint)).toThrow(MemtopoError);
  });
});
