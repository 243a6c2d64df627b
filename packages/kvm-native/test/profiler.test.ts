import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { kvm } from "./helpers.js";

const here = path.dirname(fileURLToPath(import.meta.url));

// `node --cpu-prof` interrupts the process with SIGPROF all the time, and the kernel's VM
// setup gives up with EINTR when a signal arrives (about 1 creation in 20 here). QEMU's
// kvm_init retries KVM_CREATE_VM on EINTR; so does the addon, so a VMM can be profiled.
describe.skipIf(!kvm.ok)("a VM created while a profiler's signals arrive", () => {
  it("is created every time: KVM_CREATE_VM is retried on EINTR", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "memtopo-cpu-prof-"));
    try {
      const r = spawnSync(
        process.execPath,
        ["--cpu-prof", "--cpu-prof-interval", "100", "--cpu-prof-dir", dir, path.join(here, "create-vms.mjs"), "300"],
        { encoding: "utf8", timeout: 60_000 },
      );
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({});
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
