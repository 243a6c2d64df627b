import type { NativeLayout } from "../src/binding.js";
import { KvmRunDecoder, type VcpuExit } from "../src/index.js";

/** One exit a scripted vCPU plays, written into kvm_run where the kernel would put it. */
export type Step =
  | { io: { out: boolean; port: number; size: number; count: number; bytes?: number[] } }
  | { mmio: { addr: bigint; write: boolean; len: number; bytes?: number[] } }
  /** Any other exit: `fill` writes its fields (offsets from the layout) after exit_reason. */
  | { reason: number; fill?: (view: DataView) => void };

const IO_DATA = 1024;

/**
 * A vCPU that plays `steps` one per run() (then HLT) through a kvm_run-shaped buffer
 * laid out with the addon's offsets, and records the bytes a handler left for each
 * read (what the next KVM_RUN would hand to the guest). Runs without /dev/kvm. Like a
 * real Vcpu it has run() (a fresh exit object) and runInPlace() (the decoder's own one).
 */
export function scriptedVcpu(layout: NativeLayout, steps: Step[]) {
  const { run, exits } = layout;
  const buffer = new ArrayBuffer(4096);
  const view = new DataView(buffer);
  const decoder = new KvmRunDecoder(layout, buffer);
  const seenBeforeRun: number[][] = [];
  let last: Step | undefined;
  let i = 0;
  const play = (): void => {
    if (last !== undefined && "io" in last && !last.io.out) {
      seenBeforeRun.push([...new Uint8Array(buffer, IO_DATA, last.io.size * last.io.count)]);
    }
    if (last !== undefined && "mmio" in last && !last.mmio.write) {
      seenBeforeRun.push([...new Uint8Array(buffer, run.mmioData, last.mmio.len)]);
    }
    const step = steps[i++] ?? { reason: exits.HLT };
    last = step;
    if ("io" in step) {
      view.setUint32(run.exitReason, exits.IO, true);
      view.setUint8(run.ioDirection, step.io.out ? exits.IO_OUT : exits.IO_IN);
      view.setUint8(run.ioSize, step.io.size);
      view.setUint16(run.ioPort, step.io.port, true);
      view.setUint32(run.ioCount, step.io.count, true);
      view.setBigUint64(run.ioDataOffset, BigInt(IO_DATA), true);
      new Uint8Array(buffer, IO_DATA, 64).fill(0);
      new Uint8Array(buffer, IO_DATA).set(step.io.bytes ?? []);
    } else if ("mmio" in step) {
      view.setUint32(run.exitReason, exits.MMIO, true);
      view.setBigUint64(run.mmioPhysAddr, step.mmio.addr, true);
      view.setUint32(run.mmioLen, step.mmio.len, true);
      view.setUint8(run.mmioIsWrite, step.mmio.write ? 1 : 0);
      new Uint8Array(buffer, run.mmioData, 8).fill(0);
      new Uint8Array(buffer, run.mmioData).set(step.mmio.bytes ?? []);
    } else {
      view.setUint32(run.exitReason, step.reason, true);
      step.fill?.(view);
    }
  };
  return {
    seenBeforeRun,
    /** The kvm_run-shaped buffer, to read what a handler answered (MSR data and error). */
    view,
    run(): VcpuExit {
      play();
      return decoder.decode();
    },
    runInPlace(): VcpuExit {
      play();
      return decoder.decodeInPlace();
    },
  };
}
