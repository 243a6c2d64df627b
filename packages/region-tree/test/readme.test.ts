import path from "node:path";
import { runReadmeExamples } from "@memtopo/test-support";
import { expect, it } from "vitest";

it("the README example runs and prints what it says", async () => {
  const [out] = await runReadmeExamples(path.join(import.meta.dirname, "../README.md"));
  expect(out).toContain("[ 'vga-lowmem prio 1', 'ram-below-4g prio 0' ]");
  expect(out).toContain("true");
  expect(out).toContain("E_REGION_HAS_CONTAINER");
});
