import fs from "node:fs";
import net from "node:net";
import { IncomingMigration } from "@memtopo/migration";
import { runWorkload } from "@memtopo/migration/workload";
import { type CliCommand, type CommandContext, UsageError } from "../context.js";
import { type WorkloadBackend, workloadBackend } from "../migrate/backend.js";
import { guestDescription, type PreCopyRun, passesDone, runPreCopy } from "../migrate/precopy-run.js";
import { comparePages, incomingLine, roundLines } from "../migrate/report.js";
import { type WorkloadVm, workloadVm } from "../migrate/workload-vm.js";

interface MigrateFlags {
  readonly downtimePages?: number | string;
  readonly linkPages?: number | string;
  readonly maxRounds?: number | string;
  readonly incoming?: string;
  readonly to?: string;
  readonly json?: boolean;
  readonly backend?: string;
}

function positive(value: number | string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new UsageError(`${flag} must be a non-negative integer, got ${String(value)}`);
  return n;
}

/**
 * `memtopo migrate`: a live migration of a running guest between two VMs in this process,
 * or, with `--incoming <socket>` and `--to <socket>`, between two processes over a Unix socket.
 */
export const migrateCommand: CliCommand = {
  register(cli, ctx) {
    cli
      .command(
        "migrate",
        "Live-migrate a running guest between two VMs (pre-copy) and report rounds, pages and downtime",
      )
      .option("--downtime-pages <n>", "Stop the guest once no more than n pages are dirty (default 16)")
      .option(
        "--link-pages <n>",
        "Pages the link moves per slice of guest time: the guest's speed against the link's (default 25)",
      )
      .option("--max-rounds <n>", "Rounds after which the source stops the guest whatever is dirty (default 30)")
      .option("--incoming <socket>", "Be the destination: listen on a Unix socket, receive, commit, run the guest on")
      .option("--to <socket>", "Be the source: connect to a destination's socket and migrate to it")
      .option("--backend <mock|native>", "The kernel of both VMs: the mock one (default) or /dev/kvm")
      .option("--json", "Print the report as JSON")
      .example("memtopo migrate")
      .example("memtopo migrate --incoming /tmp/m.sock & memtopo migrate --to /tmp/m.sock")
      .action(async (flags: MigrateFlags) => {
        const options = {
          downtimePages: positive(flags.downtimePages, 16, "--downtime-pages"),
          pagesPerSlice: Math.max(1, positive(flags.linkPages, 25, "--link-pages")),
          maxRounds: Math.max(1, positive(flags.maxRounds, 30, "--max-rounds")),
        };
        if (flags.incoming !== undefined && flags.to !== undefined)
          throw new UsageError("--incoming and --to exclude each other");
        const backend = workloadBackend(flags.backend);
        if (flags.incoming !== undefined) return destination(ctx, String(flags.incoming), flags.json === true, backend);
        if (flags.to !== undefined) return source(ctx, String(flags.to), options, flags.json === true, backend);
        return inProcess(ctx, options, flags.json === true, backend);
      });
  },
};

type Options = { downtimePages: number; pagesPerSlice: number; maxRounds: number };

function inProcess(ctx: CommandContext, options: Options, json: boolean, backend: WorkloadBackend): void {
  const from = workloadVm({ backend });
  const to = workloadVm({ backend });
  try {
    migrateInProcess(ctx, options, json, from, to);
  } finally {
    from.close();
    to.close();
  }
}

function migrateInProcess(
  ctx: CommandContext,
  options: Options,
  json: boolean,
  from: WorkloadVm,
  to: WorkloadVm,
): void {
  runWorkload(from.vcpu, { passes: 2 });
  const incoming = new IncomingMigration(to.migratable);
  const run = runPreCopy(
    from,
    (chunk) => incoming.push(chunk),
    options,
    () => incoming.finish(),
  );
  const compared = comparePages(from.migratable, to.migratable);
  const after = runWorkload(to.vcpu, { passes: 2 });
  const report = {
    backend: from.backend,
    guest: guestDescription(from),
    rounds: run.rounds.map((r) => ({ round: r.round, pages: r.sent, bytes: r.bytes })),
    stopAndCopyPages: run.final.sent,
    downtimeMs: Number(run.downtimeMs.toFixed(2)),
    bytes: run.bytes,
    mapChanges: run.mapChanges,
    committed: incoming.committed,
    pagesCompared: compared.pages,
    firstDifference: compared.firstDifference,
    passesAtStop: run.passes,
    passesAfter: after.pass,
  };
  if (json) {
    ctx.stdout(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    ctx.stdout(
      [
        `memtopo migrate: two VMs in this process on ${from.backend === "native" ? "/dev/kvm" : "the mock kernel"}; the guest is ${guestDescription(from)}`,
        ...roundLines(run),
        ...run.mapChanges.map((c) => `  map change ${c}`),
        `downtime: ${report.downtimeMs} ms (the guest stopped until the destination checked and committed the stream)`,
        incomingLine(incoming),
        `pages: ${compared.pages} compared, ${compared.firstDifference === null ? "every one equals the source's" : `first difference at ${compared.firstDifference}`}`,
        `the guest goes on at the destination: pass ${run.passes} when stopped, pass ${after.pass} now`,
        "",
      ].join("\n"),
    );
  }
  if (!incoming.committed || compared.firstDifference !== null || after.pass !== run.passes + 2) {
    throw new Error("the migration did not reproduce the source");
  }
}

async function source(
  ctx: CommandContext,
  path: string,
  options: Options,
  json: boolean,
  backend: WorkloadBackend,
): Promise<void> {
  const socket = net.connect(path);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const from = workloadVm({ backend });
  let run: PreCopyRun;
  try {
    runWorkload(from.vcpu, { passes: 2 });
    run = runPreCopy(from, (chunk) => socket.write(chunk), options);
  } finally {
    from.close();
  }
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.end(resolve);
  });
  if (json) {
    ctx.stdout(
      `${JSON.stringify({ rounds: run.rounds.map((r) => ({ round: r.round, pages: r.sent, bytes: r.bytes })), stopAndCopyPages: run.final.sent, bytes: run.bytes, passesAtStop: run.passes }, null, 2)}\n`,
    );
  } else {
    ctx.stdout(
      [
        `memtopo migrate --to ${path}: the source, ${guestDescription(from)}`,
        ...roundLines(run),
        ...run.mapChanges.map((c) => `  map change ${c}`),
        `sent ${run.bytes} bytes; the guest stopped at pass ${run.passes}`,
        "",
      ].join("\n"),
    );
  }
}

async function destination(ctx: CommandContext, path: string, json: boolean, backend: WorkloadBackend): Promise<void> {
  const to = workloadVm({ backend });
  try {
    await receive(ctx, path, json, to);
  } finally {
    to.close();
  }
}

async function receive(ctx: CommandContext, path: string, json: boolean, to: WorkloadVm): Promise<void> {
  const incoming = new IncomingMigration(to.migratable);
  if (fs.existsSync(path)) throw new UsageError(`--incoming: ${path} exists already`);
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, resolve);
  });
  ctx.stderr(`memtopo migrate: waiting on ${path}\n`);
  try {
    const socket = await new Promise<net.Socket>((resolve) => server.once("connection", resolve));
    await new Promise<void>((resolve, reject) => {
      socket.on("data", (chunk: Buffer) => {
        try {
          incoming.push(chunk);
        } catch (error) {
          socket.destroy();
          reject(error);
        }
      });
      socket.once("end", resolve);
      socket.once("error", reject);
    });
    incoming.finish();
  } finally {
    server.close();
  }
  const passes = passesDone(to);
  const after = runWorkload(to.vcpu, { passes: 2 });
  if (json) {
    ctx.stdout(
      `${JSON.stringify({ state: incoming.state, ...incoming.stats, passesAtStop: passes, passesAfter: after.pass }, null, 2)}\n`,
    );
  } else {
    ctx.stdout(
      [
        incomingLine(incoming),
        `the guest goes on here: pass ${passes} when it arrived, pass ${after.pass} now`,
        "",
      ].join("\n"),
    );
  }
}
