import { readFileSync } from "node:fs";
import { pcCaptureFile } from "@memtopo/fixtures";
import type { CpuidEntry } from "@memtopo/kvm";
import { describe, expect, it } from "vitest";
import { qemu64Cpuid } from "../src/cpuid-qemu64.js";

/** What QEMU 7.2's guest read from CPUID with -cpu qemu64 under TCG (scripts/dump-cpuid.sh tcg). */
const qemuTcg = readFileSync(pcCaptureFile("cpuid/qemu64-tcg.txt"), "utf8")
  .trim()
  .split("\n")
  .map(
    (line) => line.split(" ").map((w) => Number.parseInt(w, 16)) as [number, number, number, number, number, number],
  );

const KVM_SIGNATURE = { ebx: 0x4b4d564b, ecx: 0x564b4d56, edx: 0x4d };
/** A KVM that supports every feature bit, with its paravirtual signature leaf. */
const everything: CpuidEntry[] = [
  ...[0, 1, 7, 0xd, 0x4000_0001, 0x8000_0001].map((fn) => ({
    function: fn,
    index: 0,
    flags: 0,
    eax: 0xffff_ffff,
    ebx: 0xffff_ffff,
    ecx: 0xffff_ffff,
    edx: 0xffff_ffff,
  })),
  { function: 0x4000_0000, index: 0, flags: 0, eax: 0x4000_0001, ...KVM_SIGNATURE },
];

const lookup = (table: CpuidEntry[], fn: number, index: number) =>
  table.find((e) => e.function === fn && (e.index === index || (e.flags & 1) === 0));

// Rule: -cpu qemu64 is QEMU's x86 model "qemu64" (AMD, family 15 model 107 stepping 1, level 0xd,
// xlevel 0x8000000a, "QEMU Virtual CPU version 2.5+"). Under KVM QEMU adds kvm_default_props:
// x2APIC on, SVM off, and KVM's paravirtual leaves instead of TCG's; every other leaf a guest reads
// is the same as under TCG, which the fixture captured from QEMU 7.2 itself.
describe("qemu64's CPUID", () => {
  const table = qemu64Cpuid(everything);

  it("equals what QEMU 7.2's guest reads, leaf by leaf, but for KVM's defaults", () => {
    for (const [fn, index, eax, ebx, ecx, edx] of qemuTcg) {
      if (fn === 0x4000_0000 || fn === 0x4000_0001 || fn === 0x4000_0010) continue; // TCG's leaves, not KVM's
      // A leaf the table lacks reads as zeros (KVM, for a leaf in range without an entry).
      const ours = lookup(table, fn, index) ?? { eax: 0, ebx: 0, ecx: 0, edx: 0 };
      const want = { eax, ebx, ecx, edx };
      if (fn === 1) want.ecx = (ecx | (1 << 21)) >>> 0; // x2apic=on under KVM
      if (fn === 0x8000_0001) want.ecx = ecx & ~(1 << 2); // svm=off under KVM
      if (fn === 0x8000_000a) Object.assign(want, { eax: 0, ebx: 0, ecx: 0, edx: 0 }); // no SVM leaf without SVM
      const { eax: a, ebx: b, ecx: c, edx: d } = ours;
      expect({ eax: a, ebx: b, ecx: c, edx: d }, `leaf ${fn.toString(16)}.${index}`).toEqual(want);
    }
  });

  it("has KVM's signature and QEMU's default paravirtual features", () => {
    expect(lookup(table, 0x4000_0000, 0)).toMatchObject({ eax: 0x4000_0001, ...KVM_SIGNATURE });
    // kvmclock (both MSR sets), nopiodelay, asyncpf, steal time, PV EOI, stable bit.
    expect(lookup(table, 0x4000_0001, 0)!.eax).toBe(0x0100_007b);
  });

  it("masks feature words by what KVM supports, and leaves out KVM's leaves where KVM has none", () => {
    const little = everything
      .filter((e) => e.function !== 0x4000_0000)
      .map((e) => (e.function === 1 ? { ...e, ecx: 1, edx: 1 } : e));
    const masked = qemu64Cpuid(little);
    // The hypervisor bit stays: QEMU sets it under KVM whatever KVM reports.
    expect(lookup(masked, 1, 0)).toMatchObject({ ecx: (1 | (1 << 31)) >>> 0, edx: 1 });
    expect(masked.some((e) => e.function === 0x4000_0000)).toBe(false);
    // Mirrored into 0x80000001 only what leaf 1 kept.
    expect(lookup(masked, 0x8000_0001, 0)!.edx).toBe(1 | (1 << 11) | (1 << 20) | (1 << 29));
  });

  it("puts the APIC ID in leaf 1 and the topology leaf", () => {
    const other = qemu64Cpuid(everything, 3);
    expect(lookup(other, 1, 0)!.ebx >>> 24).toBe(3);
    expect(lookup(other, 0xb, 1)!.edx).toBe(3);
  });
});
