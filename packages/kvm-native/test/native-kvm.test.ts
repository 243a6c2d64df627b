import {
  KVM_DIRTY_LOG_INITIALLY_SET,
  KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE,
  KVM_IOEVENTFD_FLAG_DATAMATCH,
} from "@memtopo/kvm";
import { describe, expect, it } from "vitest";
import {
  isBinding,
  loadBinding,
  type NativeBinding,
  type NativeRamBlock,
  type NativeVcpu,
  type NativeVm,
} from "../src/binding.js";
import { NativeKvm } from "../src/index.js";

// NativeKvm's own logic (argument hand-off, error conversion, the order of close)
// against a recording stand-in for the VM and vCPU handles; RAM and eventfds are
// the real addon's. Runs without /dev/kvm.
const loaded = loadBinding();

describe.skipIf(!isBinding(loaded))("NativeKvm over a recording VM handle", () => {
  const real = loaded as NativeBinding;

  function recording(fail?: { method: string; code: string; errno: number }, runBuffer = new ArrayBuffer(4096)) {
    const calls: string[] = [];
    const record =
      (name: string) =>
      (...args: unknown[]) => {
        calls.push(`${name}(${args.map((a) => (typeof a === "bigint" ? `${a}n` : String(a))).join(",")})`);
        if (fail?.method === name) {
          throw Object.assign(new Error(`${fail.code}: refused, ioctl`), { code: fail.code, errno: fail.errno });
        }
        if (name === "checkExtension") return args[0] === 15 ? 2 : 1;
        return name === "getDirtyLog" ? new Uint8Array(8) : undefined;
      };
    const vcpu = {
      runBuffer: () => runBuffer,
      close: record("vcpu.close"),
    } as unknown as NativeVcpu;
    const vm = {
      checkExtension: record("checkExtension"),
      setUserMemoryRegion: record("setUserMemoryRegion"),
      ioeventfd: record("ioeventfd"),
      registerCoalescedMmio: record("registerCoalescedMmio"),
      unregisterCoalescedMmio: record("unregisterCoalescedMmio"),
      getDirtyLog: record("getDirtyLog"),
      clearDirtyLog: record("clearDirtyLog"),
      enableManualDirtyLogProtect: record("enableManualDirtyLogProtect"),
      setIdentityMapAddr: record("setIdentityMapAddr"),
      setTssAddr: record("setTssAddr"),
      // Every block of the VM's own allocator is adopted by the VM as it is made.
      adoptRam: (block: NativeRamBlock) => calls.push(`adoptRam(${block.hostAddr()}n)`),
      createVcpu: (id: number) => {
        calls.push(`createVcpu(${id})`);
        return vcpu;
      },
      close: record("vm.close"),
    } as unknown as NativeVm;
    const binding = {
      ...real,
      RamBlock: real.RamBlock,
      Vm: function Vm(path: string) {
        calls.push(`open(${path})`);
        return vm;
      },
    } as unknown as NativeBinding;
    return { calls, binding };
  }

  it("passes each KvmBackend call to the handle field by field, the notifier as its eventfd", () => {
    const { calls, binding } = recording();
    const vm = NativeKvm.open({ nativeBinding: binding, devicePath: "/dev/kvm-test", manualDirtyLogProtect: true });
    const ram = vm.ramAllocator.allocate("ram", 0x1000n);
    const n = vm.createEventNotifier();
    vm.setUserMemoryRegion({
      slot: 1,
      flags: 2,
      guestPhysAddr: 0x1000n,
      memorySize: 0x1000n,
      userspaceAddr: ram.hostAddr,
    });
    vm.ioeventfd({ addr: 0xd0000n, len: 4, notifier: n, flags: KVM_IOEVENTFD_FLAG_DATAMATCH, datamatch: 7n });
    expect(vm.getDirtyLog(1)).toHaveLength(8);
    vm.clearDirtyLog(1, 0n, 1, new Uint8Array(8));
    expect(vm.checkExtension(3)).toBe(1);
    // open({ manualDirtyLogProtect }) enables what KVM_CHECK_EXTENSION(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 = 168)
    // offers of ENABLE | INITIALLY_SET, as QEMU's kvm_init; this handle offers 1.
    expect(calls).toEqual([
      "open(/dev/kvm-test)",
      "checkExtension(168)",
      "enableManualDirtyLogProtect(1)",
      `adoptRam(${ram.hostAddr}n)`,
      `setUserMemoryRegion(1,2,4096n,4096n,${ram.hostAddr}n)`,
      `ioeventfd(${0xd0000n}n,4,${n.fd},1,7n)`,
      "getDirtyLog(1)",
      "clearDirtyLog(1,0n,1,0,0,0,0,0,0,0,0)",
      "checkExtension(3)",
    ]);
    vm.close();
  });

  it("a notifier without an eventfd is EBADF before any ioctl", () => {
    const { calls, binding } = recording();
    const vm = NativeKvm.open({ nativeBinding: binding });
    const notifier = { id: 1, signal() {} };
    expect(() => vm.ioeventfd({ addr: 0n, len: 1, notifier, flags: 0, datamatch: 0n })).toThrow(
      expect.objectContaining({ name: "KvmError", code: "EBADF", operation: "KVM_IOEVENTFD" }),
    );
    expect(calls).toEqual(["open(/dev/kvm)"]);
    vm.close();
  });

  it("a failing ioctl becomes a KvmError with the errno name, number and operation", () => {
    const { binding } = recording({ method: "setUserMemoryRegion", code: "EEXIST", errno: 17 });
    const vm = NativeKvm.open({ nativeBinding: binding });
    expect(() =>
      vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: 0x1000n, userspaceAddr: 0n }),
    ).toThrow(
      expect.objectContaining({ name: "KvmError", code: "EEXIST", errno: 17, operation: "KVM_SET_USER_MEMORY_REGION" }),
    );
    vm.close();
  });

  it("close: vCPUs first, then the VM (which deletes its slots), then RAM and eventfds; twice is a no-op", () => {
    const { calls, binding } = recording();
    const vm = NativeKvm.open({ nativeBinding: binding });
    const ram = vm.ramAllocator.allocate("ram", 0x1000n);
    const bytes = ram.bytes();
    const n = vm.createEventNotifier();
    vm.createVcpu(0);
    vm.close();
    vm.close();
    expect(calls).toEqual([
      "open(/dev/kvm)",
      `adoptRam(${ram.hostAddr}n)`,
      // QEMU's kvm_arch_init placement, before the first vCPU (none was chosen).
      "checkExtension(37)",
      `setIdentityMapAddr(${0xfeffc000n}n)`,
      `setTssAddr(${0xfeffd000n}n)`,
      "createVcpu(0)",
      "checkExtension(15)",
      "vcpu.close()",
      "vm.close()",
    ]);
    expect(bytes.length).toBe(0);
    expect(n.fd).toBeUndefined();
    expect(vm.closed).toBe(true);
    expect(() => vm.createEventNotifier()).toThrow(expect.objectContaining({ code: "EBADF" }));
  });

  it("coalesced zones go to the handle as (addr, size, pio 0/1); a pio that is not a boolean is EINVAL", () => {
    const { calls, binding } = recording();
    const vm = NativeKvm.open({ nativeBinding: binding });
    vm.registerCoalescedMmio({ addr: 0xfed00000n, size: 0x400, pio: false });
    vm.unregisterCoalescedMmio({ addr: 0x70n, size: 1, pio: true });
    expect(() => vm.registerCoalescedMmio({ addr: 0n, size: 1, pio: 1 as never })).toThrow(
      expect.objectContaining({ code: "EINVAL", operation: "KVM_REGISTER_COALESCED_MMIO" }),
    );
    expect(calls.slice(1)).toEqual([
      `registerCoalescedMmio(${0xfed00000n}n,1024,0)`,
      "unregisterCoalescedMmio(112n,1,1)",
    ]);
    expect(vm.takeCoalescedWrites()).toEqual([]);
    vm.close();
  });

  it("the coalesced ring is read from a vCPU's mapping at KVM_CAP_COALESCED_MMIO pages in, and `first` moves on", () => {
    const page = 4096;
    const run = new ArrayBuffer(3 * page);
    const { binding } = recording(undefined, run);
    const vm = NativeKvm.open({ nativeBinding: binding });
    expect(vm.takeCoalescedWrites()).toEqual([]);
    vm.createVcpu(0);
    // struct kvm_coalesced_mmio_ring at page 2: first, last, then 24-byte entries from byte 8.
    const ring = new DataView(run, 2 * page, page);
    const capacity = Math.floor((page - 8) / 24);
    const put = (i: number, addr: bigint, bytes: number[], pio: number) => {
      const at = 8 + i * 24;
      ring.setBigUint64(at, addr, true);
      ring.setUint32(at + 8, bytes.length, true);
      ring.setUint32(at + 12, pio, true);
      for (const [k, b] of bytes.entries()) ring.setUint8(at + 16 + k, b);
    };
    // Two entries that wrap around the end of the ring.
    put(capacity - 1, 0xfed00010n, [0x11, 0x22], 0);
    put(0, 0x70n, [0x8f], 1);
    ring.setUint32(0, capacity - 1, true);
    ring.setUint32(4, 1, true);
    expect(vm.takeCoalescedWrites()).toEqual([
      { physAddr: 0xfed00010n, data: Uint8Array.of(0x11, 0x22), pio: false },
      { physAddr: 0x70n, data: Uint8Array.of(0x8f), pio: true },
    ]);
    expect(ring.getUint32(0, true)).toBe(1);
    expect(vm.takeCoalescedWrites()).toEqual([]);
    ring.setUint32(4, capacity, true);
    expect(() => vm.takeCoalescedWrites()).toThrow(expect.objectContaining({ name: "KvmError", code: "EIO" }));
    vm.close();
  });

  it("manual protect takes ENABLE and INITIALLY_SET (QEMU enables both where the kernel has them), nothing else", () => {
    const { calls, binding } = recording();
    const vm = NativeKvm.open({ nativeBinding: binding });
    vm.enableDirtyLogManualProtect(KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET);
    expect(vm.dirtyLogManualProtect).toBe(3);
    for (const bad of [4, 7, 1.5, -1, "1", null]) {
      expect(() => vm.enableDirtyLogManualProtect(bad as number)).toThrow(
        expect.objectContaining({ code: "EINVAL", operation: "KVM_ENABLE_CAP" }),
      );
    }
    expect(vm.dirtyLogManualProtect).toBe(3);
    expect(calls.filter((c) => c.startsWith("enableManual"))).toEqual(["enableManualDirtyLogProtect(3)"]);
    vm.close();
  });

  it("a failed manual-dirty-log enable closes the VM it opened", () => {
    const { calls, binding } = recording({ method: "enableManualDirtyLogProtect", code: "EINVAL", errno: 22 });
    expect(() => NativeKvm.open({ nativeBinding: binding, manualDirtyLogProtect: true })).toThrow(
      expect.objectContaining({ code: "EINVAL", operation: "KVM_ENABLE_CAP" }),
    );
    expect(calls).toEqual(["open(/dev/kvm)", "checkExtension(168)", "enableManualDirtyLogProtect(1)", "vm.close()"]);
  });
});
