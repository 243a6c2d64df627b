import { OutgoingMigration, type RoundReport, type StreamSink, systemDirtyPageSource } from "@memtopo/migration";
import { runWorkload, WORKLOAD_BAR_ADDRS, WORKLOAD_PASSES_DONE } from "@memtopo/migration/workload";
import { SLICE_INSTRUCTIONS, type WorkloadVm } from "./workload-vm.js";

export interface PreCopyRun {
  readonly rounds: readonly RoundReport[];
  /** The stop-and-copy round (the guest stopped). */
  readonly final: RoundReport;
  /** The guest's passes when it stopped. */
  readonly passes: number;
  readonly bytes: number;
  /** What happened to the map during the migration. */
  readonly mapChanges: readonly string[];
  /** From the guest's stop to the end of `whileStopped` (the destination's commit, in one process). */
  readonly downtimeMs: number;
}

/**
 * Migrates the running workload out of `source` into `sink`: the guest runs between rounds
 * for as long as the round took on a link of `pagesPerSlice` pages per slice of guest time
 * (so each round is shorter than the one before), the PAM segment turns to RAM after round
 * 1 and the BAR moves after round 2; then the guest stops, the stop-and-copy round goes out
 * and `whileStopped` runs (the destination commits) before the downtime clock stops.
 */
export function runPreCopy(
  source: WorkloadVm,
  sink: StreamSink,
  options: { downtimePages: number; pagesPerSlice: number; maxRounds: number },
  whileStopped: () => void = () => {},
): PreCopyRun {
  const outgoing = new OutgoingMigration(source.migratable, systemDirtyPageSource(source.migratable.system), sink, {
    downtimePages: options.downtimePages,
    maxRounds: options.maxRounds,
  });
  const mapChanges: string[] = [];
  let round: RoundReport | null = outgoing.begin();
  while (round !== null) {
    runWorkload(source.vcpu, guestTime(source, round.sent, options.pagesPerSlice));
    if (round.round === 1) {
      source.machine.setPam(true);
      mapChanges.push("after round 1: PAM 0xf0000-0xfffff from PCI (BIOS) to RAM");
    }
    if (round.round === 2) {
      source.machine.moveBar(WORKLOAD_BAR_ADDRS[1]);
      mapChanges.push(
        `after round 2: vga.vram BAR from 0x${WORKLOAD_BAR_ADDRS[0].toString(16)} to 0x${WORKLOAD_BAR_ADDRS[1].toString(16)}`,
      );
    }
    round = outgoing.iterate();
  }
  // The guest is stopped from here on: it runs only inside runWorkload.
  const stopped = performance.now();
  const passes = passesDone(source);
  const final = outgoing.complete();
  whileStopped();
  const downtimeMs = performance.now() - stopped;
  return { rounds: outgoing.rounds.slice(0, -1), final, passes, bytes: outgoing.bytes, mapChanges, downtimeMs };
}

/**
 * How long the guest runs while a round of `sent` pages crosses the link. The mock's vCPU returns after a slice of
 * instructions, so the time follows the link's speed; a real vCPU runs until the guest's next exit, so there the
 * guest makes one pass (every page it writes dirtied again) per round, and the rounds never shrink: --max-rounds
 * ends the pre-copy (where QEMU would throttle the guest: auto-converge).
 */
function guestTime(vm: WorkloadVm, sent: number, pagesPerSlice: number): { slices: number } | { passes: number } {
  return vm.backend === "native" ? { passes: 1 } : { slices: Math.max(1, Math.ceil(sent / pagesPerSlice)) };
}

export const GUEST_DESCRIPTION = `a real-mode guest rewriting 112 pages in a loop, ${SLICE_INSTRUCTIONS} instructions a slice`;

/** The guest as it runs on `vm`'s backend: on /dev/kvm there are no slices, it makes a pass between rounds. */
export function guestDescription(vm: WorkloadVm): string {
  return vm.backend === "native"
    ? "a real-mode guest rewriting 112 pages in a loop, one pass between rounds"
    : GUEST_DESCRIPTION;
}

/** The passes the guest reported done (the dword it keeps at 0x500). */
export function passesDone(vm: WorkloadVm): number {
  const bytes = vm.machine.ram.ramBlock!.bytes();
  return new DataView(bytes.buffer, bytes.byteOffset).getUint32(WORKLOAD_PASSES_DONE, true);
}
