import { kickVcpuAfter, NativeKvm, probe } from "@memtopo/kvm-native";
import { createPcBoard } from "@memtopo/pc";
import { MemtopoError } from "@memtopo/region-tree";
import { CommitEventRecorder } from "./commit-events.js";
import type { PcRunner } from "./runner.js";

/**
 * `memtopo pc`'s board: @memtopo/pc on the native backend (/dev/kvm). The board is built with the memslot
 * tracer in place, so the creation-time calls are reported too; the commit recorder listens from the end of
 * machine creation, so `--events` shows the firmware's commits.
 */
export const runPcBoard: PcRunner = async (request) => {
  const p = probe();
  if (!p.ok) {
    const why = p.detail.includes(p.reason) ? p.detail : `${p.reason}: ${p.detail}`;
    throw new MemtopoError("E_KVM_UNAVAILABLE", `memtopo pc needs KVM, which is not usable here (${why})`);
  }
  const kvm = NativeKvm.open();
  try {
    const board = createPcBoard({
      ramSize: request.ramSize,
      bios: request.bios,
      cpu: request.cpu,
      ...(request.vapicRom === undefined ? {} : { vapic: true, vapicRom: request.vapicRom }),
      // The timeout kicks the vCPU from a timer thread, so a guest that never exits still stops.
      accel: { kvm, ramAllocator: kvm.ramAllocator, kickAfter: kickVcpuAfter },
      onDebugcon: request.onDebugcon,
      ...(request.onMemslot === undefined ? {} : { onMemslot: request.onMemslot }),
    });
    if (request.onCommit !== undefined) {
      new CommitEventRecorder(request.onCommit).attach(board.system, (listener, as) =>
        board.system.registerListener(listener, as),
      );
    }
    const result = board.run({ timeoutMs: request.timeoutMs });
    return {
      stop: result.stop,
      detail: result.detail,
      exits: result.exits,
      ...(result.registers === null ? {} : { registers: result.registers }),
    };
  } finally {
    kvm.close();
  }
};
