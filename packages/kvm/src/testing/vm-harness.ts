import { loadLe, MEMTX_OK, type MemTxResult, storeLe } from "@memtopo/region-tree";
import type { GuestBus } from "../run-vcpu.js";
import { CONFORMANCE_GUESTS, type ConformanceGuestName, GUEST_ENTRY } from "./guests.js";
import { isKvmError } from "./harness.js";
import type { ConformanceTestApi } from "./types.js";
import type { ConformanceVcpu, KvmVmConformanceEnv, KvmVmFactory } from "./vm-types.js";

/** Guest RAM of the guest cases: slot 0 at 0, 64 KiB (code at 0x1000, stack below 0x7000, data at 0x2000). */
export const LOW_RAM = 0x1_0000n;
/** Where FS points in the MMIO case: a window no slot maps. */
export const MMIO_BASE = 0xd000_0000n;

export interface VmCaseContext {
  readonly env: KvmVmConformanceEnv;
  readonly expect: ConformanceTestApi["expect"];
  /** Asserts that `call` fails with a KvmError whose code is `errno`. */
  fails(errno: string, call: () => unknown, what: string): void;
  /**
   * Maps 64 KiB of RAM at 0 holding the named guest at 0x1000, creates vCPU 0 and puts it
   * in real mode at the guest's entry; returns the vCPU and the RAM's bytes.
   */
  loadGuest(name: ConformanceGuestName): { vcpu: ConformanceVcpu; ram: Uint8Array };
}

export type VmCaseBody = (ctx: VmCaseContext) => Promise<void> | void;

/** Registers one case that runs `body` on a fresh VM and always cleans it up. */
export function defineVmCase(api: ConformanceTestApi, factory: KvmVmFactory, name: string, body: VmCaseBody): void {
  api.it(name, async () => {
    const env = await factory.create();
    try {
      await body({
        env,
        expect: api.expect,
        fails: (errno, call, what) => {
          let code: string;
          try {
            call();
            code = "success";
          } catch (error) {
            if (!isKvmError(error)) throw error;
            code = error.code;
          }
          api.expect(code, what).toBe(errno);
        },
        loadGuest: (guestName) => loadGuest(env, guestName),
      });
    } finally {
      await env.cleanup();
    }
  });
}

function loadGuest(env: KvmVmConformanceEnv, name: ConformanceGuestName): { vcpu: ConformanceVcpu; ram: Uint8Array } {
  const block = env.ram.allocate("conformance-guest", LOW_RAM);
  const ram = block.bytes();
  ram.set(CONFORMANCE_GUESTS[name], GUEST_ENTRY);
  env.vm.setUserMemoryRegion({
    slot: 0,
    flags: 0,
    guestPhysAddr: 0n,
    memorySize: LOW_RAM,
    userspaceAddr: block.hostAddr,
  });
  const vcpu = env.createVcpu(0);
  enterRealMode(vcpu, GUEST_ENTRY);
  return { vcpu, ram };
}

/** Real mode with every segment at base 0 (FS at `fsBase`), IP at `entry`, FLAGS 2, SP 0x7000. */
export function enterRealMode(vcpu: ConformanceVcpu, entry: number, fsBase = 0n): void {
  const sregs = vcpu.getSregs();
  for (const name of ["cs", "ds", "es", "fs", "gs", "ss"] as const) {
    sregs[name] = {
      ...sregs[name],
      base: name === "fs" ? fsBase : 0n,
      selector: 0,
      limit: 0xffff,
      present: 1,
      s: 1,
      dpl: 0,
      db: 0,
      l: 0,
      g: 0,
      unusable: 0,
      type: name === "cs" ? 11 : 3,
    };
  }
  sregs.cr0 &= ~1n;
  vcpu.setSregs(sregs);
  const regs = vcpu.getRegs();
  for (const name of Object.keys(regs) as (keyof typeof regs)[]) regs[name] = 0n;
  regs.rip = BigInt(entry);
  regs.rsp = 0x7000n;
  regs.rflags = 2n;
  vcpu.setRegs(regs);
}

/** One access a guest made that reached user space. */
export interface SeenAccess {
  readonly kind: "read" | "write";
  readonly addr: bigint;
  readonly size: number;
  readonly value: bigint;
}

/**
 * A bus that writes down every access, answers reads from `answers` (by address; 0
 * otherwise) and hands writes to `onWrite` (the port cases' "ready" and "done" hooks).
 */
export function recordingBus(
  seen: SeenAccess[],
  answers: ReadonlyMap<bigint, bigint> = new Map(),
  onWrite: (addr: bigint, value: bigint) => void = () => {},
): GuestBus {
  return {
    read(addr: bigint, data: Uint8Array): MemTxResult {
      const value = answers.get(addr) ?? 0n;
      storeLe(data, 0, data.length, value);
      seen.push({ kind: "read", addr, size: data.length, value });
      return MEMTX_OK;
    },
    write(addr: bigint, data: Uint8Array): MemTxResult {
      const value = loadLe(data);
      seen.push({ kind: "write", addr, size: data.length, value });
      onWrite(addr, value);
      return MEMTX_OK;
    },
  };
}
