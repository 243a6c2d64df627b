import { existsSync } from "node:fs";
import { isAvailable, NativeKvm } from "@memtopo/kvm-native";
import { describe, expect, it } from "vitest";
import { createPcBoard } from "../src/index.js";
import { biosImage, SEABIOS, SIZES } from "./fixtures.js";

const kvm = isAvailable();
const why = !kvm.ok ? `${kvm.reason}: ${kvm.detail}` : !existsSync(SEABIOS) ? `${SEABIOS} is not installed` : null;
if (why !== null) console.warn(`[pc] SeaBIOS-on-KVM tests skipped: ${why}`);

// Rule: on a real vCPU the board takes Debian's SeaBIOS 1.16.2 through QEMU's path to the
// boot menu: it finds QEMU's i440fx, reads the RAM from fw_cfg's etc/e820, inits the PCI
// functions by QEMU's IDs and prints "No bootable device" (QEMU 7.2: about 60 s nested).
describe.skipIf(why !== null).each(SIZES)("SeaBIOS on KVM, -m $name", ({ ramSize }) => {
  it("reaches No bootable device", { timeout: 900_000 }, () => {
    const vm = NativeKvm.open();
    try {
      const board = createPcBoard({ ramSize, bios: biosImage(), accel: { kvm: vm, ramAllocator: vm.ramAllocator } });
      const result = board.run({ until: "No bootable device", timeoutMs: 600_000 });
      console.log(
        `[pc] -m ${ramSize >> 20n}M: ${result.stop} after ${result.seconds.toFixed(1)} s, ${result.exits} exits`,
      );
      if (result.stop !== "until") console.log(result.detail, result.debugcon, result.registers);
      expect(result.stop).toBe("until");
      const log = result.debugcon;
      expect(log).toContain("SeaBIOS (version 1.16.2");
      expect(log).toContain("Running on QEMU (i440fx)");
      expect(log).toMatch(/qemu\/e820: addr 0x0000000000000000 len 0x[0-9a-f]{16} \[RAM\]/);
      expect(log).toContain("PCI: init bdf=00:00.0 id=8086:1237");
      expect(log).toContain("PCI: init bdf=00:01.3 id=8086:7113");
    } finally {
      vm.close();
    }
  });
});
