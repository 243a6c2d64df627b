import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script without types
import { assembleDemoGuest } from "../src/demo/guest/assemble.mjs";
import { DEMO_GUEST, DEMO_GUEST_ENTRY, DEMO_GUEST_MESSAGE } from "../src/demo/guest/index.js";
import { runSimulatedCpu, type SimulatedBus, UnsupportedInstructionError } from "../src/demo/guest/interpreter.js";

const hasBinutils = spawnSync("as", ["--version"]).status === 0 && spawnSync("objcopy", ["--version"]).status === 0;
if (!hasBinutils) console.warn("[cli] demo guest re-assembly check skipped: binutils (as, objcopy) not installed");

/** A flat 1 MiB memory and a log of everything that is not a plain RAM access. */
function fakeMachine() {
  const ram = new Uint8Array(0x10_0000);
  ram.set(DEMO_GUEST, DEMO_GUEST_ENTRY);
  const log: string[] = [];
  const mmio = new Map<bigint, bigint>([[0xfe00_0000n, 0x4f50544dn]]);
  const bus: SimulatedBus = {
    read(addr, size) {
      if (addr >= 0xfe00_0000n) {
        log.push(`mmio read ${addr.toString(16)}/${size}`);
        return mmio.get(addr) ?? 0n;
      }
      let v = 0n;
      for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(ram[Number(addr) + i]!);
      return v;
    },
    write(addr, size, value) {
      if (addr >= 0xfe00_0000n) {
        log.push(`mmio write ${addr.toString(16)}/${size}=${value.toString(16)}`);
        mmio.set(addr, value);
        return;
      }
      for (let i = 0; i < size; i++) ram[Number(addr) + i] = Number((value >> BigInt(8 * i)) & 0xffn);
    },
    in(port) {
      return port === 0x3fd ? 0x20n : 0xffn;
    },
    out(port, _size, value) {
      log.push(port === 0x3f8 ? `uart ${String.fromCharCode(Number(value))}` : `out ${port.toString(16)}=${value}`);
    },
  };
  return { ram, log, bus };
}

describe("the demo guest", () => {
  it.skipIf(!hasBinutils)("the committed bytes are demo-guest.S assembled (as --32, objcopy)", () => {
    expect(Buffer.from(assembleDemoGuest()).toString("hex")).toBe(Buffer.from(DEMO_GUEST).toString("hex"));
  });

  it("ends with the message it copies and sends, NUL-terminated", () => {
    const tail = new TextDecoder().decode(DEMO_GUEST.subarray(DEMO_GUEST.length - DEMO_GUEST_MESSAGE.length - 1));
    expect(tail).toBe(`${DEMO_GUEST_MESSAGE}\0`);
  });

  it("run by the interpreter: RAM copy, UART, MMIO through FS, ROM probe, doorbells, POST codes, hlt", () => {
    const { ram, log, bus } = fakeMachine();
    const stop = runSimulatedCpu(bus, { ip: DEMO_GUEST_ENTRY, fsBase: 0xfe00_0000n });
    expect(stop.reason).toBe("hlt");
    expect(new TextDecoder().decode(ram.subarray(0x5000, 0x5000 + DEMO_GUEST_MESSAGE.length))).toBe(DEMO_GUEST_MESSAGE);
    const uart = log.filter((l) => l.startsWith("uart ")).map((l) => l.slice(5));
    expect(uart.join("")).toBe(DEMO_GUEST_MESSAGE);
    expect(log.filter((l) => !l.startsWith("uart "))).toEqual([
      "out 80=1",
      "out 80=2",
      "mmio read fe000000/4",
      "mmio write fe000004/4=1234abcd",
      "mmio read fe000004/4",
      "out 80=3",
      "out 80=4",
      "mmio write fe000010/4=1",
      "mmio write fe000010/4=2",
      "mmio write fe000010/4=3",
      "out 80=5",
    ]);
    const view = new DataView(ram.buffer);
    expect(view.getUint32(0x600, true)).toBe(0x4f50544d);
    expect(view.getUint32(0x604, true)).toBe(0x1234abcd);
    // The fake machine has plain RAM at 0xe0000, so the guest's probe write sticks there.
    expect([ram[0x608], ram[0x609]]).toEqual([0, 0x55]);
  });

  it("the interpreter refuses an instruction the guest does not use", () => {
    const { ram, bus } = fakeMachine();
    ram[DEMO_GUEST_ENTRY] = 0x0f; // a two-byte opcode prefix
    expect(() => runSimulatedCpu(bus, { ip: DEMO_GUEST_ENTRY, fsBase: 0n })).toThrow(UnsupportedInstructionError);
  });
});
