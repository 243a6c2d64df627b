import { IncomingMigration, type IncomingStats } from "./incoming.js";
import type { MigratableMachine } from "./machine.js";
import { checkMachine, writeMachineState, writeMap } from "./outgoing.js";
import { allPages, type RamSendCount, sendRamPages } from "./ram-pages.js";
import { StreamWriter } from "./stream/writer.js";

/** What a snapshot holds, for reports. */
export interface SnapshotStats extends RamSendCount {
  bytes: number;
}

/**
 * Saves a stopped machine as one stream: MAP, the RAM of every block sparsely (zero pages
 * left out: a restored block starts zeroed), device state, vCPU state, the views, END.
 * The machine must not run meanwhile (its vCPUs are the caller's).
 */
export function saveSnapshot(machine: MigratableMachine): { bytes: Uint8Array; stats: SnapshotStats } {
  checkMachine(machine);
  const chunks: Uint8Array[] = [];
  const writer = new StreamWriter((chunk) => chunks.push(chunk));
  writeMap(writer, machine);
  const count: RamSendCount = { data: 0, zero: 0, skipped: 0 };
  for (const [index, mr] of machine.ramBlocks.entries()) {
    sendRamPages(writer, index, mr, allPages(mr.ramBlock!.size), { skipZero: true }, count);
  }
  writeMachineState(writer, machine);
  writer.end();
  const bytes = new Uint8Array(writer.bytes);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return { bytes, stats: { ...count, bytes: writer.bytes } };
}

/**
 * Restores a snapshot into a stopped machine built like the saved one (its RAM blocks are
 * zeroed first, then filled from the snapshot). Throws a MigrationError, leaving the
 * machine unfit to run, when the snapshot is corrupted, cut or of another machine.
 */
export function loadSnapshot(machine: MigratableMachine, bytes: Uint8Array): IncomingStats {
  const incoming = new IncomingMigration(machine);
  incoming.push(bytes);
  incoming.finish();
  return incoming.stats;
}
