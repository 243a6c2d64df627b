import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type GuestBus, runVcpu } from "@memtopo/kvm";
import { MockKvm } from "@memtopo/kvm-mock";
import { MEMTX_OK } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script without types
import { assembleGuest } from "../../../scripts/assemble-guest.mjs";
import { DEMO_GUEST, DEMO_GUEST_ENTRY, DEMO_GUEST_MESSAGE } from "../src/demo/guest/index.js";

const hasBinutils = spawnSync("as", ["--version"]).status === 0 && spawnSync("objcopy", ["--version"]).status === 0;
if (!hasBinutils) console.warn("[cli] demo guest re-assembly check skipped: binutils (as, objcopy) not installed");

/**
 * The demo guest on a mock vCPU: 1 MiB of RAM in a memslot, the device at 0xfe00_0000 an
 * MMIO exit, and a log of every access that is not a plain RAM access.
 */
function fakeMachine() {
  const kvm = new MockKvm();
  const block = kvm.ramAllocator().allocate("ram", 0x10_0000n);
  const ram = block.bytes();
  ram.set(DEMO_GUEST, DEMO_GUEST_ENTRY);
  kvm.setUserMemoryRegion({
    slot: 0,
    flags: 0,
    guestPhysAddr: 0n,
    memorySize: 0x10_0000n,
    userspaceAddr: block.hostAddr,
  });
  const log: string[] = [];
  const mmio = new Map<bigint, bigint>([[0xfe00_0000n, 0x4f50544dn]]);
  const value = (data: Uint8Array): bigint => data.reduceRight((v, b) => (v << 8n) | BigInt(b), 0n);
  const fill = (data: Uint8Array, v: bigint): void => {
    for (let i = 0; i < data.length; i++) data[i] = Number((v >> BigInt(8 * i)) & 0xffn);
  };
  const memory: GuestBus = {
    read(addr, data) {
      log.push(`mmio read ${addr.toString(16)}/${data.length}`);
      fill(data, mmio.get(addr) ?? 0n);
      return MEMTX_OK;
    },
    write(addr, data) {
      log.push(`mmio write ${addr.toString(16)}/${data.length}=${value(data).toString(16)}`);
      mmio.set(addr, value(data));
      return MEMTX_OK;
    },
  };
  const io: GuestBus = {
    read(port, data) {
      fill(data, port === 0x3fdn ? 0x20n : 0xffn);
      return MEMTX_OK;
    },
    write(port, data) {
      const v = value(data);
      log.push(port === 0x3f8n ? `uart ${String.fromCharCode(Number(v))}` : `out ${port.toString(16)}=${v}`);
      return MEMTX_OK;
    },
  };
  const run = (fsBase: bigint) => {
    const vcpu = kvm.createVcpu(0);
    const sregs = vcpu.getSregs();
    for (const name of ["cs", "ds", "es", "fs", "gs", "ss"] as const) {
      sregs[name] = { ...sregs[name], selector: 0, base: name === "fs" ? fsBase : 0n };
    }
    vcpu.setSregs(sregs);
    vcpu.setRegs({ ...vcpu.getRegs(), rip: BigInt(DEMO_GUEST_ENTRY), rsp: 0x8000n, rflags: 2n });
    return runVcpu(vcpu, { memory, io });
  };
  return { ram, log, run };
}

describe("the demo guest", () => {
  it.skipIf(!hasBinutils)("the committed bytes are demo-guest.S assembled (as --32, objcopy)", () => {
    const source = fileURLToPath(new URL("../src/demo/guest/demo-guest.S", import.meta.url));
    expect(Buffer.from(assembleGuest(source)).toString("hex")).toBe(Buffer.from(DEMO_GUEST).toString("hex"));
  });

  it("ends with the message it copies and sends, NUL-terminated", () => {
    const tail = new TextDecoder().decode(DEMO_GUEST.subarray(DEMO_GUEST.length - DEMO_GUEST_MESSAGE.length - 1));
    expect(tail).toBe(`${DEMO_GUEST_MESSAGE}\0`);
  });

  it("run by the mock vCPU: RAM copy, UART, MMIO through FS, ROM probe, doorbells, POST codes, hlt", () => {
    const { ram, log, run } = fakeMachine();
    const stop = run(0xfe00_0000n);
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

  it("an instruction the mock vCPU does not emulate ends the run with KVM's emulation-failure internal error", () => {
    const { ram, run } = fakeMachine();
    ram[DEMO_GUEST_ENTRY] = 0x0f; // 0f 01: group 7 (LGDT and friends), not emulated
    const stop = run(0n);
    expect(stop.reason).toBe("internal-error");
    expect(stop.exit).toMatchObject({ reason: "internal-error", suberror: 1 });
  });
});
