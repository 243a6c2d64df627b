import path from "node:path";
import { expect, it } from "vitest";
import { runReadmeExamples } from "../../../test-support/readme-examples.js";
import { kvm } from "./helpers.js";

it("the README example runs and prints what it says (or the reason KVM is missing)", async () => {
  const [out] = await runReadmeExamples(path.join(import.meta.dirname, "../README.md"));
  expect(out).toBe(kvm.ok ? ["out 0x10 0x41", "hlt 0x42"].join("\n") : `no KVM here: ${kvm.reason}`);
});
