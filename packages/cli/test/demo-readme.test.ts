import fs from "node:fs";
import path from "node:path";
import { runReadmeExamples } from "@memtopo/test-support";
import { expect, it } from "vitest";

it("the README's embedding example runs the demo in-process and prints what the README says", async () => {
  const readme = path.join(import.meta.dirname, "../README.md");
  const [out] = await runReadmeExamples(readme);
  const shown = /```text\n([\s\S]*?)\n```/.exec(fs.readFileSync(readme, "utf8"))![1];
  expect(out).toBe(shown);
});
