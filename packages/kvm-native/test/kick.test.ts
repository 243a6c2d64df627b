import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { isBinding, loadBinding, type NativeBinding } from "../src/binding.js";
import { kickVcpu } from "../src/index.js";
import { guest, kvm } from "./helpers.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const loaded = loadBinding();

describe.skipIf(!isBinding(loaded))("kickVcpu", () => {
  it("is false for an id no open vCPU has, and rejects ids that are not u32 with a KvmError", () => {
    expect(kickVcpu(0)).toBe(false);
    expect(kickVcpu(0xffff_fff0)).toBe(false);
    expect(() => kickVcpu(-1)).toThrow(expect.objectContaining({ name: "KvmError", code: "EINVAL" }));
  });

  it.skipIf(!kvm.ok)("stops a vCPU that another thread is running: its run() returns KVM_EXIT_INTR", async () => {
    const exits = (loaded as NativeBinding).layout.exits;
    const worker = new Worker(path.join(here, "kick-worker.mjs"), {
      workerData: { packageRoot: path.resolve(here, ".."), code: guest("spin") },
    });
    try {
      type Message = { kickId?: number; reason?: number; runs?: number; at?: number };
      const next = () =>
        new Promise<Message>((resolve, reject) => {
          worker.once("message", resolve);
          worker.once("error", reject);
        });
      const { kickId } = await next();
      await new Promise((r) => setTimeout(r, 200));
      const done = next();
      const kickedAt = Date.now();
      expect(kickVcpu(kickId!)).toBe(true);
      const result = await done;
      expect(result.reason).toBe(exits.INTR);
      // Well under one spin chunk (~7 s at the ~4.5 M instructions/s of nested KVM):
      // the signal interrupted KVM_RUN rather than the next exit noticing immediate_exit.
      expect(result.at! - kickedAt).toBeLessThan(2_000);
    } finally {
      await worker.terminate();
    }
  });
});
