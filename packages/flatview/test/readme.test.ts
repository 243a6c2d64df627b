import path from "node:path";
import { runReadmeExamples } from "@memtopo/test-support";
import { expect, it } from "vitest";

it("the README example runs and prints what it says", async () => {
  const [out] = await runReadmeExamples(path.join(import.meta.dirname, "../README.md"));
  expect(out).toBe(["e0000 20000 pc.bios 20000 true", "fffc0000 40000 pc.bios 0 true", "pc.bios"].join("\n"));
});
