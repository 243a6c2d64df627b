import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { MEMTX_OK, type MemTxResult, type RamBacking } from "@memtopo/region-tree";
import { enterRealMode, type GuestBus, isAvailable, NativeKvm, type Vcpu } from "../src/index.js";

const guestsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "guests");

/** Whether guests can run here; the reason is printed once so a skip is never silent. */
export const kvm = isAvailable();
if (!kvm.ok) console.warn(`[kvm-native] guest tests skipped: ${kvm.reason}: ${kvm.detail}`);

/** Assembles test/guests/<name>.S with binutils (as, objcopy), cached by content. */
export function guest(name: string, bits: 32 | 64 = 32): Uint8Array {
  const source = path.join(guestsDir, `${name}.S`);
  const hash = crypto.createHash("sha256").update(fs.readFileSync(source)).digest("hex").slice(0, 16);
  const dir = path.join(os.tmpdir(), "memtopo-kvm-native-guests");
  const bin = path.join(dir, `${name}-${bits}-${hash}.bin`);
  if (!fs.existsSync(bin)) {
    fs.mkdirSync(dir, { recursive: true });
    const obj = `${bin}.${process.pid}.o`;
    execFileSync("as", [`--${bits}`, "-o", obj, source]);
    execFileSync("objcopy", ["-O", "binary", "-j", ".text", obj, `${bin}.${process.pid}`]);
    fs.renameSync(`${bin}.${process.pid}`, bin);
    fs.rmSync(obj, { force: true });
  }
  return new Uint8Array(fs.readFileSync(bin));
}

export const CODE_AT = 0x1000;
export const LOW_RAM_SIZE = 0x4000n;

export interface Machine {
  vm: NativeKvm;
  vcpu: Vcpu;
  /** Slot 0: guest-physical 0..0x4000 (code at 0x1000, data at 0x2000). */
  lowRam: RamBacking;
  /** Maps a fresh RAM block filled with `fill` as `slot` at `gpa`. */
  mapRam(slot: number, gpa: bigint, size: bigint, fill: number, flags?: number): RamBacking;
  /** Puts the guest at its entry again, in real mode. */
  restart(): void;
}

/** A VM with 16 KiB of low RAM holding the named guest at 0x1000, and one vCPU ready to run it. */
export function machine(name: string, options: { manualDirtyLogProtect?: boolean } = {}): Machine {
  const vm = NativeKvm.open(options);
  const lowRam = vm.ramAllocator.allocate("low", LOW_RAM_SIZE);
  lowRam.bytes().set(guest(name), CODE_AT);
  vm.setUserMemoryRegion({
    slot: 0,
    flags: 0,
    guestPhysAddr: 0n,
    memorySize: LOW_RAM_SIZE,
    userspaceAddr: lowRam.hostAddr,
  });
  const vcpu = vm.createVcpu(0);
  enterRealMode(vcpu, CODE_AT);
  return {
    vm,
    vcpu,
    lowRam,
    mapRam(slot, gpa, size, fill, flags = 0) {
      const block = vm.ramAllocator.allocate(`slot${slot}`, size);
      block.bytes().fill(fill);
      vm.setUserMemoryRegion({ slot, flags, guestPhysAddr: gpa, memorySize: size, userspaceAddr: block.hostAddr });
      return block;
    },
    restart: () => enterRealMode(vcpu, CODE_AT),
  };
}

export interface Access {
  kind: "read" | "write";
  addr: bigint;
  bytes: number[];
}

/** A TypeScript device on a GuestBus: answers reads from `values` (by address) and records every access. */
export class RecordingBus implements GuestBus {
  readonly log: Access[] = [];
  readonly values = new Map<bigint, number[]>();

  read(addr: bigint, data: Uint8Array): MemTxResult {
    const value = this.values.get(addr) ?? [];
    for (let i = 0; i < data.length; i++) data[i] = value[i] ?? 0;
    this.log.push({ kind: "read", addr, bytes: [...data] });
    return MEMTX_OK;
  }

  write(addr: bigint, data: Uint8Array): MemTxResult {
    this.log.push({ kind: "write", addr, bytes: [...data] });
    return MEMTX_OK;
  }
}
