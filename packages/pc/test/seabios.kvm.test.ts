import { existsSync } from "node:fs";
import { isAvailable, NativeKvm } from "@memtopo/kvm-native";
import { printMtreeFlat } from "@memtopo/qemu-text";
import { describe, expect, it } from "vitest";
import { createPcBoard } from "../src/index.js";
import { biosImage, flatOrder, qemuFixture, SEABIOS, SIZES } from "./fixtures.js";

const kvm = isAvailable();
const why = !kvm.ok ? `${kvm.reason}: ${kvm.detail}` : !existsSync(SEABIOS) ? `${SEABIOS} is not installed` : null;
if (why !== null) console.warn(`[pc] SeaBIOS-on-KVM tests skipped: ${why}`);

/** The FlatView block of `info mtree -f` that lists AS `name` (QEMU's view, shared by its users). */
function flatView(text: string, name: "memory" | "I/O"): string {
  return text.split("\n\n").find((block) => block.includes(` AS "${name}"`)) ?? "";
}

/** SeaBIOS's final e820 map, as it prints it before the boot menu. */
function finalE820(log: string): string[] {
  const lines = log.split("\n");
  const start = lines.findIndex((line) => /^e820 map has \d+ items:$/.test(line));
  if (start < 0) return [];
  const end = lines.findIndex((line, i) => i > start && !/^ +\d+: /.test(line));
  return lines.slice(start, end < 0 ? undefined : end);
}

/** SeaBIOS's `kvmclock: stable tsc, N MHz` and `CPU Mhz=N (kvmclock)`: the frequency of the host's TSC. */
const HOST_TSC_MHZ = /^(kvmclock: stable tsc, |CPU Mhz=)(\d+)/gm;
const withoutHostTsc = (text: string): string => text.replace(HOST_TSC_MHZ, "$1<host TSC MHz>");

// Rule: on a real vCPU the board takes Debian's SeaBIOS 1.16.2 through QEMU's path to the boot
// menu (QEMU's i440fx found, RAM from fw_cfg's etc/e820, the PCI functions by QEMU's IDs,
// "No bootable device"), and the firmware's PAM and SMRAM writes make exactly QEMU 7.2's
// KVM_SET_USER_MEMORY_REGION calls and leave QEMU's memory view (fixtures: m<size>-novapic).
// With QEMU's ACPI tables and loader script in fw_cfg, SeaBIOS moves the PM base to 0x600 and
// SMBus to 0x700 (QEMU's I/O view after the firmware) and reserves the 128 KiB of tables it
// loaded high, so its final e820 map is QEMU's. With QEMU's SMBIOS files it copies QEMU's
// tables (not building its own) to the same place in the F segment as under QEMU; with QEMU's
// fw_cfg files its whole log, heap addresses included, is QEMU's.
describe.skipIf(why !== null).each(SIZES)("SeaBIOS on KVM, -m $name", ({ name, ramSize }) => {
  it("reaches No bootable device with QEMU's memslot calls and memory view", { timeout: 900_000 }, () => {
    const vm = NativeKvm.open();
    try {
      const calls: string[] = [];
      const board = createPcBoard({
        ramSize,
        bios: biosImage(),
        accel: { kvm: vm, ramAllocator: vm.ramAllocator },
        onMemslot: (r) =>
          calls.push(
            JSON.stringify({
              slot: r.slot,
              flags: r.flags,
              gpa: `0x${r.guestPhysAddr.toString(16)}`,
              size: `0x${r.memorySize.toString(16)}`,
            }),
          ),
      });
      const result = board.run({ until: "No bootable device", timeoutMs: 600_000 });
      console.log(
        `[pc] -m ${name}: ${result.stop} after ${result.seconds.toFixed(1)} s, ${result.exits} exits, ${calls.length} memslot calls`,
      );
      if (result.stop !== "until") console.log(result.detail, result.debugcon, result.registers);
      expect(result.stop).toBe("until");
      const log = result.debugcon;
      expect(log).toContain("SeaBIOS (version 1.16.2");
      expect(log).toContain("Running on QEMU (i440fx)");
      expect(log).toMatch(/qemu\/e820: addr 0x0000000000000000 len 0x[0-9a-f]{16} \[RAM\]/);
      expect(log).toContain("PCI: init bdf=00:00.0 id=8086:1237");
      expect(log).toContain("PCI: init bdf=00:01.3 id=8086:7113");
      const slots = qemuFixture(`m${name}-novapic`, "memslots.jsonl");
      if (slots !== null) expect(calls).toEqual(slots.trim().split("\n"));
      const after = qemuFixture(`m${name}-novapic`, "mtree-after-f.txt");
      if (after !== null) {
        const flat = printMtreeFlat(flatOrder(after, board.addressSpaces), {
          accelHasMemory: board.hasMemory,
          accelName: "KVM",
        });
        expect(flatView(flat, "memory")).toBe(flatView(after, "memory"));
        expect(flatView(flat, "I/O")).toBe(flatView(after, "I/O"));
      }
      const qemuLog = qemuFixture(`m${name}-novapic`, "debugcon.txt");
      if (qemuLog !== null) {
        expect(log).toContain("Moving pm_base to 0x600");
        const smbiosCopy = /^Copying SMBIOS from .*$/m.exec(qemuLog)?.[0];
        expect(smbiosCopy).toBeDefined();
        expect(log).toContain(smbiosCopy);
        // The whole log is QEMU's, line for line, up to the text the run stops at, except the TSC frequency
        // SeaBIOS measured through kvmclock: that is the host's clock (QEMU's capture and this run need not share
        // a host, and a nested guest calibrates differently from run to run), not something the board decides.
        // Both of its lines must be there, and must agree with each other.
        const mhz = [...log.matchAll(HOST_TSC_MHZ)].map((m) => Number(m[2]));
        expect(mhz).toHaveLength(2);
        expect(mhz[0]).toBeGreaterThan(0);
        expect(mhz[1]).toBe(mhz[0]);
        const qemuUntil = qemuLog.slice(0, qemuLog.indexOf("No bootable device") + "No bootable device".length);
        expect(withoutHostTsc(log)).toBe(withoutHostTsc(qemuUntil));
        expect(finalE820(qemuLog).length).toBeGreaterThan(0);
        expect(finalE820(log)).toEqual(finalE820(qemuLog));
      }
    } finally {
      vm.close();
    }
  });
});
