// Worker side of the cross-thread kick test: runs the spin guest with the raw
// addon (workers get no TypeScript transform) until a run() returns KVM_EXIT_INTR.
import { createRequire } from "node:module";
import { parentPort, workerData } from "node:worker_threads";

const require = createRequire(import.meta.url);
const b = require("node-gyp-build")(workerData.packageRoot);
const { layout } = b;

const vm = new b.Vm("/dev/kvm");
const ram = new b.RamBlock("spin", 0x4000n);
new Uint8Array(ram.buffer()).set(workerData.code, 0x1000);
vm.adoptRam(ram);
vm.setUserMemoryRegion(0, 0, 0n, 0x4000n, ram.hostAddr());
const vcpu = vm.createVcpu(0);

const sregs = vcpu.getSregs();
const sv = new DataView(sregs.buffer);
for (const seg of ["cs", "ds", "es", "ss"]) {
  sv.setBigUint64(layout.sregs[seg] + layout.segment.base, 0n, true);
  sv.setUint16(layout.sregs[seg] + layout.segment.selector, 0, true);
}
vcpu.setSregs(sregs);
const regs = new Uint8Array(layout.regs.size);
const rv = new DataView(regs.buffer);
rv.setBigUint64(layout.regs.rip, 0x1000n, true);
rv.setBigUint64(layout.regs.rflags, 2n, true);
vcpu.setRegs(regs);

parentPort.postMessage({ kickId: vcpu.kickId() });
const deadline = Date.now() + 20_000;
let reason = -1;
let runs = 0;
while (Date.now() < deadline) {
  reason = vcpu.run();
  runs++;
  if (reason !== layout.exits.IO) break;
}
parentPort.postMessage({ reason, runs, at: Date.now() });
vm.close();
ram.release();
