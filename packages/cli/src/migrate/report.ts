import type { IncomingMigration, MigratableMachine } from "@memtopo/migration";
import type { PreCopyRun } from "./precopy-run.js";

/** The page-by-page comparison of every RAM block: pages compared, and the first that differs (or null). */
export function comparePages(
  a: MigratableMachine,
  b: MigratableMachine,
): { pages: number; firstDifference: string | null } {
  let pages = 0;
  for (const [i, mr] of a.ramBlocks.entries()) {
    const x = mr.ramBlock!.bytes();
    const y = b.ramBlocks[i]!.ramBlock!.bytes();
    for (let at = 0; at < x.length; at += 4096) {
      pages++;
      if (Buffer.compare(x.subarray(at, at + 4096), y.subarray(at, at + 4096)) !== 0) {
        return { pages, firstDifference: `${mr.name} page 0x${at.toString(16)}` };
      }
    }
  }
  return { pages, firstDifference: null };
}

/** The rounds as lines of text. */
export function roundLines(run: PreCopyRun): string[] {
  const lines = run.rounds.map(
    (r) =>
      `  round ${String(r.round).padStart(2)}: ${String(r.sent).padStart(4)} pages sent, ${String(r.bytes).padStart(7)} bytes${r.round === 1 ? " (all RAM; zero pages left out)" : ""}`,
  );
  lines.push(`  stop-and-copy: ${run.final.sent} pages, then vCPU state, device state and the views`);
  return lines;
}

export function incomingLine(incoming: IncomingMigration): string {
  const s = incoming.stats;
  return `destination: ${incoming.state}; received ${s.bytes} bytes: ${s.pages} pages, ${s.zeroPages} zero pages, ${s.rounds.length} rounds, ${s.devices} device and ${s.vcpus} vCPU states`;
}
