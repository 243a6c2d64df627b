import type { MemoryListener, MemoryRegionSection } from "../src/index.js";

const h = (v: bigint): string => v.toString(16);
const sec = (s: MemoryRegionSection): string =>
  `${h(s.offsetWithinAddressSpace)}+${h(s.size)} ${s.mr?.name ?? "-"}@${h(s.offsetWithinRegion)}`;

/** A listener that appends `name:event section` to a shared log. */
export function logListener(log: string[], name: string, priority?: number): MemoryListener {
  const put = (t: string) => log.push(`${name}:${t}`);
  return {
    name,
    ...(priority === undefined ? {} : { priority }),
    begin: () => put("begin"),
    commit: () => put("commit"),
    regionAdd: (s) => put(`add ${sec(s)}`),
    regionDel: (s) => put(`del ${sec(s)}`),
    regionNop: (s) => put(`nop ${sec(s)}`),
    logStart: (s, o, n) => put(`log_start ${sec(s)} ${o}->${n}`),
    logStop: (s, o, n) => put(`log_stop ${sec(s)} ${o}->${n}`),
    logGlobalStart: () => put("log_global_start"),
    eventfdAdd: (s, m, d) => put(`eventfd_add ${h(s.offsetWithinAddressSpace)}${m ? `=${h(d)}` : ""}`),
    eventfdDel: (s, m, d) => put(`eventfd_del ${h(s.offsetWithinAddressSpace)}${m ? `=${h(d)}` : ""}`),
    coalescedIoAdd: (s, addr, len) => put(`coalesced_add ${h(addr)}+${h(len)} in ${sec(s)}`),
    coalescedIoDel: (s, addr, len) => put(`coalesced_del ${h(addr)}+${h(len)} in ${sec(s)}`),
  };
}
