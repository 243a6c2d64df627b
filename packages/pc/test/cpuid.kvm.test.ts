import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pcCaptureFile } from "@memtopo/fixtures";
import { isAvailable, kickVcpuAfter, NativeKvm } from "@memtopo/kvm-native";
import { describe, expect, it } from "vitest";
import { createPcBoard } from "../src/index.js";

const kvm = isAvailable();
if (!kvm.ok) console.warn(`[pc] qemu64 CPUID test on KVM skipped: ${kvm.reason}: ${kvm.detail}`);

/** scripts/cpuid-dump.S assembled with binutils: the BIOS QEMU's capture ran too. */
function cpuidDumpBios(): Uint8Array {
  const dir = mkdtempSync(path.join(tmpdir(), "memtopo-pc-cpuid-"));
  try {
    const source = new URL("../scripts/cpuid-dump.S", import.meta.url).pathname;
    execFileSync("as", ["--32", "-o", `${dir}/dump.o`, source]);
    execFileSync("ld", [
      "-m",
      "elf_i386",
      "-Ttext",
      "0",
      "-e",
      "0",
      "--oformat",
      "binary",
      "-o",
      `${dir}/dump.bin`,
      `${dir}/dump.o`,
    ]);
    return new Uint8Array(readFileSync(`${dir}/dump.bin`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Rule: with cpu "qemu64" a guest of the board reads from CPUID exactly what a guest of QEMU 7.2's
// `-M pc -nodefaults -accel kvm` (default -cpu qemu64) read on the same KVM, leaf by leaf
// (fixture: scripts/dump-cpuid.sh kvm, captured in the nested-KVM guest).
describe.skipIf(!kvm.ok)("qemu64 CPUID on KVM", () => {
  it("equals QEMU 7.2's guest's CPUID for every leaf probed", { timeout: 300_000 }, () => {
    const vm = NativeKvm.open();
    try {
      const board = createPcBoard({
        ramSize: 128n << 20n,
        bios: cpuidDumpBios(),
        cpu: "qemu64",
        accel: { kvm: vm, ramAllocator: vm.ramAllocator, kickAfter: kickVcpuAfter },
      });
      const result = board.run({ until: "!", timeoutMs: 120_000 });
      expect(result.stop, result.detail).toBe("until");
      const ram = new Uint8Array(0x1000);
      board.spaces.memory.read(0x1000n, ram);
      const view = new DataView(ram.buffer);
      const lines: string[] = [];
      for (let at = 0; view.getUint32(at, true) !== 0xffff_ffff; at += 24) {
        lines.push(
          [0, 1, 2, 3, 4, 5]
            .map((i) =>
              view
                .getUint32(at + 4 * i, true)
                .toString(16)
                .padStart(8, "0"),
            )
            .join(" "),
        );
      }
      const qemu = readFileSync(pcCaptureFile("cpuid/qemu64-kvm.txt"), "utf8");
      expect(lines).toEqual(qemu.trim().split("\n"));
    } finally {
      vm.close();
    }
  });
});
