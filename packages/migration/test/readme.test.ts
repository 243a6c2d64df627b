import path from "node:path";
import { runReadmeExamples } from "@memtopo/test-support";
import { expect, it } from "vitest";

it("the README example migrates the running guest and prints what the README says", async () => {
  const readme = path.join(import.meta.dirname, "../README.md");
  const [out] = await runReadmeExamples(readme);
  const text = (await import("node:fs")).readFileSync(readme, "utf8");
  const printed = /prints[^\n]*\n\n```\n([\s\S]*?)\n```/.exec(text)![1];
  expect(out).toBe(printed);
});
