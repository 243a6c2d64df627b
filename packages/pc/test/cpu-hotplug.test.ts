import { describe, expect, it } from "vitest";
import { mockBoard } from "./fixtures.js";
import { inb, outb } from "./helpers.js";

const BASE = 0xaf00n;
const write32 = (board: ReturnType<typeof mockBoard>["board"], port: bigint, value: number) =>
  board.spaces.io.writeValue(port, 4, BigInt(value));
const read32 = (board: ReturnType<typeof mockBoard>["board"], port: bigint) =>
  Number(board.spaces.io.readValue(port, 4).value);
/** What the I/O view maps at `port`: the region's name and its size. */
const mapped = (board: ReturnType<typeof mockBoard>["board"], port: bigint) => {
  const range = board.spaces.io.currentMap.lookup(port);
  return range === null || range === undefined ? null : { name: range.mr.name, size: range.mr.size };
};

// Rule (QEMU 7.2 hw/acpi/cpu_hotplug.c, cpu.c): PIIX4's CPU hot-plug block starts as the legacy
// present-CPU bitmap; the DSDT's PRES._INI (Store(Zero, CSEL)) writes 0 at its start, which
// switches it, in one commit, to the 12-byte register interface CSTA/CSCN/COST use.
describe("ACPI CPU hot-plug registers", () => {
  it("at reset: the 32-byte legacy bitmap, the boot CPU (APIC ID 0) present", () => {
    const { board } = mockBoard({ ramSize: 128n << 20n });
    expect(mapped(board, BASE)).toEqual({ name: "acpi-cpu-hotplug", size: 0x20n });
    expect(inb(board, BASE)).toBe(1);
    expect(inb(board, BASE + 1n)).toBe(0);
    expect(board.devices.pm.cpuHotplug.modern).toBe(false);
    // Writes other than 0 at the start leave the legacy block in place.
    outb(board, BASE, 1);
    outb(board, BASE + 4n, 0);
    expect(board.devices.pm.cpuHotplug.modern).toBe(false);
    expect(mapped(board, BASE)).toEqual({ name: "acpi-cpu-hotplug", size: 0x20n });
  });

  it("PRES._INI's CSEL write switches to the 12-byte interface in one commit, and C000._STA reads CPEN", () => {
    const { board } = mockBoard({ ramSize: 128n << 20n });
    const commits: string[] = [];
    board.system.registerListener(
      { begin: () => commits.push("begin"), commit: () => commits.push("commit") },
      board.spaces.io,
    );
    commits.length = 0;
    write32(board, BASE, 0);
    expect(commits).toEqual(["begin", "commit"]);
    expect(board.devices.pm.cpuHotplug.modern).toBe(true);
    expect(mapped(board, BASE)).toEqual({ name: "acpi-cpu-hotplug", size: 0x0cn });
    expect(mapped(board, BASE + 0x0cn)).toEqual({ name: "io", size: 0x1_0000n });
    // CSTA(0): select CPU 0, read the flags byte: CPEN set, no insert or remove event.
    write32(board, BASE, 0);
    expect(inb(board, BASE + 4n)).toBe(1);
    // A selector past the CPUs reads 0 (CSTA then returns 0: not present).
    write32(board, BASE, 1);
    expect(inb(board, BASE + 4n)).toBe(0);
  });

  it("CSCN's scan finds no CPU with an event; the APIC ID command and COST's _OST report work", () => {
    const { board } = mockBoard({ ramSize: 128n << 20n });
    write32(board, BASE, 0);
    outb(board, BASE + 5n, 0);
    // Command 0: CDAT is the selected CPU; with no event it stays CPU 0, so CSCN stops.
    expect(read32(board, BASE + 8n)).toBe(0);
    outb(board, BASE + 5n, 3);
    expect(read32(board, BASE + 8n)).toBe(0);
    expect(read32(board, BASE)).toBe(0);
    // COST(0, event 0x103, status 0x80, ...): command 1 then the event, command 2 then the status.
    outb(board, BASE + 5n, 1);
    write32(board, BASE + 8n, 0x103);
    outb(board, BASE + 5n, 2);
    write32(board, BASE + 8n, 0x80);
    expect(board.devices.pm.cpuHotplug.ost(0)).toEqual({ event: 0x103, status: 0x80 });
    // An unknown command is ignored: CDAT still answers the last one's (status: nothing to read).
    outb(board, BASE + 5n, 7);
    expect(read32(board, BASE + 8n)).toBe(0);
    // Ejecting the boot CPU is refused; it stays present.
    outb(board, BASE + 4n, 8);
    expect(inb(board, BASE + 4n)).toBe(1);
  });
});
