import path from "node:path";
import { runReadmeExamples } from "@memtopo/test-support";
import { expect, it } from "vitest";

it("@memtopo/kvm's README example runs and prints what it says", async () => {
  const readme = path.join(import.meta.dirname, "../../../kvm/README.md");
  const [out] = await runReadmeExamples(readme, import.meta.dirname);
  expect(out).toContain("{ gpa: '0xfffc0000', size: '0x40000', flags: [ 'readonly' ] }");
  expect(out).toContain("{ gpa: '0x0', size: '0x8000000', flags: [] }");
  expect(out?.split("\n").at(-1)).toBe("true");
});
