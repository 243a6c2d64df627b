import path from "node:path";
import { expect, it } from "vitest";
import { runReadmeExamples } from "../../../../test-support/readme-examples.js";

it("the README's machine-file example runs and prints what it says", async () => {
  const outputs = await runReadmeExamples(path.join(import.meta.dirname, "../../README.md"));
  expect(outputs).toContain(
    [
      "FlatView #0",
      ' AS "memory", root: system',
      " Root memory region: system",
      "  0000000000000000-00000000000effff (prio 0, ram): pc.ram",
      "  00000000000f0000-00000000000fffff (prio 1, rom): isa-bios",
      "true",
    ].join("\n"),
  );
});
