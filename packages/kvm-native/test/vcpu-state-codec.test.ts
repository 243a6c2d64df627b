import { KvmError } from "@memtopo/kvm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isBinding, loadBinding, type NativeLayout } from "../src/binding.js";
import { decodeCpuid, encodeCpuid } from "../src/vcpu-state/cpuid.js";
import { decodeDebugRegs, encodeDebugRegs, encodeGuestDebug } from "../src/vcpu-state/debug.js";
import { decodeVcpuEvents, encodeVcpuEvents } from "../src/vcpu-state/events.js";
import { decodeFpu, encodeFpu } from "../src/vcpu-state/fpu.js";
import { decodeLapic, encodeLapic } from "../src/vcpu-state/lapic.js";
import { decodeMpState, encodeMpState } from "../src/vcpu-state/mp-state.js";
import { decodeMsrIndexList, decodeMsrs, encodeMsrIndices, encodeMsrs } from "../src/vcpu-state/msrs.js";
import { decodeTranslation } from "../src/vcpu-state/translation.js";
import { decodeXcrs, encodeXcrs } from "../src/vcpu-state/xcrs.js";
import { decodeXsave, encodeXsave } from "../src/vcpu-state/xsave.js";
import * as arb from "./vcpu-state-arbitraries.js";

// The vCPU state codecs without KVM: offsets come from the addon's offsetof, so these run
// wherever the addon loads. Round trips over each field's whole range, the byte positions
// the kernel ABI fixes, and rejection (KvmError EINVAL/E2BIG, nothing encoded) of bad fields.
const loaded = loadBinding();

function le(bytes: Uint8Array, at: number, size: 4 | 8): bigint {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return size === 4 ? BigInt(v.getUint32(at, true)) : v.getBigUint64(at, true);
}

describe.skipIf(!isBinding(loaded))("vCPU state codecs (layout from the addon)", () => {
  const layout = (loaded as { layout: NativeLayout }).layout.vcpuState;

  it("the layout is the x86-64 ABI of <asm/kvm.h> (sizes the kernel copies)", () => {
    expect(layout.cpuidEntry.size).toBe(40);
    expect(layout.msrEntry.size).toBe(16);
    expect(layout.fpu.size).toBe(416);
    expect(layout.xsave.size).toBe(4096);
    expect(layout.xcrs.size).toBe(392);
    expect(layout.lapic.size).toBe(1024);
    expect(layout.vcpuEvents.size).toBe(64);
    expect(layout.debugRegs.size).toBe(128);
    expect(layout.guestDebug.size).toBe(72);
    expect(layout.translation.size).toBe(24);
    expect(layout.vcpuEvents.exceptionPayload).toBe(56);
  });

  it("CPUID entries round-trip, eax at byte 12 of each 40-byte kvm_cpuid_entry2", () => {
    fc.assert(
      fc.property(fc.array(arb.cpuidEntry, { maxLength: 20 }), (entries) => {
        const bytes = encodeCpuid(layout, "KVM_SET_CPUID2", entries);
        expect(bytes.length).toBe(40 * entries.length);
        for (const [i, e] of entries.entries()) expect(le(bytes, 40 * i + 12, 4)).toBe(BigInt(e.eax));
        expect(decodeCpuid(layout, "KVM_GET_CPUID2", bytes)).toEqual(entries);
      }),
    );
  });

  it("MSR entries round-trip; KVM_GET_MSRS is given the indices with data 0", () => {
    fc.assert(
      fc.property(fc.array(arb.msrEntry, { maxLength: 20 }), (entries) => {
        expect(decodeMsrs(layout, "KVM_GET_MSRS", encodeMsrs(layout, "KVM_SET_MSRS", entries))).toEqual(entries);
        const indices = entries.map((e) => e.index);
        const asked = decodeMsrs(layout, "KVM_GET_MSRS", encodeMsrIndices(layout, "KVM_GET_MSRS", indices));
        expect(asked).toEqual(indices.map((index) => ({ index, data: 0n })));
      }),
    );
    expect(decodeMsrIndexList("KVM_GET_MSR_INDEX_LIST", new Uint8Array([0x74, 0, 0, 0xc0, 0x10, 0, 0, 0]))).toEqual([
      0xc0000074, 0x10,
    ]);
  });

  it("kvm_fpu round-trips 128-bit ST/XMM slots; mxcsr at byte 408", () => {
    fc.assert(
      fc.property(arb.fpu, (fpu) => {
        const bytes = encodeFpu(layout, fpu);
        expect(le(bytes, 408, 4)).toBe(BigInt(fpu.mxcsr));
        expect(le(bytes, 152, 8) | (le(bytes, 160, 8) << 64n)).toBe(fpu.xmm[0]);
        expect(decodeFpu(layout, bytes)).toEqual(fpu);
      }),
    );
  });

  it("kvm_xsave round-trips: legacy region, XSAVE header at 512, extended components from 576", () => {
    fc.assert(
      fc.property(arb.xsave, (xsave) => {
        const bytes = encodeXsave(layout, xsave);
        expect(le(bytes, 24, 4)).toBe(BigInt(xsave.mxcsr));
        expect(le(bytes, 512, 8)).toBe(xsave.xstateBv);
        expect(bytes.subarray(576)).toEqual(xsave.extended);
        expect(decodeXsave(layout, bytes)).toEqual(xsave);
      }),
      { numRuns: 50 },
    );
  });

  it("kvm_xcrs round-trips up to KVM_MAX_XCRS; nr_xcrs is the array's length", () => {
    fc.assert(
      fc.property(arb.xcrs, (xcrs) => {
        const bytes = encodeXcrs(layout, xcrs);
        expect(le(bytes, 0, 4)).toBe(BigInt(xcrs.xcrs.length));
        expect(decodeXcrs(layout, bytes)).toEqual(xcrs);
      }),
    );
    const tooMany = { flags: 0, xcrs: Array.from({ length: 17 }, () => ({ xcr: 0, value: 1n })) };
    expect(() => encodeXcrs(layout, tooMany)).toThrow(expect.objectContaining({ code: "E2BIG" }));
  });

  it("kvm_lapic_state: each register at its APIC page offset (ID 0x20, TPR 0x80, LVT LINT0 0x350, CMCI 0x2f0)", () => {
    fc.assert(
      fc.property(arb.lapic, (lapic) => {
        const bytes = encodeLapic(layout, lapic);
        expect(le(bytes, 0x20, 4)).toBe(BigInt(lapic.id));
        expect(le(bytes, 0x80, 4)).toBe(BigInt(lapic.tpr));
        expect(le(bytes, 0x350, 4)).toBe(BigInt(lapic.lvt.lint0));
        expect(le(bytes, 0x2f0, 4)).toBe(BigInt(lapic.lvt.cmci));
        expect(le(bytes, 0x200 + 7 * 16, 4)).toBe(BigInt(lapic.irr[7] as number));
        expect(le(bytes, 0x310, 4)).toBe(BigInt(lapic.icr[1]));
        expect(decodeLapic(layout, bytes)).toEqual(lapic);
      }),
    );
  });

  it("kvm_vcpu_events round-trips: exception vector at byte 1, error code at 4, payload at 56", () => {
    fc.assert(
      fc.property(arb.vcpuEvents, (events) => {
        const bytes = encodeVcpuEvents(layout, events);
        expect(bytes[1]).toBe(events.exception.nr);
        expect(le(bytes, 4, 4)).toBe(BigInt(events.exception.errorCode));
        expect(le(bytes, 56, 8)).toBe(events.exception.payload);
        expect(decodeVcpuEvents(layout, bytes)).toEqual(events);
      }),
    );
  });

  it("kvm_debugregs round-trip; kvm_guest_debug puts DR0..7 after control", () => {
    fc.assert(
      fc.property(arb.debugRegs, arb.guestDebug, (regs, debug) => {
        expect(decodeDebugRegs(layout, encodeDebugRegs(layout, regs))).toEqual(regs);
        const bytes = encodeGuestDebug(layout, debug);
        expect(le(bytes, 0, 4)).toBe(BigInt(debug.control));
        expect(le(bytes, 8 + 7 * 8, 8)).toBe(debug.debugreg[7]);
      }),
    );
  });

  it("MP states map to the kernel's KVM_MP_STATE numbers both ways", () => {
    expect(encodeMpState("runnable")).toBe(0);
    expect(encodeMpState("halted")).toBe(3);
    expect(encodeMpState("suspended")).toBe(10);
    fc.assert(
      fc.property(arb.mpState, (s) => {
        expect(decodeMpState(encodeMpState(s))).toBe(s);
      }),
    );
    expect(() => decodeMpState(11)).toThrow(expect.objectContaining({ code: "EPROTO" }));
    expect(() => encodeMpState("sleeping" as never)).toThrow(KvmError);
  });

  it("kvm_translation decodes flags as booleans", () => {
    const bytes = new Uint8Array(24);
    const v = new DataView(bytes.buffer);
    v.setBigUint64(0, 0xb8000n, true);
    v.setBigUint64(8, 0x1b8000n, true);
    bytes[16] = 1;
    bytes[18] = 1;
    expect(decodeTranslation(layout, bytes)).toEqual({
      linearAddress: 0xb8000n,
      physicalAddress: 0x1b8000n,
      valid: true,
      writeable: false,
      usermode: true,
    });
  });

  it("a bad field is a KvmError naming its path, thrown before anything is encoded", () => {
    const fpu = fc.sample(arb.fpu, { numRuns: 1, seed: 1 })[0]!;
    expect(() => encodeFpu(layout, { ...fpu, xmm: fpu.xmm.slice(1) })).toThrow(/fpu\.xmm must be an array of 16/);
    expect(() => encodeFpu(layout, { ...fpu, fpr: [...fpu.fpr.slice(1), 1n << 128n] })).toThrow(/fpu\.fpr\[7\]/);
    expect(() =>
      encodeCpuid(layout, "KVM_SET_CPUID2", [{ function: 0, index: 0, flags: 0, eax: -1 } as never]),
    ).toThrow(/entries\[0\]\.eax must be an integer in \[0, 2\^32\)/);
    expect(() => encodeMsrs(layout, "KVM_SET_MSRS", [{ index: 0x174, data: 5 as never }])).toThrow(
      /entries\[0\]\.data must be a bigint/,
    );
    const events = fc.sample(arb.vcpuEvents, { numRuns: 1, seed: 2 })[0]!;
    expect(() => encodeVcpuEvents(layout, { ...events, nmi: null as never })).toThrow(/events\.nmi must be an object/);
    expect(() => encodeVcpuEvents(layout, { ...events, exception: { ...events.exception, nr: 256 } })).toThrow(
      /events\.exception\.nr must be an integer in \[0, 2\^8\)/,
    );
    const xsave = fc.sample(arb.xsave, { numRuns: 1, seed: 3 })[0]!;
    expect(() => encodeXsave(layout, { ...xsave, extended: new Uint8Array(10) })).toThrow(/xsave\.extended/);
    const lapic = fc.sample(arb.lapic, { numRuns: 1, seed: 4 })[0]!;
    expect(() => encodeLapic(layout, { ...lapic, lvt: { ...lapic.lvt, timer: 2 ** 32 } })).toThrow(/lapic\.lvt\.timer/);
    const big = Array.from({ length: layout.limits.msrEntries + 1 }, () => 0x10);
    expect(() => encodeMsrIndices(layout, "KVM_GET_MSRS", big)).toThrow(expect.objectContaining({ code: "E2BIG" }));
  });

  it("the addon's answers of the wrong length are EPROTO, not misread", () => {
    expect(() => decodeFpu(layout, new Uint8Array(415))).toThrow(expect.objectContaining({ code: "EPROTO" }));
    expect(() => decodeCpuid(layout, "KVM_GET_CPUID2", new Uint8Array(41))).toThrow(
      expect.objectContaining({ code: "EPROTO" }),
    );
    const xcrs = new Uint8Array(392);
    xcrs[0] = 17;
    expect(() => decodeXcrs(layout, xcrs)).toThrow(expect.objectContaining({ code: "EPROTO" }));
  });
});
