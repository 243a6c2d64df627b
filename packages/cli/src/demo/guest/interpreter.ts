/**
 * A tiny 16-bit real-mode CPU for the mock backend: it runs the demo guest's own bytes,
 * so the mock path exercises exactly the accesses the real guest makes. It knows only
 * the instructions demo-guest.S uses and stops on anything else.
 */

/** Where the interpreted guest's accesses go (the mock kernel, then userspace on an exit). */
export interface SimulatedBus {
  /** Instruction fetch and data reads. */
  read(addr: bigint, size: number): bigint;
  write(addr: bigint, size: number, value: bigint): void;
  in(port: number, size: number): bigint;
  out(port: number, size: number, value: bigint): void;
}

export interface CpuState {
  /** Linear address of the first instruction (CS base 0). */
  readonly ip: number;
  /** Hidden base of FS (the host points it at a BAR). */
  readonly fsBase: bigint;
}

export type CpuStop = { readonly reason: "hlt"; readonly instructions: number };

export class UnsupportedInstructionError extends Error {
  override name = "UnsupportedInstructionError";
}

const MAX_INSTRUCTIONS = 1_000_000;

export function runSimulatedCpu(bus: SimulatedBus, state: CpuState): CpuStop {
  let ip = state.ip;
  let eax = 0;
  let cx = 0;
  let dx = 0;
  let si = 0;
  let di = 0;
  let zf = false;
  let esBase = 0n;
  const fsBase = state.fsBase;
  const fetch8 = (): number => Number(bus.read(BigInt(ip++), 1));
  const fetch16 = (): number => {
    const v = Number(bus.read(BigInt(ip), 2));
    ip += 2;
    return v;
  };
  const fetch32 = (): bigint => {
    const v = bus.read(BigInt(ip), 4);
    ip += 4;
    return v;
  };
  const rel8 = (): number => (fetch8() << 24) >> 24;
  const al = (): number => eax & 0xff;
  const setAl = (v: number): void => {
    eax = (eax & ~0xff) | (v & 0xff);
  };

  for (let count = 1; count <= MAX_INSTRUCTIONS; count++) {
    const at = ip;
    let seg: bigint | null = null;
    let opsize32 = false;
    let op = fetch8();
    for (;;) {
      if (op === 0x64) seg = fsBase;
      else if (op === 0x26) seg = esBase;
      else if (op === 0x66) opsize32 = true;
      else break;
      op = fetch8();
    }
    const ea = (offset: number): bigint => (seg ?? 0n) + BigInt(offset);
    const wsize = opsize32 ? 4 : 2;
    switch (op) {
      case 0xb0:
        setAl(fetch8());
        break;
      case 0xb8:
        eax = (eax & ~0xffff) | fetch16();
        break;
      case 0xb9:
        cx = fetch16();
        break;
      case 0xba:
        dx = fetch16();
        break;
      case 0xbe:
        si = fetch16();
        break;
      case 0xbf:
        di = fetch16();
        break;
      case 0x88: {
        const modrm = fetch8();
        if (modrm === 0xc4) eax = (eax & ~0xff00) | (al() << 8);
        else if (modrm === 0xe0) setAl((eax >> 8) & 0xff);
        else throw unsupported(at, op);
        break;
      }
      case 0x8e:
        if (fetch8() !== 0xc0) throw unsupported(at, op);
        esBase = BigInt(eax & 0xffff) << 4n;
        break;
      case 0xe6:
        bus.out(fetch8(), 1, BigInt(al()));
        break;
      case 0xee:
        bus.out(dx, 1, BigInt(al()));
        break;
      case 0xec:
        setAl(Number(bus.in(dx, 1)));
        break;
      case 0xfc:
        break; // cld: the guest only copies forwards
      case 0xf3:
        if (fetch8() !== 0xa4) throw unsupported(at, op);
        for (; cx > 0; cx--) bus.write(BigInt(di++), 1, bus.read(BigInt(si++), 1));
        break;
      case 0xac:
        setAl(Number(bus.read(BigInt(si++), 1)));
        break;
      case 0x84:
        if (fetch8() !== 0xc0) throw unsupported(at, op);
        zf = al() === 0;
        break;
      case 0xa8:
        zf = (al() & fetch8()) === 0;
        break;
      case 0x74: {
        const d = rel8();
        if (zf) ip += d;
        break;
      }
      case 0xeb: {
        const d = rel8();
        ip += d;
        break;
      }
      case 0xa0:
        setAl(Number(bus.read(ea(fetch16()), 1)));
        break;
      case 0xa1: {
        const v = Number(bus.read(ea(fetch16()), wsize));
        eax = opsize32 ? v : (eax & ~0xffff) | v;
        break;
      }
      case 0xa2:
        bus.write(ea(fetch16()), 1, BigInt(al()));
        break;
      case 0xa3:
        bus.write(ea(fetch16()), wsize, BigInt(opsize32 ? eax >>> 0 : eax & 0xffff));
        break;
      case 0xc6:
      case 0xc7: {
        if (fetch8() !== 0x06) throw unsupported(at, op);
        const addr = ea(fetch16());
        const size = op === 0xc6 ? 1 : wsize;
        const value = size === 4 ? fetch32() : BigInt(size === 2 ? fetch16() : fetch8());
        bus.write(addr, size, value);
        break;
      }
      case 0xf4:
        return { reason: "hlt", instructions: count };
      default:
        throw unsupported(at, op);
    }
  }
  throw new UnsupportedInstructionError(`the guest ran ${MAX_INSTRUCTIONS} instructions without halting`);
}

function unsupported(at: number, op: number): UnsupportedInstructionError {
  return new UnsupportedInstructionError(
    `opcode 0x${op.toString(16)} at 0x${at.toString(16)} is not one the demo guest uses`,
  );
}
