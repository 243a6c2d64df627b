import path from "node:path";
import { expect, it } from "vitest";
import { runReadmeExamples } from "../../../test-support/readme-examples.js";

it("the README example runs and prints what it says (address_space_add_del_ioeventfds worked example)", async () => {
  const [out] = await runReadmeExamples(path.join(import.meta.dirname, "../README.md"));
  expect(out).toBe(
    ["deassign c010 data 0", "deassign c010 data 1", "assign d010 data 0", "assign d010 data 1"].join("\n"),
  );
});
