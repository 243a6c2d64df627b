import { KVM_IOEVENTFD_FLAG_DATAMATCH } from "@memtopo/kvm";
import { describe, expect, it } from "vitest";
import { isBinding, loadBinding, type NativeBinding, type NativeVcpu, type NativeVm } from "../src/binding.js";
import { NativeKvm } from "../src/index.js";

// NativeKvm's own logic (argument hand-off, error conversion, the order of close)
// against a recording stand-in for the VM and vCPU handles; RAM and eventfds are
// the real addon's. Runs without /dev/kvm.
const loaded = loadBinding();

describe.skipIf(!isBinding(loaded))("NativeKvm over a recording VM handle", () => {
  const real = loaded as NativeBinding;

  function recording(fail?: { method: string; code: string; errno: number }) {
    const calls: string[] = [];
    const record =
      (name: string) =>
      (...args: unknown[]) => {
        calls.push(`${name}(${args.map((a) => (typeof a === "bigint" ? `${a}n` : String(a))).join(",")})`);
        if (fail?.method === name) {
          throw Object.assign(new Error(`${fail.code}: refused, ioctl`), { code: fail.code, errno: fail.errno });
        }
        return name === "getDirtyLog" ? new Uint8Array(8) : name === "checkExtension" ? 1 : undefined;
      };
    const vcpu = {
      runBuffer: () => new ArrayBuffer(4096),
      close: record("vcpu.close"),
    } as unknown as NativeVcpu;
    const vm = {
      checkExtension: record("checkExtension"),
      setUserMemoryRegion: record("setUserMemoryRegion"),
      ioeventfd: record("ioeventfd"),
      getDirtyLog: record("getDirtyLog"),
      clearDirtyLog: record("clearDirtyLog"),
      enableManualDirtyLogProtect: record("enableManualDirtyLogProtect"),
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
    expect(calls).toEqual([
      "open(/dev/kvm-test)",
      "enableManualDirtyLogProtect()",
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
    expect(calls).toEqual(["open(/dev/kvm)", "createVcpu(0)", "vcpu.close()", "vm.close()"]);
    expect(bytes.length).toBe(0);
    expect(n.fd).toBeUndefined();
    expect(vm.closed).toBe(true);
    expect(() => vm.createEventNotifier()).toThrow(expect.objectContaining({ code: "EBADF" }));
  });

  it("a failed manual-dirty-log enable closes the VM it opened", () => {
    const { calls, binding } = recording({ method: "enableManualDirtyLogProtect", code: "EINVAL", errno: 22 });
    expect(() => NativeKvm.open({ nativeBinding: binding, manualDirtyLogProtect: true })).toThrow(
      expect.objectContaining({ code: "EINVAL", operation: "KVM_ENABLE_CAP" }),
    );
    expect(calls).toEqual(["open(/dev/kvm)", "enableManualDirtyLogProtect()", "vm.close()"]);
  });
});
