import type { PitChannelState, PitState } from "@memtopo/kvm";

/** The 8254's input clock. */
const PIT_HZ = 1_193_182;
const NS_PER_S = 1_000_000_000;

const RW_LSB = 1;
const RW_MSB = 2;
const RW_WORD0 = 3;
const RW_WORD1 = 4;

function ticksSince(loadTime: bigint, now: number): number {
  return Math.floor(((now - Number(loadTime)) * PIT_HZ) / NS_PER_S);
}

/**
 * KVM's in-kernel 8254 (arch/x86/kvm/i8254.c behaviour) on the VM's virtual clock: ports
 * 0x40-0x43 (and 0x61 for channel 2's gate), counts that run down with time, and channel 0
 * raising GSI 0 (an edge) each period in modes 2 and 3, once in mode 0. Ticks the guest has
 * not taken yet are coalesced by the PIC, not re-injected one by one as KVM's reinject mode
 * would.
 */
export class Pit {
  state: PitState;
  /** Virtual-clock time (ns) of channel 0's next interrupt, or null when it is not armed. */
  #deadline: number | null = null;
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
    const channel = (i: number): PitChannelState => ({
      count: 0x10000,
      latchedCount: 0,
      countLatched: 0,
      statusLatched: 0,
      status: 0,
      readState: 0,
      writeState: 0,
      writeLatch: 0,
      rwMode: 0,
      mode: 0xff,
      bcd: 0,
      gate: i !== 2 ? 1 : 0,
      countLoadTime: BigInt(Math.floor(now())),
    });
    this.state = { channels: [channel(0), channel(1), channel(2)], flags: 0 };
  }

  get(): PitState {
    const [a, b, c] = this.state.channels;
    return { channels: [{ ...a }, { ...b }, { ...c }], flags: this.state.flags };
  }

  set(state: PitState): void {
    const [a, b, c] = state.channels;
    this.state = { channels: [{ ...a }, { ...b }, { ...c }], flags: state.flags };
    this.#arm();
  }

  static claims(port: number): boolean {
    return (port >= 0x40 && port <= 0x43) || port === 0x61;
  }

  /** Time (ns) of the next timer interrupt, for a halted vCPU to sleep until. */
  get deadline(): number | null {
    return this.#deadline;
  }

  /** Called as virtual time passes: true when channel 0's output fired since the last call. */
  expired(now: number): boolean {
    if (this.#deadline === null || now < this.#deadline) return false;
    const c = this.state.channels[0];
    if (c.mode === 2 || c.mode === 3) {
      const period = this.#period(c);
      const missed = Math.floor((now - this.#deadline) / period) + 1;
      this.#deadline += missed * period;
    } else this.#deadline = null;
    return true;
  }

  read(port: number): number {
    if (port === 0x61) {
      // Speaker port: channel 2's gate in bit 0, its output in bit 5 (refresh toggling left out).
      const c2 = this.state.channels[2];
      return (c2.gate & 1) | (this.#output(2) ? 0x20 : 0);
    }
    if (port === 0x43) return 0xff; // the control word register cannot be read
    const c = this.state.channels[port - 0x40]!;
    if (c.statusLatched !== 0) {
      c.statusLatched = 0;
      return c.status;
    }
    if (c.countLatched !== 0) {
      switch (c.countLatched) {
        case RW_MSB:
          c.countLatched = 0;
          return (c.latchedCount >> 8) & 0xff;
        case RW_WORD0:
          c.countLatched = RW_MSB;
          return c.latchedCount & 0xff;
        default:
          c.countLatched = 0;
          return c.latchedCount & 0xff;
      }
    }
    const count = this.#currentCount(port - 0x40);
    switch (c.readState) {
      case RW_MSB:
        return (count >> 8) & 0xff;
      case RW_WORD0:
        c.readState = RW_WORD1;
        return count & 0xff;
      case RW_WORD1:
        c.readState = RW_WORD0;
        return (count >> 8) & 0xff;
      default:
        return count & 0xff;
    }
  }

  write(port: number, value: number): void {
    const v = value & 0xff;
    if (port === 0x61) {
      this.state.channels[2].gate = v & 1;
      return;
    }
    if (port === 0x43) {
      const channel = v >> 6;
      if (channel === 3) {
        // Read-back: latch count and/or status of the selected channels.
        for (let i = 0; i < 3; i++) {
          if ((v & (2 << i)) === 0) continue;
          const c = this.state.channels[i]!;
          if ((v & 0x20) === 0) this.#latchCount(i);
          if ((v & 0x10) === 0 && c.statusLatched === 0) {
            c.status = (this.#output(i) ? 0x80 : 0) | (c.rwMode << 4) | (c.mode << 1) | c.bcd;
            c.statusLatched = 1;
          }
        }
        return;
      }
      const c = this.state.channels[channel]!;
      const access = (v >> 4) & 3;
      if (access === 0) {
        this.#latchCount(channel);
        return;
      }
      c.rwMode = access;
      c.readState = access;
      c.writeState = access;
      c.mode = (v >> 1) & 7;
      if (c.mode > 5) c.mode -= 4;
      c.bcd = v & 1;
      return;
    }
    const index = port - 0x40;
    const c = this.state.channels[index]!;
    switch (c.writeState) {
      case RW_LSB:
        this.#load(index, v);
        break;
      case RW_MSB:
        this.#load(index, v << 8);
        break;
      case RW_WORD0:
        c.writeLatch = v;
        c.writeState = RW_WORD1;
        break;
      default:
        this.#load(index, c.writeLatch | (v << 8));
        c.writeState = RW_WORD0;
    }
  }

  #latchCount(i: number): void {
    const c = this.state.channels[i]!;
    if (c.countLatched !== 0) return;
    c.latchedCount = this.#currentCount(i);
    c.countLatched = c.rwMode;
  }

  #load(i: number, value: number): void {
    const c = this.state.channels[i]!;
    c.count = value === 0 ? 0x10000 : value;
    c.countLoadTime = BigInt(Math.floor(this.#now()));
    if (i === 0) this.#arm();
  }

  #period(c: PitChannelState): number {
    return Math.max(1, (c.count * NS_PER_S) / PIT_HZ);
  }

  #arm(): void {
    const c = this.state.channels[0];
    const modeFires = c.mode === 0 || c.mode === 2 || c.mode === 3 || c.mode === 4;
    this.#deadline = modeFires ? Number(c.countLoadTime) + this.#period(c) : null;
  }

  #currentCount(i: number): number {
    const c = this.state.channels[i]!;
    const d = ticksSince(c.countLoadTime, this.#now());
    switch (c.mode) {
      case 2:
        return c.count - (d % c.count);
      case 3:
        return c.count - ((2 * d) % c.count);
      default:
        return (c.count - d) & 0xffff;
    }
  }

  #output(i: number): boolean {
    const c = this.state.channels[i]!;
    const d = ticksSince(c.countLoadTime, this.#now());
    switch (c.mode) {
      case 0:
        return d >= c.count;
      case 1:
        return d < c.count;
      case 2:
        return d % c.count !== 0 || d === 0;
      case 3:
        return d % c.count < (c.count + 1) >> 1;
      default:
        return d !== c.count;
    }
  }
}
