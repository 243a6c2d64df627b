import path from "node:path";
import { runReadmeExamples } from "@memtopo/test-support";
import { expect, it } from "vitest";

it("the README's example imports QEMU's text to a machine that prints the same text again", async () => {
  const outputs = await runReadmeExamples(path.join(import.meta.dirname, "../README.md"));
  expect(outputs).toEqual([["memtopo-machine/1 tcg 0", "true", "true"].join("\n")]);
});
