#!/usr/bin/env node
// The AddressSpace half of memtopo's exit share on the real CPU (no KVM, no emulation): ns per
// one-byte write through the spaces exits-nested.mjs dispatches to, as runVcpu calls them
// (the port as a fresh BigInt each time). Median of 5 runs of 1e6 writes after a warm-up.
//   node bench/exits-nested/dispatch-host.mjs
import { addressSpaces, MMIO_ADDR } from "./spaces.mjs";

const { memory, io } = addressSpaces();
const data = new Uint8Array(1);
const port = 0x3f8;
const cases = {
  pio: () => io.write(BigInt(port), data),
  mmio: () => memory.write(MMIO_ADDR, data),
};
const N = 1_000_000;
for (const [name, access] of Object.entries(cases)) {
  for (let i = 0; i < N; i++) access();
  const ns = [];
  for (let run = 0; run < 5; run++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < N; i++) access();
    ns.push(Number(process.hrtime.bigint() - start) / N);
  }
  ns.sort((a, b) => a - b);
  console.log(`${name}: ${ns[2].toFixed(0)} ns per AddressSpace.write [${ns[0].toFixed(0)}–${ns[4].toFixed(0)}]`);
}
