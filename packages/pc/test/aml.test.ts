import { describe, expect, it } from "vitest";
import {
  device,
  eisaId,
  FIELD_ACCESS,
  field,
  int,
  method,
  nameString,
  packageOf,
  scope,
  string,
} from "../src/acpi/aml.js";
import { and, arg, processor } from "../src/acpi/aml-ops.js";
import { interruptShared, io, qwordMemory, resourceTemplate } from "../src/acpi/aml-resources.js";
import { buildDsdtAml } from "../src/acpi/dsdt.js";
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

// Rule (ACPI 6.x 20.2.5): the operators QEMU's DSDT methods use, as aml-build.c encodes them.
describe("AML operators and DSDT limits", () => {
  it("encodes serialized methods, sized packages, reserved field units and processors", () => {
    expect(hex(method("CSCN", 0, [], true))).toBe(`1406${hex(nameString("CSCN"))}08`);
    expect(hex(packageOf([], 0x80))).toBe("120280");
    expect(hex(field("PRST", 0x41, [{ name: null, bits: 32 }]))).toBe(`5b8108${hex(nameString("PRST"))}410020`);
    expect(hex(processor("C000", 1, []))).toBe(`5b830b${hex(nameString("C000"))}010000000000`);
    expect(hex(and(arg(0), int(4)))).toBe("7b680a0400");
    expect(hex(interruptShared([5, 10]))).toBe("890a000902050000000a000000");
  });

  it("refuses out-of-range operands with E_PC_AML", () => {
    for (const bad of [
      () => packageOf([int(1), int(2)], 1),
      () => packageOf([], 256),
      () => processor("C000", 256, []),
      () => arg(7),
      () => interruptShared([]),
    ]) {
      expect(bad).toThrow(expect.objectContaining({ code: "E_PC_AML" }));
    }
  });

  it("describes 1..255 CPUs in the DSDT, each a Processor with its own _MAT", () => {
    const config = { pciHoleStart: 0x800_0000n, pciHole64: { start: 1n << 32n, end: (1n << 33n) - 1n }, hpet: true };
    const two = Buffer.from(buildDsdtAml({ ...config, cpus: 2 }));
    expect(two.indexOf(processor("C001", 1, []).subarray(5, 11))).toBeGreaterThan(0);
    expect(two.indexOf(Uint8Array.of(0x11, 0x0b, 0x0a, 0x08, 0, 8, 1, 1, 1, 0, 0, 0))).toBeGreaterThan(0);
    expect(() => buildDsdtAml({ ...config, cpus: 0 })).toThrow(expect.objectContaining({ code: "E_PC_AML" }));
    expect(() => buildDsdtAml({ ...config, cpus: 256 })).toThrow(expect.objectContaining({ code: "E_PC_AML" }));
  });
});
