import fs from "node:fs";
import path from "node:path";
import type { MemtopoError } from "@memtopo/region-tree";
import { runSnippet } from "@memtopo/test-support";
import { loadMachine } from "memtopo";
import { describe, expect, it } from "vitest";

const docs = path.join(import.meta.dirname, "../../../docs");

/**
 * The docs' TypeScript examples, each with the ```text block that follows it (what the
 * page says it prints). They run from this package, whose dependencies are the ones a
 * user of the docs installs.
 */
function examples(page: string): { code: string; expected: string | null }[] {
  const text = fs.readFileSync(path.join(docs, page), "utf8");
  const blocks = [...text.matchAll(/```(ts|text)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, body: m[2]! }));
  return blocks.flatMap((b, i) =>
    b.lang === "ts" ? [{ code: b.body, expected: blocks[i + 1]?.lang === "text" ? blocks[i + 1]!.body : null }] : [],
  );
}

async function run(code: string, name: string): Promise<string> {
  return `${await runSnippet(code, import.meta.dirname, name)}\n`;
}

describe("docs/getting-started.md: the examples run and print what the page says", () => {
  const list = examples("getting-started.md");
  it("has examples", () => expect(list.length).toBeGreaterThanOrEqual(2));
  for (const [i, example] of list.entries()) {
    it(`example ${i + 1}`, async () => {
      const out = await run(example.code, `docs-getting-started-${i}`);
      expect(example.expected, "each example is followed by the output it prints").not.toBeNull();
      expect(out).toBe(example.expected);
    });
  }
});

describe("docs/machine-format.md: the example is a valid machine and the error shown is the real one", () => {
  const text = fs.readFileSync(path.join(docs, "machine-format.md"), "utf8");
  const example = /```json\n([\s\S]*?)```/.exec(text)![1]!;
  const shownError = /```text\n(memtopo: error [^\n]*)\n```/.exec(text)![1]!;

  it("loads and builds", () => {
    const machine = loadMachine(example);
    expect(machine.addressSpaces.map((as) => as.name)).toEqual(["memory", "I/O"]);
    expect(machine.addressSpaces[0]!.currentMap.lookup(0xf_0000n)?.readonly).toBe(true);
  });

  it("moving the pam-rom window past the end of RAM gives the error the page shows", () => {
    const bad = JSON.parse(example);
    bad.regions[0].subregions[2].aliasOffset = "0x7ff8000";
    let message = "";
    try {
      loadMachine(bad);
    } catch (error) {
      const e = error as MemtopoError;
      message = `memtopo: error [${e.code}]: ${e.message}`;
    }
    expect(message).toBe(shownError);
  });
});
