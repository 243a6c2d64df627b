// Worker side of the vCPU-thread tests, on the raw addon (workers get no TypeScript
// transform): adopts the vCPU the main thread transferred, takes a view of the shared
// RAM, posts its kick id, then runs the guest until an exit other than IO and posts it.
import { createRequire } from "node:module";
import { parentPort, workerData } from "node:worker_threads";

const require = createRequire(import.meta.url);
const b = require("node-gyp-build")(workerData.packageRoot);
const { layout } = b;

const [vcpu, id] = b.adoptVcpu(workerData.vcpuToken);
const ram = new DataView(b.ramView(workerData.ramToken, 0n, BigInt(workerData.ramSize)));
parentPort.postMessage({ kickId: vcpu.kickId(), id });
let reason;
do reason = vcpu.run();
while (reason === layout.exits.IO);
// The counter as this thread's own view of the shared RAM sees it.
parentPort.postMessage({ reason, counter: ram.getUint32(0x2000, true) });
vcpu.close();
