import { existsSync, readFileSync } from "node:fs";
import { isAvailable, kickVcpuAfter, NativeKvm } from "@memtopo/kvm-native";
import { printMtreeFlat } from "@memtopo/qemu-text";
import { describe, expect, it } from "vitest";
import { createPcBoard } from "../src/index.js";
import { biosImage, flatOrder, qemuFixture, SEABIOS, SIZES } from "./fixtures.js";
import { memslotCall, qemuMemslots } from "./memslot-fixtures.js";

const VAPIC_ROM = "/usr/share/qemu/kvmvapic.bin";
const kvm = isAvailable();
const why = !kvm.ok
  ? `${kvm.reason}: ${kvm.detail}`
  : !existsSync(SEABIOS)
    ? `${SEABIOS} is not installed`
    : !existsSync(VAPIC_ROM)
      ? `${VAPIC_ROM} is not installed`
      : null;
if (why !== null) console.warn(`[pc] kvmvapic tests on KVM skipped: ${why}`);

/** The FlatView block of `info mtree -f` that lists AS `name`. */
function flatView(text: string, name: string): string {
  return text.split("\n\n").find((block) => block.includes(` AS "${name}"`)) ?? "";
}

// Rule: with QEMU's default kvm-apic.vapic=on, QEMU 7.2 hands SeaBIOS the kvmvapic option ROM;
// SeaBIOS runs it at c000:0003, the ROM reports itself on port 0x7e and its three pages stay
// RAM over the PAM area (kvmvapic-rom, priority 1000), so slot 0 ends at 0xc3000 when SeaBIOS
// write-protects the option ROMs: every KVM_SET_USER_MEMORY_REGION call equals QEMU's
// with-vapic capture (fixtures m<size>), and so does the memory view after the firmware.
describe.skipIf(why !== null).each(SIZES)("SeaBIOS with the kvmvapic ROM on KVM, -m $name", ({ name, ramSize }) => {
  it("runs the ROM and makes QEMU's with-vapic memslot calls and memory view", { timeout: 900_000 }, () => {
    const vm = NativeKvm.open();
    try {
      const calls: ReturnType<typeof memslotCall>[] = [];
      const board = createPcBoard({
        ramSize,
        bios: biosImage(),
        vapic: true,
        vapicRom: new Uint8Array(readFileSync(VAPIC_ROM)),
        accel: { kvm: vm, ramAllocator: vm.ramAllocator, kickAfter: kickVcpuAfter },
        onMemslot: (r) => calls.push(memslotCall(r)),
      });
      const result = board.run({ until: "No bootable device", timeoutMs: 300_000 });
      console.log(`[pc] vapic -m ${name}: ${result.stop} after ${result.seconds.toFixed(1)} s, ${result.exits} exits`);
      if (result.stop !== "until") {
        console.log(result.detail, result.debugcon, result.registers);
        console.log(calls.map((c) => JSON.stringify(c)).join("\n"));
      }
      expect(result.stop).toBe("until");
      expect(result.debugcon).toContain("Running option rom at c000:0003");
      expect(board.devices.vapic!.romStatePaddr).not.toBeNull();
      expect(calls).toEqual(qemuMemslots(`m${name}`));
      const after = qemuFixture(`m${name}`, "mtree-after-f.txt");
      if (after !== null) {
        const flat = printMtreeFlat(flatOrder(after, board.addressSpaces), {
          accelHasMemory: board.hasMemory,
          accelName: "KVM",
        });
        expect(flatView(flat, "memory")).toBe(flatView(after, "memory"));
        expect(flatView(flat, "I/O")).toBe(flatView(after, "I/O"));
      }
    } finally {
      vm.close();
    }
  });
});
