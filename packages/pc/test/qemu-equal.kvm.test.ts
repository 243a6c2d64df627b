import { existsSync } from "node:fs";
import { isAvailable, NativeKvm } from "@memtopo/kvm-native";
import { beforeAll, describe, expect, it } from "vitest";
import { createPcBoard, type PcRunResult } from "../src/index.js";
import { biosImage, qemuFixture, SEABIOS, SIZES } from "./fixtures.js";
import { type MemslotCall, memslotCall, qemuMemslots } from "./memslot-fixtures.js";

const kvm = isAvailable();
const why = !kvm.ok ? `${kvm.reason}: ${kvm.detail}` : !existsSync(SEABIOS) ? `${SEABIOS} is not installed` : null;
if (why !== null) console.warn(`[pc] QEMU-equality tests on KVM skipped: ${why}`);

// Rule: SeaBIOS on the board and on QEMU 7.2 (-M pc -nodefaults -accel kvm, same firmware, no
// kvmvapic ROM: the fixtures' -novapic captures) drive the same topology commits, so every KVM_SET_USER_MEMORY_REGION
// call is QEMU's, call by call (slot, flags, guest address, size), from machine creation to "No bootable device";
// and SeaBIOS reads the same RAM layout from fw_cfg.
describe.skipIf(why !== null).each(SIZES)("SeaBIOS on the board, against QEMU 7.2, -m $name", ({ name, ramSize }) => {
  const dir = `m${name}-novapic`;
  const calls: MemslotCall[] = [];
  let result: PcRunResult;

  beforeAll(() => {
    const vm = NativeKvm.open();
    try {
      const board = createPcBoard({
        ramSize,
        bios: biosImage(),
        accel: { kvm: vm, ramAllocator: vm.ramAllocator },
        onMemslot: (region) => calls.push(memslotCall(region)),
      });
      result = board.run({ until: "No bootable device", timeoutMs: 600_000 });
      console.log(`[pc] -m ${name}: ${result.stop} after ${result.seconds.toFixed(1)} s, ${result.exits} exits`);
    } finally {
      vm.close();
    }
  }, 900_000);

  it("SeaBIOS prints its banner, finds QEMU's i440fx and the host bridge, and ends at No bootable device", () => {
    expect(result.stop, `${result.detail}\n${result.debugcon}`).toBe("until");
    expect(result.debugcon).toContain("SeaBIOS (version 1.16.2");
    expect(result.debugcon).toContain("Running on QEMU (i440fx)");
    expect(result.debugcon).toContain("PCI: init bdf=00:00.0 id=8086:1237");
    expect(result.debugcon).toContain("No bootable device");
  });

  it("SeaBIOS reads the RAM given from fw_cfg's etc/e820 as under QEMU (its qemu/e820 lines)", () => {
    const entries = (text: string) => text.split("\n").filter((line) => line.startsWith("qemu/e820:"));
    const qemu = entries(qemuFixture(dir, "debugcon.txt") ?? "");
    expect(qemu.length).toBe(ramSize > 0xc000_0000n ? 2 : 1);
    expect(entries(result.debugcon)).toEqual(qemu);
  });

  it("every KVM_SET_USER_MEMORY_REGION call equals QEMU's, in order, creation-time calls included", () => {
    expect(calls).toEqual(qemuMemslots(dir));
  });
});
