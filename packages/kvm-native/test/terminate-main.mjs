// Terminates workers that are inside addon calls, at many different moments: a
// throw that the terminating thread cannot deliver must be dropped, not abort the
// process. Prints "survived <n>" when every worker is gone and the process is alive.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";

const here = path.dirname(fileURLToPath(import.meta.url));
const rounds = Number(process.argv[2] ?? 40);
for (let i = 0; i < rounds; i++) {
  const worker = new Worker(path.join(here, "terminate-worker.mjs"), {
    workerData: { packageRoot: path.resolve(here, "..") },
  });
  await new Promise((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  await new Promise((r) => setTimeout(r, i % 7));
  await worker.terminate();
}
console.log(`survived ${rounds}`);
