import type { MemoryRegion } from "@memtopo/region-tree";
import type { DirtyPageSource } from "./dirty-source.js";
import { MigrationError } from "./errors.js";
import type { MigratableMachine } from "./machine.js";
import { checkMachine, writeMachineState, writeMap, writeRound } from "./outgoing.js";
import { allPages, type RamSendCount, sendRamPages } from "./ram-pages.js";
import { type StreamSink, StreamWriter } from "./stream/writer.js";

export interface PreCopyOptions {
  /**
   * The most pages the stop-and-copy phase may send: once a sync finds no more dirty pages
   * than this, the source should stop (QEMU's threshold, bandwidth × downtime limit, in pages).
   */
  readonly downtimePages: number;
  /** Rounds after which the migration converges whatever is dirty (QEMU has no such cap; a demo needs one). */
  readonly maxRounds?: number;
}

/** One round of pre-copy as reported. */
export interface RoundReport {
  /** 1 for the first (whole RAM) round. */
  readonly round: number;
  /** Pages the round found to send. */
  readonly dirty: number;
  /** Pages sent: data and zero markers (zero pages left out of round 1 not counted). */
  readonly sent: number;
  readonly bytes: number;
  readonly ms: number;
}

export type OutgoingPhase = "idle" | "iterating" | "converged" | "completed" | "failed";

/**
 * The source side of a pre-copy live migration (QEMU's `migration_thread` with RAM's
 * `save_setup`/`save_live_iterate`/`save_live_complete_precopy`), driven step by step so
 * that the guest runs between the steps: {@link begin} sends the map and every non-zero
 * page and starts dirty logging; each {@link iterate} syncs the log and resends what the
 * guest wrote, until the rest fits the downtime budget; then the caller stops the guest and
 * calls {@link complete}, which sends the last dirty pages, device and vCPU state, the
 * views and END. Map changes in between (PAM, BARs) are fine: pages are tracked per RAM
 * block, not per slot.
 */
export class OutgoingMigration {
  readonly #machine: MigratableMachine;
  readonly #dirty: DirtyPageSource;
  readonly #writer: StreamWriter;
  readonly #options: Required<PreCopyOptions>;
  readonly #rounds: RoundReport[] = [];
  #pending = new Map<MemoryRegion, bigint[]>();
  #phase: OutgoingPhase = "idle";

  constructor(machine: MigratableMachine, dirty: DirtyPageSource, sink: StreamSink, options: PreCopyOptions) {
    checkMachine(machine);
    if (!Number.isSafeInteger(options?.downtimePages) || options.downtimePages < 0) {
      throw new MigrationError("E_INVALID_ARGUMENT", "downtimePages must be a non-negative integer", {
        path: "options.downtimePages",
      });
    }
    const maxRounds = options.maxRounds ?? 30;
    if (!Number.isSafeInteger(maxRounds) || maxRounds < 1) {
      throw new MigrationError("E_INVALID_ARGUMENT", "maxRounds must be a positive integer", {
        path: "options.maxRounds",
      });
    }
    this.#machine = machine;
    this.#dirty = dirty;
    this.#options = { downtimePages: options.downtimePages, maxRounds };
    this.#writer = new StreamWriter(sink);
  }

  get phase(): OutgoingPhase {
    return this.#phase;
  }

  get rounds(): readonly RoundReport[] {
    return this.#rounds;
  }

  /** Bytes written to the sink so far. */
  get bytes(): number {
    return this.#writer.bytes;
  }

  /** Pages a sync found that are still to send (known after the round that converged). */
  get pendingPages(): number {
    let n = 0;
    for (const pages of this.#pending.values()) n += pages.length;
    return n;
  }

  /** Round 1: MAP, then every non-zero page of every block; dirty logging starts first so nothing written meanwhile is lost. */
  begin(): RoundReport {
    this.#expect("idle", "begin");
    return this.#step(() => {
      writeMap(this.#writer, this.#machine);
      this.#dirty.start();
      return this.#round((send) => {
        for (const [index, mr] of this.#machine.ramBlocks.entries()) send(index, mr, allPages(mr.ramBlock!.size), true);
      });
    });
  }

  /**
   * Syncs the dirty log. When the pages found fit the downtime budget (or the round cap is
   * reached), keeps them for {@link complete} and returns null: stop the guest now. Otherwise
   * sends them as the next round and returns its report.
   */
  iterate(): RoundReport | null {
    this.#expect("iterating", "iterate");
    return this.#step(() => {
      const dirty = this.#dirty.take(this.#machine.ramBlocks);
      let count = 0;
      for (const pages of dirty.values()) count += pages.length;
      if (count <= this.#options.downtimePages || this.#rounds.length >= this.#options.maxRounds) {
        this.#pending = dirty;
        this.#phase = "converged";
        return null;
      }
      return this.#round((send) => this.#sendDirty(dirty, send));
    });
  }

  /**
   * The stop-and-copy phase, with the guest stopped: the pages still dirty, then device
   * and vCPU state, the views and END; dirty logging stops. Returns the pages it sent.
   */
  complete(): RoundReport {
    if (this.#phase !== "iterating" && this.#phase !== "converged") this.#expect("converged", "complete");
    return this.#step(() => {
      const last = this.#dirty.take(this.#machine.ramBlocks, true);
      for (const [mr, pages] of this.#pending) last.set(mr, [...new Set([...(last.get(mr) ?? []), ...pages])]);
      const report = this.#round((send) => this.#sendDirty(last, send), false);
      writeMachineState(this.#writer, this.#machine);
      this.#writer.end();
      this.#dirty.stop();
      this.#phase = "completed";
      return report;
    });
  }

  #sendDirty(dirty: ReadonlyMap<MemoryRegion, bigint[]>, send: Send): void {
    for (const [index, mr] of this.#machine.ramBlocks.entries()) {
      const pages = dirty.get(mr);
      if (pages !== undefined) send(index, mr, pages, false);
    }
  }

  #round(body: (send: Send) => void, marker = true): RoundReport {
    const started = performance.now();
    const bytesBefore = this.#writer.bytes;
    const count: RamSendCount = { data: 0, zero: 0, skipped: 0 };
    body((index, mr, offsets, skipZero) => sendRamPages(this.#writer, index, mr, offsets, { skipZero }, count));
    const round = this.#rounds.length + 1;
    const sent = count.data + count.zero;
    if (marker) writeRound(this.#writer, round, sent);
    const report: RoundReport = {
      round,
      dirty: sent + count.skipped,
      sent,
      bytes: this.#writer.bytes - bytesBefore,
      ms: performance.now() - started,
    };
    this.#rounds.push(report);
    if (this.#phase === "idle") this.#phase = "iterating";
    return report;
  }

  #expect(phase: OutgoingPhase, what: string): void {
    if (this.#phase !== phase) throw new MigrationError("E_MIGRATION_STATE", `${what}() in phase "${this.#phase}"`);
  }

  #step<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      this.#phase = "failed";
      throw error;
    }
  }
}

type Send = (index: number, mr: MemoryRegion, offsets: Iterable<bigint>, skipZero: boolean) => void;
