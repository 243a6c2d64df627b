import type { CliCommand } from "../context.js";

/** A subcommand by name, its module loaded only when it is needed. */
export interface CommandEntry {
  /** The first word of the command line that runs it. */
  readonly name: string;
  load(): Promise<CliCommand>;
}

/**
 * Every subcommand, in the order `memtopo --help` lists them. Add new command files here. A run loads only
 * its own command's module: `memtopo pc` has no use for the mock kernel or the migration stream, and loading
 * every package was a good part of a short command's time.
 */
export const commandEntries: readonly CommandEntry[] = [
  { name: "demo", load: async () => (await import("./demo.js")).demoCommand },
  { name: "mtree", load: async () => (await import("./mtree.js")).mtreeCommand },
  { name: "slots", load: async () => (await import("./slots.js")).slotsCommand },
  { name: "diff", load: async () => (await import("./diff.js")).diffCommand },
  { name: "import-qemu", load: async () => (await import("./import-qemu.js")).importQemuCommand },
  { name: "svg", load: async () => (await import("./svg.js")).svgCommand },
  {
    name: "pc",
    load: async () => {
      const [{ createPcCommand }, { runPcBoard }] = await Promise.all([
        import("./pc.js"),
        import("../pc/board-runner.js"),
      ]);
      return createPcCommand(runPcBoard);
    },
  },
  { name: "migrate", load: async () => (await import("./migrate.js")).migrateCommand },
  { name: "snapshot", load: async () => (await import("./snapshot.js")).snapshotCommand },
];

/** The commands a command line needs: the one it names, or all of them (for help, or to report a bad name). */
export function commandsFor(argv: readonly string[]): Promise<CliCommand[]> {
  const named = commandEntries.find((entry) => entry.name === argv[0]);
  return Promise.all((named === undefined ? commandEntries : [named]).map((entry) => entry.load()));
}
