import path from "node:path";
import { runReadmeExamples } from "@memtopo/test-support";
import { expect, it } from "vitest";

it("the README example runs and prints what it says (address_space_update_topology_pass worked example 1)", async () => {
  const [out] = await runReadmeExamples(path.join(import.meta.dirname, "../README.md"));
  expect(out).toBe(
    [
      "kvm del 0 pc.ram",
      "dev del 0 pc.ram",
      "kvm del a0000 vga-lowmem",
      "dev del a0000 vga-lowmem",
      "kvm del c0000 pc.ram",
      "dev del c0000 pc.ram",
      "dev add 0 pc.ram",
      "kvm add 0 pc.ram",
    ].join("\n"),
  );
});
