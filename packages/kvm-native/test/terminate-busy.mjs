// A worker runs a `jmp $` guest (it never leaves KVM_RUN by itself); then the main
// thread either terminates it (argv[2] = "terminate": prints how long that took) or
// exits the process (argv[2] = "exit"), which also has to stop the worker first.
// Before the addon kicked a stopping thread's vCPUs, both waited forever.

import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";

const here = path.dirname(fileURLToPath(import.meta.url));
const packageRoot = path.resolve(here, "..");
const require = createRequire(import.meta.url);
const b = require("node-gyp-build")(packageRoot);
const { layout } = b;
const [mode, code] = [process.argv[2], new Uint8Array(Buffer.from(process.argv[3], "hex"))];

const vm = new b.Vm("/dev/kvm");
const ram = new b.RamBlock("busy", 0x4000n);
new Uint8Array(ram.buffer()).set(code, 0x1000);
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

const worker = new Worker(path.join(here, "vcpu-thread-worker.mjs"), {
  workerData: {
    packageRoot,
    vcpuToken: vcpu.transfer(),
    ramToken: b.shareRam(ram.hostAddr(), 0x4000n),
    ramSize: 0x4000,
  },
});
await new Promise((resolve, reject) => {
  worker.once("message", resolve);
  worker.once("error", reject);
});
// Long enough for the worker to be inside KVM_RUN.
await new Promise((r) => setTimeout(r, 500));
if (mode === "exit") {
  console.log("exiting");
  process.exit(0);
}
const start = Date.now();
await worker.terminate();
console.log(`terminated in ${Date.now() - start} ms`);
