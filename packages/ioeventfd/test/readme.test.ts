import path from "node:path";
import { runReadmeExamples } from "@memtopo/test-support";
import { expect, it } from "vitest";

it("the README example runs and prints what it says (address_space_add_del_ioeventfds worked example)", async () => {
  const [out] = await runReadmeExamples(path.join(import.meta.dirname, "../README.md"));
  expect(out).toBe(
    ["deassign c010 data 0", "deassign c010 data 1", "assign d010 data 0", "assign d010 data 1"].join("\n"),
  );
});
