import { readFileSync } from "node:fs";
import { caseFile } from "@memtopo/fixtures";
import { MEMTX_DECODE_ERROR, MEMTX_OK } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { loadMachine } from "../../src/index.js";

const fixture = (name: string) => JSON.parse(readFileSync(caseFile(name, "machine.json"), "utf8"));

describe("a loaded machine's I/O root is QEMU's get_system_io()", () => {
  it("unclaimed ports of the pc's I/O space read all ones with MEMTX_OK and writes are dropped (unassigned_io_ops)", () => {
    const { addressSpaces } = loadMachine(fixture("kvm-x86-pc-held"));
    const pio = addressSpaces.find((as) => as.name === "I/O")!;
    const out = new Uint8Array(2);
    expect(pio.read(0x300n, out)).toBe(MEMTX_OK);
    expect([...out]).toEqual([0xff, 0xff]);
    expect(pio.write(0x300n, Uint8Array.of(1))).toBe(MEMTX_OK);
  });

  it("a port claimed by a device the file cannot describe is unassigned (no ops), and memory gaps stay unassigned_mem_ops", () => {
    const { addressSpaces } = loadMachine(fixture("kvm-x86-pc-held"));
    const pio = addressSpaces.find((as) => as.name === "I/O")!;
    expect(pio.read(0x80n, new Uint8Array(1))).toBe(MEMTX_DECODE_ERROR);
    const memory = addressSpaces.find((as) => as.name === "memory")!;
    const out = Uint8Array.of(7, 7);
    expect(memory.read(0xfee00000n - 0x10000n, out)).toBe(MEMTX_DECODE_ERROR);
    expect([...out]).toEqual([0, 0]);
  });

  it("only the root of the space named I/O: an io root of another space keeps no ops", () => {
    const { addressSpaces } = loadMachine({
      format: "memtopo-machine/1",
      name: "two",
      addressSpaces: [
        { name: "I/O", root: "io" },
        { name: "other", root: "bus" },
      ],
      regions: [
        { id: "io", name: "io", kind: "io", size: "0x10000" },
        { id: "bus", name: "bus", kind: "io", size: "0x10000" },
      ],
    });
    const [pio, other] = addressSpaces;
    expect(pio!.read(0x10n, new Uint8Array(1))).toBe(MEMTX_OK);
    expect(other!.read(0x10n, new Uint8Array(1))).toBe(MEMTX_DECODE_ERROR);
  });
});
