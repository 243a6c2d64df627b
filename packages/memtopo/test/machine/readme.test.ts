import path from "node:path";
import { runReadmeExamples } from "@memtopo/test-support";
import { expect, it } from "vitest";

it("the README's machine-file example runs and prints what it says", async () => {
  const outputs = await runReadmeExamples(path.join(import.meta.dirname, "../../README.md"));
  expect(outputs).toContain(["0+f0000 pc.ram", "f0000+10000 isa-bios", "true"].join("\n"));
});
