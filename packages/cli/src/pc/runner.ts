import type { KvmUserspaceMemoryRegion, Regs, Sregs } from "@memtopo/kvm";
import type { PcStopKind } from "@memtopo/pc";
import type { DiffEvent } from "../diff/machine-diff.js";

/** What `memtopo pc` asks of the board: one run of the firmware, from machine creation to a stop. */
export interface PcRunRequest {
  readonly bios: Uint8Array;
  /** Bytes of RAM (QEMU's -m, already rounded to 8 KiB). */
  readonly ramSize: bigint;
  /** Wall-clock budget in milliseconds; the run stops with "timeout" when it is spent. */
  readonly timeoutMs: number;
  /** Bytes the guest wrote to the debug console (port 0x402), in order; true stops the run with "until". */
  readonly onDebugcon: (bytes: Uint8Array) => boolean;
  /** Every KVM_SET_USER_MEMORY_REGION the kernel accepted, from machine creation on. */
  readonly onMemslot?: (region: KvmUserspaceMemoryRegion) => void;
  /** The listener events of each commit after machine creation (the firmware's). */
  readonly onCommit?: (events: readonly DiffEvent[]) => void;
  /** QEMU's -cpu: "qemu64" (QEMU's default model) or "host" (everything the host's KVM supports). */
  readonly cpu: "qemu64" | "host";
  /** With the kvmvapic option ROM, the board has QEMU's kvmvapic device and offers the ROM in fw_cfg. */
  readonly vapicRom?: Uint8Array;
}

/** Why a run ended (the board's own kinds). Only "until" is a success. */
export type { PcStopKind };

export interface PcRunResult {
  readonly stop: PcStopKind;
  /** What happened, in words (the exit's details for a failure). */
  readonly detail: string;
  /** Exits to user space during the run. */
  readonly exits: number;
  /** The vCPU's registers when the run stopped (absent if it never ran). */
  readonly registers?: { readonly regs: Regs; readonly sregs: Sregs };
}

export type PcRunner = (request: PcRunRequest) => Promise<PcRunResult>;
