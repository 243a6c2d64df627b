// The guest both exit benchmarks run (test/guests/loop.S: N `out` to port 0x3f8, then N stores to
// unbacked 0xd0000, counts read at 0x500/0x504) in a fresh VM with one vCPU, and the cheapest
// GuestBus TypeScript can have, so that what differs from the addon's C loop is the dispatch path.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { enterRealMode, NativeKvm } from "../dist/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const CODE_AT = 0x1000;

function assembleLoop() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "memtopo-exits-"));
  execFileSync("as", ["--32", "-o", path.join(dir, "g.o"), path.join(here, "../test/guests/loop.S")]);
  execFileSync("objcopy", ["-O", "binary", "-j", ".text", path.join(dir, "g.o"), path.join(dir, "g.bin")]);
  const bytes = fs.readFileSync(path.join(dir, "g.bin"));
  fs.rmSync(dir, { recursive: true });
  return bytes;
}

export const bareBus = {
  read(_addr, data) {
    data.fill(0);
    return 0;
  },
  write() {
    return 0;
  },
};

/** The VM and vCPU; `prepare(pio, mmio)` sets the loop counts and puts the vCPU back at the start. */
export function openLoopVm() {
  const vm = NativeKvm.open();
  const ram = vm.ramAllocator.allocate("low", 0x4000n);
  ram.bytes().set(assembleLoop(), CODE_AT);
  vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: 0x4000n, userspaceAddr: ram.hostAddr });
  const vcpu = vm.createVcpu(0);
  const counts = new DataView(ram.bytes().buffer);
  const prepare = (pio, mmio) => {
    counts.setUint32(0x500, pio, true);
    counts.setUint32(0x504, mmio, true);
    enterRealMode(vcpu, CODE_AT);
  };
  return { vm, vcpu, prepare };
}
