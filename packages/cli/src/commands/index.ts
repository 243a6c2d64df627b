import type { CliCommand } from "../context.js";
import { runPcBoard } from "../pc/board-runner.js";
import { demoCommand } from "./demo.js";
import { diffCommand } from "./diff.js";
import { importQemuCommand } from "./import-qemu.js";
import { migrateCommand } from "./migrate.js";
import { mtreeCommand } from "./mtree.js";
import { createPcCommand } from "./pc.js";
import { slotsCommand } from "./slots.js";
import { snapshotCommand } from "./snapshot.js";
import { svgCommand } from "./svg.js";

/** Every subcommand, in the order `memtopo --help` lists them. Add new command files here. */
export const commands: readonly CliCommand[] = [
  demoCommand,
  mtreeCommand,
  slotsCommand,
  diffCommand,
  importQemuCommand,
  svgCommand,
  createPcCommand(runPcBoard),
  migrateCommand,
  snapshotCommand,
];
