import { MEMTX_DECODE_ERROR, MEMTX_OK } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { isBinding, loadBinding, type NativeLayout } from "../src/binding.js";
import { type GuestBus, KvmRunDecoder, runVcpu } from "../src/index.js";
import { RecordingBus } from "./helpers.js";
import { type Step, scriptedVcpu } from "./scripted-vcpu.js";

// The dispatch logic of runVcpu and the kvm_run decoder, driven by a scripted vCPU
// that writes exits into a kvm_run-shaped buffer exactly where the kernel would
// (offsets from the addon), so this runs without /dev/kvm.
const loaded = loadBinding();

describe.skipIf(!isBinding(loaded))("runVcpu dispatch and kvm_run decoding", () => {
  const layout = (loaded as { layout: NativeLayout }).layout;
  const { run, exits } = layout;

  it("an MMIO write passes the guest's bytes; an MMIO read's bytes land in kvm_run for the next KVM_RUN", () => {
    const vcpu = scriptedVcpu(layout, [
      { mmio: { addr: 0xfee00000n, write: true, len: 4, bytes: [1, 2, 3, 4] } },
      { mmio: { addr: 0xd0000n, write: false, len: 2 } },
    ]);
    const memory = new RecordingBus();
    memory.values.set(0xd0000n, [0xaa, 0xbb]);
    const result = runVcpu(vcpu, { memory, io: new RecordingBus() });
    expect(result).toMatchObject({ reason: "hlt", exits: 2, failedAccesses: 0 });
    expect(memory.log).toEqual([
      { kind: "write", addr: 0xfee00000n, bytes: [1, 2, 3, 4] },
      { kind: "read", addr: 0xd0000n, bytes: [0xaa, 0xbb] },
    ]);
    expect(vcpu.seenBeforeRun).toEqual([[0xaa, 0xbb]]);
  });

  it("a rep outs/ins exit is `count` accesses of `size` bytes to the same port, in order", () => {
    const vcpu = scriptedVcpu(layout, [
      { io: { out: true, port: 0x3f8, size: 2, count: 3, bytes: [1, 0, 2, 0, 3, 0] } },
      { io: { out: false, port: 0x60, size: 1, count: 2 } },
    ]);
    const io = new RecordingBus();
    let next = 0x10;
    const counting: GuestBus = {
      read: (addr, data) => {
        data[0] = next++;
        return io.read(addr, new Uint8Array(0));
      },
      write: (addr, data) => io.write(addr, data),
    };
    const result = runVcpu(vcpu, { memory: new RecordingBus(), io: counting });
    expect(result.exits).toBe(2);
    expect(io.log.map((a) => [a.kind, a.addr, a.bytes])).toEqual([
      ["write", 0x3f8n, [1, 0]],
      ["write", 0x3f8n, [2, 0]],
      ["write", 0x3f8n, [3, 0]],
      ["read", 0x60n, []],
      ["read", 0x60n, []],
    ]);
    expect(vcpu.seenBeforeRun).toEqual([[0x10, 0x11]]);
  });

  it("stops on HLT, SHUTDOWN, FAIL_ENTRY, INTERNAL_ERROR, a kick and unknown exits, with the exit", () => {
    const cases: [number, string, string][] = [
      [exits.HLT, "hlt", "hlt"],
      [exits.SHUTDOWN, "shutdown", "shutdown"],
      [exits.FAIL_ENTRY, "fail-entry", "fail-entry"],
      [exits.INTERNAL_ERROR, "internal-error", "internal-error"],
      [exits.INTR, "kicked", "intr"],
      [exits.SYSTEM_EVENT, "system-event", "system-event"],
      [exits.DEBUG, "debug", "debug"],
      [exits.IRQ_WINDOW_OPEN, "unhandled-exit", "irq-window-open"],
      [exits.UNKNOWN, "unhandled-exit", "unknown"],
    ];
    for (const [reason, stop, decoded] of cases) {
      const result = runVcpu(scriptedVcpu(layout, [{ io: { out: true, port: 1, size: 1, count: 1 } }, { reason }]), {
        memory: new RecordingBus(),
        io: new RecordingBus(),
      });
      expect(result.reason).toBe(stop);
      expect(result.exits).toBe(1);
      expect(result.exit?.reason).toBe(decoded);
    }
  });

  it("stops with max-exits after the budget, and counts accesses that did not return MEMTX_OK", () => {
    const steps: Step[] = Array.from({ length: 10 }, () => ({ mmio: { addr: 0x1000n, write: true, len: 1 } }));
    const failing: GuestBus = { read: () => MEMTX_OK, write: () => MEMTX_DECODE_ERROR };
    const result = runVcpu(scriptedVcpu(layout, steps), { memory: failing, io: failing }, { maxExits: 4 });
    expect(result).toMatchObject({ reason: "max-exits", exits: 4, failedAccesses: 4 });
  });

  it("a vCPU with run() only gets the same dispatch as one with runInPlace()", () => {
    const steps: Step[] = [
      { io: { out: true, port: 0x3f8, size: 1, count: 1, bytes: [7] } },
      { mmio: { addr: 0xd0000n, write: true, len: 2, bytes: [1, 2] } },
      { io: { out: true, port: 0x3f9, size: 1, count: 1, bytes: [8] } },
    ];
    const logs = [true, false].map((inPlace) => {
      const scripted = scriptedVcpu(layout, steps);
      const vcpu = inPlace ? scripted : { run: () => scripted.run() };
      const memory = new RecordingBus();
      const io = new RecordingBus();
      const result = runVcpu(vcpu, { memory, io }, { maxExits: 3 });
      return { result, memory: memory.log, io: io.log };
    });
    expect(logs[0]).toEqual(logs[1]);
    expect(logs[0]!.io.map((a) => a.addr)).toEqual([0x3f8n, 0x3f9n]);
  });

  it("the exit runVcpu stops with is a copy: later exits of the vCPU leave it alone", () => {
    const steps: Step[] = [
      { io: { out: true, port: 0x60, size: 1, count: 1 } },
      { io: { out: false, port: 0x64, size: 2, count: 1 } },
    ];
    const vcpu = scriptedVcpu(layout, steps);
    const result = runVcpu(vcpu, { memory: new RecordingBus(), io: new RecordingBus() }, { maxExits: 1 });
    vcpu.runInPlace();
    expect(result.exit).toMatchObject({ reason: "io", direction: "out", port: 0x60, size: 1 });
  });

  it("decodeInPlace reuses one object per kind, decode makes a new one each time; both read kvm_run exactly", () => {
    const buffer = new ArrayBuffer(4096);
    const view = new DataView(buffer);
    const decoder = new KvmRunDecoder(layout, buffer);
    const mmio = (addr: bigint, write: boolean) => {
      view.setUint32(run.exitReason, exits.MMIO, true);
      view.setBigUint64(run.mmioPhysAddr, addr, true);
      view.setUint32(run.mmioLen, 4, true);
      view.setUint8(run.mmioIsWrite, write ? 1 : 0);
    };
    // Addresses that share one 32-bit half with the previous one: the cached bigint must not be reused.
    const addrs = [0xfee0_0000n, 0xfee0_0000n, 0x1_fee0_0000n, 0x1_0000_0000n, 0n, 0xffff_ffff_ffff_fff8n, 0n];
    const seen = addrs.map((addr, i) => {
      mmio(addr, i % 2 === 0);
      const exit = decoder.decodeInPlace();
      expect(exit).toMatchObject({ reason: "mmio", addr, isWrite: i % 2 === 0 });
      expect(decoder.decode()).toEqual(exit);
      expect(decoder.decode()).not.toBe(decoder.decode());
      return exit;
    });
    expect(new Set(seen).size).toBe(1);
    view.setUint32(run.exitReason, exits.IO, true);
    view.setUint8(run.ioDirection, exits.IO_IN);
    view.setUint8(run.ioSize, 2);
    view.setUint16(run.ioPort, 0x1f0, true);
    view.setUint32(run.ioCount, 1, true);
    view.setBigUint64(run.ioDataOffset, 512n, true);
    const io = decoder.decodeInPlace();
    expect(io).toMatchObject({ reason: "io", direction: "in", port: 0x1f0, size: 2, count: 1 });
    view.setUint16(run.ioPort, 0x170, true);
    expect(decoder.decodeInPlace()).toBe(io);
    expect(io).toMatchObject({ port: 0x170 });
  });

  it("decodes FAIL_ENTRY and INTERNAL_ERROR details", () => {
    const buffer = new ArrayBuffer(4096);
    const view = new DataView(buffer);
    const decoder = new KvmRunDecoder(layout, buffer);
    view.setUint32(run.exitReason, exits.FAIL_ENTRY, true);
    view.setBigUint64(run.failEntryReason, 0x80000021n, true);
    view.setUint32(run.failEntryCpu, 3, true);
    expect(decoder.decode()).toEqual({ reason: "fail-entry", hardwareEntryFailureReason: 0x80000021n, cpu: 3 });
    view.setUint32(run.exitReason, exits.INTERNAL_ERROR, true);
    view.setUint32(run.internalSuberror, 1, true);
    view.setUint32(run.internalNdata, 2, true);
    view.setBigUint64(run.internalData, 7n, true);
    view.setBigUint64(run.internalData + 8, 9n, true);
    expect(decoder.decode()).toEqual({ reason: "internal-error", suberror: 1, data: [7n, 9n] });
  });

  it("decodes KVM_EXIT_DIRTY_RING_FULL (31) as its own kind, not as an unknown one", () => {
    const buffer = new ArrayBuffer(4096);
    const view = new DataView(buffer);
    expect(exits.DIRTY_RING_FULL).toBe(31);
    view.setUint32(run.exitReason, exits.DIRTY_RING_FULL, true);
    expect(new KvmRunDecoder(layout, buffer).decode()).toEqual({ reason: "dirty-ring-full" });
  });

  it("refuses io data that would lie outside kvm_run", () => {
    const buffer = new ArrayBuffer(4096);
    const view = new DataView(buffer);
    view.setUint32(run.exitReason, exits.IO, true);
    view.setUint8(run.ioSize, 4);
    view.setUint32(run.ioCount, 2, true);
    view.setBigUint64(run.ioDataOffset, 4090n, true);
    expect(() => new KvmRunDecoder(layout, buffer).decode()).toThrow(expect.objectContaining({ code: "EIO" }));
  });
});
