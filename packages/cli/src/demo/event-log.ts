import { hex16 } from "@memtopo/qemu-text";
import type { EventNotifier } from "@memtopo/region-tree";

/** The part of a MemoryRegionSection the log prints. */
interface Section {
  readonly mr: { readonly name: string | null; type(): string } | null;
  readonly offsetWithinRegion: bigint;
  readonly offsetWithinAddressSpace: bigint;
  readonly size: bigint;
  readonly readonly: boolean;
}

/** One listener callback, as the demo prints it and as `--json` emits it. */
export interface ListenerEvent {
  readonly event: string;
  readonly as: string;
  readonly start?: string;
  readonly size?: string;
  readonly region?: string | null;
  readonly offset?: string;
  readonly readonly?: boolean;
  readonly datamatch?: string | null;
}

/**
 * A MemoryListener that writes down what it is told, in QEMU's callback names. It is an
 * ordinary listener: the system calls it in priority order like any other.
 */
export class RecordingListener {
  readonly name = "demo-recorder";
  readonly priority = 0;
  events: ListenerEvent[] = [];

  constructor(readonly as: string) {}

  take(): ListenerEvent[] {
    const events = this.events;
    this.events = [];
    return events;
  }

  begin(): void {
    this.events.push({ event: "begin", as: this.as });
  }
  commit(): void {
    this.events.push({ event: "commit", as: this.as });
  }
  regionAdd(s: Section): void {
    this.#range("region_add", s);
  }
  regionDel(s: Section): void {
    this.#range("region_del", s);
  }
  regionNop(s: Section): void {
    this.#range("region_nop", s);
  }
  logStart(s: Section): void {
    this.#range("log_start", s);
  }
  logStop(s: Section): void {
    this.#range("log_stop", s);
  }
  eventfdAdd(s: Section, matchData: boolean, data: bigint, _e: EventNotifier): void {
    this.#eventfd("eventfd_add", s, matchData, data);
  }
  eventfdDel(s: Section, matchData: boolean, data: bigint, _e: EventNotifier): void {
    this.#eventfd("eventfd_del", s, matchData, data);
  }

  #range(event: string, s: Section): void {
    this.events.push({
      event,
      as: this.as,
      start: `0x${s.offsetWithinAddressSpace.toString(16)}`,
      size: `0x${s.size.toString(16)}`,
      region: s.mr?.name ?? null,
      offset: `0x${s.offsetWithinRegion.toString(16)}`,
      readonly: s.readonly,
    });
  }

  #eventfd(event: string, s: Section, matchData: boolean, data: bigint): void {
    this.events.push({
      event,
      as: this.as,
      start: `0x${s.offsetWithinAddressSpace.toString(16)}`,
      size: `0x${s.size.toString(16)}`,
      datamatch: matchData ? `0x${data.toString(16)}` : null,
    });
  }
}

/**
 * Lines for people: `region_nop` runs collapse into one line (QEMU says nop for every range
 * that stayed, which is most of them).
 */
export function formatEvents(events: readonly ListenerEvent[]): string[] {
  const out: string[] = [];
  let nops = 0;
  const flush = (): void => {
    if (nops > 0) out.push(`  region_nop   ×${nops} (ranges that stayed)`);
    nops = 0;
  };
  for (const e of events) {
    if (e.event === "region_nop") {
      nops++;
      continue;
    }
    flush();
    if (e.start === undefined) {
      out.push(`  ${e.event}`);
      continue;
    }
    const start = BigInt(e.start);
    const end = start + BigInt(e.size!) - 1n;
    let line = `  ${e.event.padEnd(12)} ${e.as.padEnd(6)} ${hex16(start)}-${hex16(end)}`;
    if (e.event.startsWith("eventfd")) {
      line += e.datamatch === null ? " any value" : ` data ${e.datamatch}`;
    } else {
      line += ` ${e.region ?? "(null)"}`;
      if (e.offset !== "0x0") line += ` @${e.offset}`;
      if (e.readonly === true) line += " (read-only)";
    }
    out.push(line);
  }
  flush();
  return out;
}
