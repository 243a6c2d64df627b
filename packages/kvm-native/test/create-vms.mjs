// Creates and closes VMs in a loop, for the profiler test: prints how many creations
// failed, by errno code, as one JSON line.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const b = require("node-gyp-build")(path.resolve(path.dirname(fileURLToPath(import.meta.url)), ".."));
const failures = {};
for (let i = 0; i < Number(process.argv[2] ?? 300); i++) {
  try {
    new b.Vm("/dev/kvm").close();
  } catch (error) {
    failures[error.code] = (failures[error.code] ?? 0) + 1;
  }
}
console.log(JSON.stringify(failures));
