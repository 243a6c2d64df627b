#!/usr/bin/env node
import { main } from "./main.js";
import { processContext } from "./process-context.js";

// `memtopo mtree m.json | head`: a reader that stops early is not an error (Unix tools exit quietly).
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = await main(process.argv.slice(2), processContext());
