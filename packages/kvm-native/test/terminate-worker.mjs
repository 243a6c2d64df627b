// Worker side of the termination test: calls into the addon in a tight loop, many
// of the calls throwing, until the main thread terminates it mid-call.
import { createRequire } from "node:module";
import { parentPort, workerData } from "node:worker_threads";

const require = createRequire(import.meta.url);
const b = require("node-gyp-build")(workerData.packageRoot);

parentPort.postMessage("running");
for (;;) {
  const ram = new b.RamBlock("doomed", 0x1000n);
  new Uint8Array(ram.buffer())[0] = 1;
  ram.release();
  try {
    ram.buffer();
  } catch {}
  try {
    new b.RamBlock("bad", 0n);
  } catch {}
}
