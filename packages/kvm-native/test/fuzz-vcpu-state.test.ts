import { KvmError } from "@memtopo/kvm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isBinding, loadBinding, type NativeBinding, type NativeVcpu } from "../src/binding.js";
import { NativeKvm } from "../src/index.js";
import { encodeCpuid } from "../src/vcpu-state/cpuid.js";
import { encodeDebugRegs, encodeGuestDebug } from "../src/vcpu-state/debug.js";
import { encodeVcpuEvents } from "../src/vcpu-state/events.js";
import { encodeFpu } from "../src/vcpu-state/fpu.js";
import { encodeLapic } from "../src/vcpu-state/lapic.js";
import { encodeMpState } from "../src/vcpu-state/mp-state.js";
import { encodeMsrIndices, encodeMsrs } from "../src/vcpu-state/msrs.js";
import { encodeXcrs } from "../src/vcpu-state/xcrs.js";
import { encodeXsave } from "../src/vcpu-state/xsave.js";
import { kvm } from "./helpers.js";
import * as arb from "./vcpu-state-arbitraries.js";

// Hostile arguments at every vCPU state entry: wrong types, huge and ragged entry counts,
// short and long struct buffers, foreign receivers, a closed vCPU. Each call succeeds or
// throws an error with an errno `code` (KvmError at the TypeScript level); none crashes.
const loaded = loadBinding();

const STATE_METHODS = [
  "getCpuid2",
  "setCpuid2",
  "getMsrs",
  "setMsrs",
  "getFpu",
  "setFpu",
  "getXsave",
  "setXsave",
  "getXcrs",
  "setXcrs",
  "getLapic",
  "setLapic",
  "getVcpuEvents",
  "setVcpuEvents",
  "getMpState",
  "setMpState",
  "getDebugRegs",
  "setDebugRegs",
  "setGuestDebug",
  "translate",
] as const;
const SYSTEM_FUNCTIONS = [
  "getSupportedCpuid",
  "getEmulatedCpuid",
  "getMsrIndexList",
  "getMsrFeatureIndexList",
] as const;

function detached(): Uint8Array {
  const bytes = new Uint8Array(64);
  structuredClone(bytes.buffer, { transfer: [bytes.buffer] });
  return bytes;
}

/** Buffers around every struct size the entries take, and entry counts past the addon's limits. */
const buffers = [
  0,
  1,
  7,
  8,
  15,
  16,
  39,
  40,
  41,
  72,
  128,
  391,
  392,
  393,
  415,
  416,
  417,
  1023,
  1024,
  1025,
  4095,
  4096,
  4097,
  40 * 4096,
  40 * 4097,
  16 * 4096,
  16 * 4097,
].map((n) => new Uint8Array(n));

const hostile: unknown[] = [
  undefined,
  null,
  true,
  Number.NaN,
  -1,
  1.5,
  2 ** 32,
  2 ** 53,
  -1n,
  2n ** 64n,
  "",
  "/dev/null",
  "/dev/zero",
  "/dev/kvm",
  "x".repeat(5000),
  "a\0b",
  Symbol("s"),
  {},
  [],
  () => 0,
  new Uint16Array(8),
  new DataView(new ArrayBuffer(8)),
  new ArrayBuffer(40),
  0,
  3,
  0n,
  0xfffff000n,
  ...buffers,
];
const arg = fc.oneof(fc.constantFrom(...hostile), fc.anything(), fc.integer(), fc.bigInt());
const args = fc.array(arg, { maxLength: 3 });

function expectTypedError(error: unknown): void {
  expect(error).toBeInstanceOf(Error);
  const e = error as { code?: unknown; errno?: unknown; message: string };
  if (error instanceof TypeError && e.code === undefined) {
    expect(e.message).toMatch(/Illegal invocation/);
    return;
  }
  expect(typeof e.code).toBe("string");
  expect(typeof e.errno).toBe("number");
}

function attempt(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (error) {
    expectTypedError(error);
    return undefined;
  }
}

/** Every TypeScript encoder with one hostile value: encodes or throws a KvmError. */
function encoders(binding: NativeBinding, value: unknown): void {
  const layout = binding.layout.vcpuState;
  const calls: (() => unknown)[] = [
    () => encodeCpuid(layout, "KVM_SET_CPUID2", value as never),
    () => encodeCpuid(layout, "KVM_SET_CPUID2", [value] as never),
    () => encodeMsrs(layout, "KVM_SET_MSRS", value as never),
    () => encodeMsrs(layout, "KVM_SET_MSRS", [value] as never),
    () => encodeMsrIndices(layout, "KVM_GET_MSRS", value as never),
    () => encodeMsrIndices(layout, "KVM_GET_MSRS", [value] as never),
    () => encodeFpu(layout, value as never),
    () => encodeXsave(layout, value as never),
    () => encodeXcrs(layout, value as never),
    () => encodeXcrs(layout, { flags: 0, xcrs: value } as never),
    () => encodeLapic(layout, value as never),
    () => encodeVcpuEvents(layout, value as never),
    () => encodeDebugRegs(layout, value as never),
    () => encodeGuestDebug(layout, value as never),
    () => encodeMpState(value as never),
  ];
  for (const call of calls) {
    try {
      call();
    } catch (error) {
      expect(error).toBeInstanceOf(KvmError);
    }
  }
}

describe.skipIf(!isBinding(loaded))("fuzz: vCPU state entries without a VM", () => {
  const binding = loaded as NativeBinding;
  const Vcpu = (binding as unknown as { Vcpu: { prototype: Record<string, (...x: unknown[]) => unknown> } }).Vcpu;

  it("the vCPU state methods are on the addon's Vcpu, and refuse foreign receivers", () => {
    for (const name of STATE_METHODS) expect(typeof Vcpu.prototype[name]).toBe("function");
    const block = new binding.RamBlock("receiver", 4096n);
    fc.assert(
      fc.property(fc.constantFrom(...STATE_METHODS), arg, args, (name, receiver, a) => {
        attempt(() => Vcpu.prototype[name]!.apply(receiver, a));
        attempt(() => Vcpu.prototype[name]!.apply(block, a));
      }),
      { numRuns: 300 },
    );
    block.release();
  });

  it("device reads take only the KVM device: other paths and types are typed errors", () => {
    fc.assert(
      fc.property(fc.constantFrom(...SYSTEM_FUNCTIONS), args, (name, a) => {
        const fn = binding[name] as (...x: unknown[]) => unknown;
        const result = attempt(() => fn(...a));
        if (result !== undefined) expect(result).toBeInstanceOf(Uint8Array);
      }),
      { numRuns: 200 },
    );
    for (const name of SYSTEM_FUNCTIONS) {
      expect(() => binding[name]("/dev/null")).toThrow(expect.objectContaining({ code: "ENODEV" }));
      expect(() => binding[name]("/nonexistent")).toThrow(expect.objectContaining({ code: "ENOENT" }));
    }
  });

  it("TypeScript encoders throw KvmErrors only, for any value in any field", () => {
    fc.assert(
      fc.property(arg, (value) => encoders(binding, value)),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(arb.fpu, fc.constantFrom("fpr", "fcw", "xmm", "mxcsr", "lastIp"), arg, (fpu, field, value) => {
        try {
          encodeFpu(binding.layout.vcpuState, { ...fpu, [field]: value });
        } catch (error) {
          expect(error).toBeInstanceOf(KvmError);
        }
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(arb.vcpuEvents, fc.constantFrom("exception", "nmi", "smi", "flags"), arg, (ev, field, value) => {
        try {
          encodeVcpuEvents(binding.layout.vcpuState, { ...ev, [field]: value });
        } catch (error) {
          expect(error).toBeInstanceOf(KvmError);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe.skipIf(!kvm.ok)("fuzz: vCPU state entries on a live vCPU", () => {
  it("raw addon methods: short, long, ragged and huge buffers and wrong types are typed errors", () => {
    const binding = loaded as NativeBinding;
    const vm = new binding.Vm("/dev/kvm");
    const vcpu = vm.createVcpu(0);
    const call = vcpu as unknown as Record<string, (...x: unknown[]) => unknown>;
    fc.assert(
      fc.property(fc.constantFrom(...STATE_METHODS), args, (name, a) => {
        // A set that the kernel takes may change the vCPU's state; nothing here runs it.
        attempt(() => call[name]!(...a));
      }),
      { numRuns: 600 },
    );
    for (const name of ["setCpuid2", "setMsrs", "getMsrs"] as const) {
      const size = name === "setCpuid2" ? 40 : 16;
      expect(() => call[name]!(new Uint8Array(size * 4097))).toThrow(expect.objectContaining({ code: "E2BIG" }));
      expect(() => call[name]!(new Uint8Array(size + 1))).toThrow(expect.objectContaining({ code: "EINVAL" }));
    }
    for (const name of ["setFpu", "setXsave", "setXcrs", "setLapic", "setVcpuEvents", "setDebugRegs"] as const) {
      expect(() => call[name]!(new Uint8Array(3))).toThrow(expect.objectContaining({ code: "EINVAL" }));
      expect(() => call[name]!(new Uint8Array(5000))).toThrow(expect.objectContaining({ code: "EINVAL" }));
      expect(() => call[name]!(detached())).toThrow(expect.objectContaining({ code: "EINVAL" }));
    }
    // The vCPU still answers after all that.
    expect((vcpu as NativeVcpu).getFpu()).toHaveLength(416);
    vcpu.close();
    for (const name of STATE_METHODS) {
      const a = name.startsWith("set") || name === "getMsrs" ? [new Uint8Array(0)] : name === "translate" ? [0n] : [];
      const fixed = name === "setMpState" ? [0] : a;
      expect(() => call[name]!(...fixed)).toThrow(
        expect.objectContaining({ code: expect.stringMatching(/EBADF|EINVAL/) }),
      );
    }
    vm.close();
  });

  it("Vcpu and NativeKvm methods throw KvmErrors only, and the vCPU still works afterwards", () => {
    const vm = NativeKvm.open();
    try {
      const vcpu = vm.createVcpu(0);
      const methods = STATE_METHODS.filter((n) => n !== "setGuestDebug");
      fc.assert(
        fc.property(fc.constantFrom(...methods), args, (name, a) => {
          try {
            (vcpu as unknown as Record<string, (...x: unknown[]) => unknown>)[name]!(...a);
          } catch (error) {
            expect(error).toBeInstanceOf(KvmError);
          }
        }),
        { numRuns: 400 },
      );
      expect(vm.getSupportedCpuid().length).toBeGreaterThan(0);
      expect(vcpu.getFpu().xmm).toHaveLength(16);
      vcpu.close();
      expect(() => vcpu.getVcpuEvents()).toThrow(expect.objectContaining({ name: "KvmError", code: "EBADF" }));
    } finally {
      vm.close();
    }
  });
});
