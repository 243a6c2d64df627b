import { KvmError } from "@memtopo/kvm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isBinding, loadBinding, type NativeBinding, type NativeLayout } from "../src/binding.js";
import {
  adoptVcpu,
  dropShare,
  enterRealMode,
  kickVcpu,
  NativeKvm,
  nativeRamAllocator,
  runVcpu,
  sharedRamView,
  shareRam,
} from "../src/index.js";
import { kvm, RecordingBus } from "./helpers.js";
import { scriptedVcpu } from "./scripted-vcpu.js";

// The thread-sharing entries attacked: tokens are numbers a thread can forge, guess or
// reuse, so the addon must act only on live shares of the right kind it made itself;
// every refusal is a typed error (errno `code` natively, KvmError through TypeScript).
const loaded = loadBinding();

const hostile: unknown[] = [
  undefined,
  null,
  true,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  -1,
  1.5,
  0,
  2 ** 53,
  2 ** 64,
  -1n,
  2n ** 64n,
  "1",
  {},
  [],
  () => 0,
  Symbol("t"),
  new Uint8Array(8),
];
const arg = fc.oneof(fc.constantFrom(...hostile), fc.anything(), fc.integer(), fc.bigInt(), fc.nat());

function expectTyped(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    const e = error as { code?: unknown; errno?: unknown };
    expect(typeof e.code).toBe("string");
    expect(typeof e.errno).toBe("number");
    return undefined;
  }
}

describe.skipIf(!isBinding(loaded))("fuzz: sharing RAM and vCPUs between threads", () => {
  const b = loaded as NativeBinding;
  const layout = (loaded as { layout: NativeLayout }).layout;

  it("random and hostile arguments to shareRam, ramView, adoptVcpu, dropShare: typed errors, no crash", () => {
    fc.assert(
      fc.property(fc.array(arg, { maxLength: 4 }), (args) => {
        const call = (f: (...a: unknown[]) => unknown) => expectTyped(() => f(...args));
        call(b.shareRam as never);
        call(b.ramView as never);
        // A random token can only name a live share by a 1-in-2^53 accident: none exist here.
        expect(call(b.adoptVcpu as never)).toBeUndefined();
        const dropped = call(b.dropShare as never);
        expect(dropped === undefined || dropped === false).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("forged tokens: any safe integer naming no share is ENOENT for a view or an adoption, false for a drop", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (token) => {
        expect(() => b.ramView(token, 0n, 1n)).toThrow(expect.objectContaining({ code: "ENOENT" }));
        expect(() => b.adoptVcpu(token)).toThrow(expect.objectContaining({ code: "ENOENT" }));
        expect(b.dropShare(token)).toBe(false);
      }),
      { numRuns: 200 },
    );
    expect(() => adoptVcpu(12345)).toThrow(expect.objectContaining({ name: "KvmError", code: "ENOENT" }));
    expect(() => sharedRamView(0, 0n, 1n)).toThrow(expect.objectContaining({ name: "KvmError", code: "EINVAL" }));
  });

  it("shareRam takes only memory inside a live RAM block of this addon (EFAULT): not the JS heap, not a released block", () => {
    const heap = new Uint8Array(4096);
    // An address that is certainly mapped in this process but no RAM block of ours: a kvm_run-free guess.
    expect(() => shareRam({ hostAddr: 0x1000n, size: 4096n })).toThrow(
      expect.objectContaining({ name: "KvmError", code: "EFAULT" }),
    );
    expect(heap.length).toBe(4096);
    const allocator = nativeRamAllocator();
    const ram = allocator.allocate("fuzz", 0x2000n);
    expect(() => shareRam({ hostAddr: ram.hostAddr, size: 0x2001n + 0x1000n })).toThrow(
      expect.objectContaining({ code: "EFAULT" }),
    );
    expect(() => shareRam({ hostAddr: ram.hostAddr, size: 0n })).toThrow(expect.objectContaining({ code: "EINVAL" }));
    for (const bad of [null, undefined, 7, "ram", { hostAddr: "x", size: 1n }]) {
      expect(() => shareRam(bad as never)).toThrow(KvmError);
    }
    ram.release();
    expect(() => shareRam(ram)).toThrow(expect.objectContaining({ code: "EFAULT" }));
  });

  it("a view stays inside its share, outlives the share and the block (the mapping is kept), and a dropped token is dead", () => {
    const allocator = nativeRamAllocator();
    const ram = allocator.allocate("fuzz", 0x3000n);
    ram.bytes()[0x1000] = 0x77;
    // Share the middle page only.
    const token = shareRam({ hostAddr: ram.hostAddr + 0x1000n, size: 0x1000n });
    for (const [offset, length] of [
      [0n, 0x1001n],
      [0x1000n, 1n],
      [0xfffn, 2n],
      [0n, 0n],
      [2n ** 63n, 1n],
    ] as const) {
      expect(() => sharedRamView(token, offset, length)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    }
    const view = sharedRamView(token, 0n, 0x1000n);
    expect(view[0]).toBe(0x77);
    expect(dropShare(token)).toBe(true);
    expect(dropShare(token)).toBe(false);
    expect(() => sharedRamView(token, 0n, 1n)).toThrow(expect.objectContaining({ code: "ENOENT" }));
    ram.release();
    // The view's own reference keeps the mapping: reading and writing it is still safe.
    view[1] = 0x42;
    expect([view[0], view[1]]).toEqual([0x77, 0x42]);
  });

  it("a RAM token is refused as a vCPU (EINVAL), and stays usable after the refusal", () => {
    const ram = nativeRamAllocator().allocate("fuzz", 0x1000n);
    const token = shareRam(ram);
    expect(() => adoptVcpu(token)).toThrow(expect.objectContaining({ name: "KvmError", code: "EINVAL" }));
    expect(sharedRamView(token, 0n, 16n).length).toBe(16);
    expect(dropShare(token)).toBe(true);
    ram.release();
  });

  it("hook results of any kind: `continue`/`stop` work, everything else is a KvmError (EINVAL)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom("continue", "stop"), fc.anything()), (answer) => {
        const vcpu = scriptedVcpu(layout, [{ reason: layout.exits.IRQ_WINDOW_OPEN }]);
        try {
          const result = runVcpu(
            vcpu,
            { memory: new RecordingBus(), io: new RecordingBus() },
            // The HLT after the script is stopped, or a `continue` would run forever.
            { onExit: (exit) => (exit.reason === "hlt" ? "stop" : (answer as never)) },
          );
          expect(answer === "continue" || answer === "stop").toBe(true);
          expect(result.reason).toBe(answer === "stop" ? "unhandled-exit" : "hlt");
        } catch (error) {
          expect(error).toBeInstanceOf(KvmError);
          expect((error as KvmError).code).toBe("EINVAL");
        }
      }),
      { numRuns: 200 },
    );
  });

  describe.skipIf(!kvm.ok)("with /dev/kvm", () => {
    it("closed and transferred vCPUs: every run/kick/transfer/interrupt-window call is EBADF, the old kick id is gone", () => {
      const vm = NativeKvm.open();
      try {
        const vcpu = vm.createVcpu(0);
        enterRealMode(vcpu, 0x1000);
        const oldKick = vcpu.kickId;
        const token = vcpu.transfer();
        expect(kickVcpu(oldKick)).toBe(false);
        for (const call of [
          () => vcpu.transfer(),
          () => vcpu.run(),
          () => vcpu.kick(),
          () => vcpu.requestInterruptWindow,
          () => {
            vcpu.requestInterruptWindow = true;
          },
          () => vcpu.ifFlag,
          () => vcpu.readyForInterruptInjection,
          () => vcpu.getRegs(),
        ]) {
          expect(call).toThrow(expect.objectContaining({ name: "KvmError", code: "EBADF" }));
        }
        const adopted = adoptVcpu(token);
        expect(adopted.getRegs().rip).toBe(0x1000n);
        expect(() => {
          adopted.requestInterruptWindow = 1 as never;
        }).toThrow(expect.objectContaining({ name: "KvmError", code: "EINVAL" }));
        adopted.close();
        expect(() => adopted.transfer()).toThrow(expect.objectContaining({ code: "EBADF" }));
        // An unadopted vCPU's share closes its fd when dropped; its token is dead then.
        const second = vm.createVcpu(1).transfer();
        expect(dropShare(second)).toBe(true);
        expect(() => adoptVcpu(second)).toThrow(expect.objectContaining({ code: "ENOENT" }));
        // The raw addon agrees: a vCPU token is no RAM share.
        const third = vm.createVcpu(2).transfer();
        expect(() => b.ramView(third, 0n, 1n)).toThrow(expect.objectContaining({ code: "EINVAL" }));
        expect(dropShare(third)).toBe(true);
      } finally {
        vm.close();
      }
    });

    it("KVM_ENABLE_CAP(USER_SPACE_MSR) and KVM_X86_SET_MSR_FILTER refuse bad reasons and ranges with EINVAL before any ioctl", () => {
      const vm = NativeKvm.open();
      try {
        for (const bad of [["nope"], "unknown", [1], null, [undefined]]) {
          expect(() => vm.enableUserSpaceMsr(bad as never)).toThrow(
            expect.objectContaining({ name: "KvmError", code: "EINVAL" }),
          );
        }
        const range = { read: true, write: false, base: 0, nmsrs: 8, bitmap: new Uint8Array(1) };
        for (const filter of [
          null,
          { defaultDeny: 1, ranges: [] },
          { defaultDeny: false, ranges: Array.from({ length: 17 }, () => range) },
          { defaultDeny: false, ranges: [{ ...range, read: false }] },
          { defaultDeny: false, ranges: [{ ...range, nmsrs: 9 }] },
          { defaultDeny: false, ranges: [{ ...range, base: -1 }] },
          { defaultDeny: false, ranges: [{ ...range, nmsrs: 0x10000 * 8, bitmap: new Uint8Array(0x10000) }] },
        ]) {
          expect(() => vm.setMsrFilter(filter as never)).toThrow(
            expect.objectContaining({ name: "KvmError", code: "EINVAL" }),
          );
        }
        const raw = b as unknown as { Vm: new (p: string) => { setMsrFilter(...a: unknown[]): void; close(): void } };
        const rawVm = new raw.Vm("/dev/kvm");
        for (const args of [
          [2, new Uint8Array(0), new Uint8Array(0)],
          [0, new Uint8Array(11), new Uint8Array(0)],
          [0, Uint8Array.of(1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0), new Uint8Array(2)],
          [0, Uint8Array.of(1, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 0), new Uint8Array(8)],
        ]) {
          expect(() => rawVm.setMsrFilter(...args)).toThrow(expect.objectContaining({ code: "EINVAL" }));
        }
        rawVm.close();
      } finally {
        vm.close();
      }
    });

    it("a vCPU run to HLT after adoption: the adopted object is the only one that runs it", () => {
      const vm = NativeKvm.open();
      try {
        const ram = vm.ramAllocator.allocate("low", 0x4000n);
        ram.bytes()[0x1000] = 0xf4; // hlt
        vm.setUserMemoryRegion({
          slot: 0,
          flags: 0,
          guestPhysAddr: 0n,
          memorySize: 0x4000n,
          userspaceAddr: ram.hostAddr,
        });
        const vcpu = vm.createVcpu(0);
        enterRealMode(vcpu, 0x1000);
        const adopted = adoptVcpu(vcpu.transfer());
        expect(runVcpu(adopted, { memory: new RecordingBus(), io: new RecordingBus() }).reason).toBe("hlt");
        adopted.close();
      } finally {
        vm.close();
      }
    });
  });
});
