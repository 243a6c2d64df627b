/**
 * An independent, deliberately naive model of the kernel rules the mock implements, for
 * property tests: memslots as page-number sets, each rule one line of a decision list, the
 * ioeventfd collision rule spelled out case by case. Only small inputs (addresses below 2^32,
 * one 4 KiB page size, user addresses below the limit) are fed to it.
 */

const PAGE = 4096;

export interface OracleConfig {
  readonly nrMemslots: number;
  readonly addressSpaces: number;
  readonly readonlyMem: boolean;
  readonly anyLength: boolean;
}

export interface OracleSlot {
  gpa: number;
  size: number;
  uaddr: number;
  flags: number;
  dirty: Set<number> | null;
}

interface OracleIoeventfd {
  bus: string;
  addr: number;
  len: number;
  datamatch: number | null;
  notifier: number;
}

export type Outcome = "ok" | string;

export class KernelOracle {
  readonly slots = new Map<number, OracleSlot>();
  ioeventfds: OracleIoeventfd[] = [];

  constructor(readonly config: OracleConfig) {}

  setRegion(slot: number, flags: number, gpa: number, size: number, uaddr: number): Outcome {
    const id = slot % 65536;
    const as = Math.floor(slot / 65536);
    const allowed = this.config.readonlyMem ? [0, 1, 2, 3] : [0, 1];
    const rules: Array<[boolean, string]> = [
      [id >= this.config.nrMemslots, "EINVAL"],
      [!allowed.includes(flags), "EINVAL"],
      [size % PAGE !== 0 || gpa % PAGE !== 0 || uaddr % PAGE !== 0, "EINVAL"],
      [as >= this.config.addressSpaces, "EINVAL"],
    ];
    for (const [broken, errno] of rules) if (broken) return errno;

    const old = this.slots.get(slot);
    if (size === 0) {
      if (!old) return "EINVAL";
      this.slots.delete(slot);
      return "ok";
    }
    if (old) {
      if (old.uaddr !== uaddr || old.size !== size) return "EINVAL";
      if ((old.flags & 2) !== (flags & 2)) return "EINVAL";
      if (old.gpa === gpa && old.flags === flags) return "ok";
    }
    if (!old || old.gpa !== gpa) {
      const mine = pages(gpa, size);
      for (const [otherSlot, other] of this.slots) {
        if (otherSlot === slot || Math.floor(otherSlot / 65536) !== as) continue;
        for (const p of pages(other.gpa, other.size)) if (mine.has(p)) return "EEXIST";
      }
    }
    const logs = (flags & 1) === 1;
    const dirty = logs ? (old?.dirty ?? new Set<number>()) : null;
    this.slots.set(slot, { gpa, size, uaddr, flags, dirty });
    return "ok";
  }

  ioeventfd(notifier: number, known: boolean, addr: number, len: number, flags: number, datamatch: number): Outcome {
    const bus = flags & 2 ? "pio" : "mmio";
    const matchesData = (flags & 1) === 1;
    if (flags & 4) {
      if (!known) return "EBADF";
      const i = this.ioeventfds.findIndex(
        (e) =>
          e.bus === bus &&
          e.notifier === notifier &&
          e.addr === addr &&
          e.len === len &&
          (e.datamatch === null) === !matchesData &&
          (e.datamatch === null || e.datamatch === datamatch),
      );
      if (i < 0) return "ENOENT";
      this.ioeventfds.splice(i, 1);
      return "ok";
    }
    if (![0, 1, 2, 4, 8].includes(len)) return "EINVAL";
    if (len === 0 && !this.config.anyLength) return "EINVAL";
    if (len === 0 && matchesData) return "EINVAL";
    if (!known) return "EBADF";
    for (const e of this.ioeventfds) {
      if (e.bus !== bus || e.addr !== addr) continue;
      if (e.len === 0 || len === 0) return "EEXIST";
      if (e.len !== len) continue;
      if (e.datamatch === null || !matchesData) return "EEXIST";
      if (e.datamatch === datamatch) return "EEXIST";
    }
    this.ioeventfds.push({ bus, addr, len, datamatch: matchesData ? datamatch : null, notifier });
    return "ok";
  }

  getDirtyLog(slot: number): Outcome | number[] {
    if (slot % 65536 >= this.config.nrMemslots || Math.floor(slot / 65536) >= this.config.addressSpaces) {
      return "EINVAL";
    }
    const s = this.slots.get(slot);
    if (!s?.dirty) return "ENOENT";
    const out = [...s.dirty].sort((a, b) => a - b);
    s.dirty.clear();
    return out;
  }

  /** A one-byte guest store in address space 0: "ram", "ioeventfd:<notifier>" or "mmio-exit". */
  guestWrite(gpa: number, value: number): string {
    for (const [slot, s] of this.slots) {
      if (slot >= 65536 || gpa < s.gpa || gpa >= s.gpa + s.size) continue;
      if (s.flags & 2) break;
      s.dirty?.add(Math.floor((gpa - s.gpa) / PAGE));
      return "ram";
    }
    for (const e of this.ioeventfds) {
      if (e.bus !== "mmio" || e.addr !== gpa) continue;
      if (e.len === 0 || (e.len === 1 && (e.datamatch === null || e.datamatch === value))) {
        return `ioeventfd:${e.notifier}`;
      }
    }
    return "mmio-exit";
  }

  /** The live slots as comparable tuples. */
  slotTuples(): Array<[number, number, number, number, number]> {
    return [...this.slots.entries()]
      .map(([slot, s]): [number, number, number, number, number] => [slot, s.gpa, s.size, s.uaddr, s.flags])
      .sort((a, b) => a[0] - b[0]);
  }
}

function pages(gpa: number, size: number): Set<number> {
  const out = new Set<number>();
  for (let p = gpa / PAGE; p < (gpa + size) / PAGE; p++) out.add(p);
  return out;
}
