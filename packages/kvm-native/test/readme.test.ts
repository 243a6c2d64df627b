import path from "node:path";
import { runReadmeExamples } from "@memtopo/test-support";
import { expect, it } from "vitest";
import { kvm } from "./helpers.js";

it("the README examples run and print what they say (or the reason KVM is missing)", async () => {
  const [first, eitherBackend] = await runReadmeExamples(path.join(import.meta.dirname, "../README.md"));
  expect(first).toBe(kvm.ok ? ["out 0x10 0x41", "hlt 0x42"].join("\n") : `no KVM here: ${kvm.reason}`);
  // One machine builder, each backend's allocator: one RAM memslot on each.
  expect(eitherBackend).toBe(kvm.ok ? "mock 1\nnative 1" : "mock 1");
  // Each example is a fresh Node process: seconds on a host, minutes in a guest nested under TCG. The bound only
  // turns a hang into a failure.
}, 300_000);
