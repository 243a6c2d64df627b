import path from "node:path";
import { expect, it } from "vitest";
import { runReadmeExamples } from "../../../test-support/readme-examples.js";

it("the README's example imports QEMU's text to a machine that prints the same text again", async () => {
  const outputs = await runReadmeExamples(path.join(import.meta.dirname, "../README.md"));
  expect(outputs).toEqual([["memtopo-machine/1 tcg 0", "true", "true"].join("\n")]);
});
