import type { MemoryListener, MemoryRegionSection } from "@memtopo/listener-bus";
import type { EventNotifier } from "@memtopo/region-tree";

const h = (v: bigint): string => v.toString(16);

function sec(s: MemoryRegionSection): string {
  const end = s.offsetWithinAddressSpace + s.size;
  const name = s.mr === null ? "-" : (s.mr.name ?? "(null)");
  return `${h(s.offsetWithinAddressSpace)}-${h(end)} ${name}@${h(s.offsetWithinRegion)}${s.readonly ? " ro" : ""}`;
}

function fd(s: MemoryRegionSection, matchData: boolean, data: bigint, e: EventNotifier): string {
  return `${h(s.offsetWithinAddressSpace)}/${h(s.size)}${matchData ? `=${h(data)}` : ""} e${e.id}`;
}

/**
 * A listener that writes every callback into a shared log as `name:event args`, so tests
 * can compare whole call streams (several listeners, one log) with QEMU's order.
 */
export function recorder(log: string[], name: string, priority = 0): MemoryListener {
  const put = (text: string): void => {
    log.push(`${name}:${text}`);
  };
  return {
    name,
    priority,
    begin: () => put("begin"),
    commit: () => put("commit"),
    regionAdd: (s) => put(`add ${sec(s)}`),
    regionDel: (s) => put(`del ${sec(s)}`),
    regionNop: (s) => put(`nop ${sec(s)}`),
    logStart: (s, o, n) => put(`log_start ${sec(s)} ${o}->${n}`),
    logStop: (s, o, n) => put(`log_stop ${sec(s)} ${o}->${n}`),
    logGlobalStart: () => put("log_global_start"),
    logGlobalStop: () => put("log_global_stop"),
    eventfdAdd: (s, m, d, e) => put(`eventfd_add ${fd(s, m, d, e)}`),
    eventfdDel: (s, m, d, e) => put(`eventfd_del ${fd(s, m, d, e)}`),
  };
}

let nextNotifierId = 1000;

/** An EventNotifier that counts its signals. */
export function notifier(): EventNotifier & { signals: number } {
  const n = {
    id: nextNotifierId++,
    signals: 0,
    signal(): void {
      n.signals++;
    },
  };
  return n;
}
