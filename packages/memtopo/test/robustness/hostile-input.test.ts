import { MemtopoError } from "@memtopo/region-tree";
import { typedErrorExpectations } from "@memtopo/test-support";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadMachine } from "../../src/index.js";
import { caseNames, readCase } from "../conformance/compare.js";

// Every input either loads or throws a typed MemtopoError (with a JSON path for
// structured input); no TypeError, RangeError or stack overflow escapes. Counts and seeds
// of the last run are in docs/robustness.md.

const small = caseNames().filter((n) => readCase(n, "machine.json").length < 60_000);

const { expectLoadsOrTypedError } = typedErrorExpectations(MemtopoError);

const hostile = fc.oneof(
  fc.constantFrom(
    null,
    true,
    -1,
    1.5,
    Number.NaN,
    1e308,
    "",
    "0x",
    "-0x10",
    "0x1g",
    `0x1${"0".repeat(16)}`,
    `0x${"f".repeat(40)}`,
    "0x10000000000000001",
    "r1",
    "r999999",
    "container",
    "alias",
    [],
    {},
    { id: "r1" },
    "__proto__",
  ),
  fc.string(),
  fc.integer(),
  fc.bigInt().map((b) => `0x${(b < 0n ? -b : b).toString(16)}`),
  fc.letrec((tie) => ({
    deep: fc.oneof({ depthSize: "small" }, fc.constant(1), fc.array(tie("deep"), { maxLength: 2 })),
  })).deep,
);

/** Replaces the value at a random path of a JSON document by `value` (or deletes it). */
function mutate(doc: unknown, pick: number, value: unknown, remove: boolean): unknown {
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, path: (string | number)[]) => {
    paths.push(path);
    if (Array.isArray(v)) for (const [i, x] of v.entries()) walk(x, [...path, i]);
    else if (v !== null && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  walk(doc, []);
  const path = paths[pick % paths.length]!;
  if (path.length === 0) return value;
  const copy = structuredClone(doc) as Record<string | number, unknown>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (remove && !Array.isArray(parent)) delete parent[last];
  else parent[last] = value;
  return copy;
}

describe("the machine loader on hostile input", () => {
  it("arbitrary JSON values load or throw a typed error", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expectLoadsOrTypedError(() => loadMachine(value));
      }),
      { numRuns: 500 },
    );
  });

  it("broken JSON text throws E_MACHINE_JSON", () => {
    fc.assert(
      fc.property(fc.string(), fc.nat(), (junk, cut) => {
        const text = readCase("x86-pc-held-tcg", "machine.json");
        const broken = text.slice(0, cut % text.length) + junk;
        expectLoadsOrTypedError(() => loadMachine(broken));
      }),
      { numRuns: 200 },
    );
  });

  it("one hostile value anywhere in a real machine file: loads or a typed error naming a JSON path", () => {
    const docs = small.map((n) => JSON.parse(readCase(n, "machine.json")));
    let errors = 0;
    fc.assert(
      fc.property(fc.nat(), fc.nat(), hostile, fc.boolean(), (which, pick, value, remove) => {
        const doc = mutate(docs[which % docs.length], pick, value, remove);
        try {
          loadMachine(doc);
        } catch (error) {
          if (!(error instanceof MemtopoError)) throw error;
          errors++;
          if (error.code !== "E_MACHINE_JSON") expect(error.path ?? error.message).toMatch(/\S/);
        }
      }),
      { numRuns: 1000 },
    );
    expect(errors).toBeGreaterThan(100);
  });

  it("deep nesting (10 000 levels) is a typed error or loads, never a stack overflow", () => {
    let region: Record<string, unknown> = { id: "leaf", name: "leaf", kind: "ram", size: "0x1000" };
    for (let i = 0; i < 10_000; i++) {
      region = { id: `c${i}`, name: "c", kind: "container", size: "0x10000", subregions: [region] };
    }
    const doc = {
      format: "memtopo-machine/1",
      name: "deep",
      addressSpaces: [{ name: "memory", root: "c9999" }],
      regions: [region],
    };
    expectLoadsOrTypedError(() => loadMachine(doc));
  });
});

describe("long alias chains", () => {
  it("a chain of 10 000 aliases loads or throws a typed error, never a stack overflow", () => {
    const regions: Record<string, unknown>[] = [{ id: "a0", name: "ram", kind: "ram", size: "0x1000" }];
    for (let i = 1; i < 10_000; i++) {
      regions.push({
        id: `a${i}`,
        name: "alias",
        kind: "alias",
        size: "0x1000",
        alias: `a${i - 1}`,
        aliasOffset: "0x0",
      });
    }
    const doc = {
      format: "memtopo-machine/1",
      name: "chain",
      addressSpaces: [{ name: "memory", root: "sys" }],
      regions: [
        {
          id: "sys",
          name: "system",
          kind: "container",
          size: "0x10000000000000000",
          subregions: [{ id: "m", name: "m", kind: "alias", size: "0x1000", alias: "a9999", aliasOffset: "0x0" }],
        },
        ...regions,
      ],
    };
    expectLoadsOrTypedError(() => loadMachine(doc));
  });
});
