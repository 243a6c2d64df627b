import { describe, expect, it } from "vitest";
import { device, eisaId, FIELD_ACCESS, field, int, nameString, packageOf, scope, string } from "../src/acpi/aml.js";
import { io, qwordMemory, resourceTemplate } from "../src/acpi/aml-resources.js";
import { PcError } from "../src/index.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

// Rule (ACPI 6.x 20.2): integers take their shortest encoding (ZeroOp, OneOp, Byte/Word/DWord/QWord
// prefixes), as QEMU's aml_int writes them.
describe("AML integers and names", () => {
  it("encodes integers in the shortest form", () => {
    expect(hex(int(0))).toBe("00");
    expect(hex(int(1))).toBe("01");
    expect(hex(int(2))).toBe("0a02");
    expect(hex(int(0x100))).toBe("0b0001");
    expect(hex(int(0x1_0000))).toBe("0c00000100");
    expect(hex(int(0x1_0000_0000n))).toBe("0e0000000001000000");
    expect(() => int(-1)).toThrow(PcError);
    expect(() => int(1n << 64n)).toThrow(PcError);
  });

  it("pads NameSegs, and uses root, dual and multi name prefixes", () => {
    expect(hex(nameString("KBD"))).toBe("4b42445f");
    expect(hex(nameString("\\"))).toBe("5c00");
    expect(hex(nameString("\\_SB.PCI0"))).toBe(`5c2e${hex(new TextEncoder().encode("_SB_PCI0"))}`);
    expect(hex(nameString("PCI0.S08.P40C")).slice(0, 4)).toBe("2f03");
    expect(() => nameString("toolong")).toThrow(PcError);
    expect(() => nameString("1ABC")).toThrow(PcError);
  });

  it("compresses EISA IDs big-endian inside the DWord (PNP0A03 is 0x030ad041)", () => {
    expect(hex(eisaId("PNP0A03"))).toBe("0c41d00a03");
    expect(() => eisaId("pnp0a03")).toThrow(PcError);
  });

  it("rejects strings with NUL or non-ASCII characters", () => {
    expect(hex(string("A"))).toBe("0d4100");
    expect(() => string("a\0b")).toThrow(PcError);
  });
});

// Rule (ACPI 6.x 20.2.4): PkgLength is one byte up to 63, then a lead byte with the byte count
// in bits 6-7 and the low nibble; the count is chosen before the PkgLength counts itself (QEMU's
// build_prepend_package_length), and field units carry a bit count that does not count itself.
describe("AML package lengths", () => {
  it("switches to two bytes when the body reaches 63 bytes", () => {
    const body = (n: number) => packageOf(Array.from({ length: n }, () => int(0)));
    // PackageOp, PkgLength, NumElements, elements.
    expect(body(61)[1]).toBe(63);
    const two = body(62);
    expect(two[1]! >> 6).toBe(1);
    expect((two[1]! & 0x0f) | (two[2]! << 4)).toBe(two.length - 1);
  });

  it("encodes a field unit's width as its bit count", () => {
    const f = field("REG", FIELD_ACCESS.byte, [
      { name: "A", bits: 8 },
      { name: "B", bits: 64 },
    ]);
    // A___ 8 bits (one byte); B___ 64 bits: 64 + 1 is not below 64, so two bytes 0x40 0x04.
    expect(hex(f).endsWith("415f5f5f08425f5f5f4004")).toBe(true);
  });

  it("nests scopes and devices with their own lengths", () => {
    const d = device("DEV", [int(0)]);
    expect(hex(scope("\\", [d]))).toBe(`10${(1 + 2 + d.length).toString(16).padStart(2, "0")}5c00${hex(d)}`);
  });
});

// Rule (ACPI 6.x 6.4): a resource template ends with the end tag (0x79, zero checksum); address
// space descriptors give granularity, min, max, translation and length in their width.
describe("AML resource templates", () => {
  it("ends with the end tag and validates ranges", () => {
    expect(hex(resourceTemplate([io(0x510, 0x510, 1, 12)]))).toBe("110d0a0a470110051005010c7900");
    expect(() => io(0x10000, 0, 1, 1)).toThrow(PcError);
    expect(() => qwordMemory(2n, 1n, 0)).toThrow(PcError);
  });
});
