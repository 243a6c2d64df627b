import fs from "node:fs/promises";
import { loadSnapshot, saveSnapshot } from "@memtopo/migration";
import { runWorkload, workloadChecksum } from "@memtopo/migration/workload";
import { type CliCommand, type CommandContext, UsageError } from "../context.js";
import { type WorkloadBackend, workloadBackend } from "../migrate/backend.js";
import { GUEST_DESCRIPTION, passesDone } from "../migrate/precopy-run.js";
import { workloadVm } from "../migrate/workload-vm.js";

interface SnapshotFlags {
  readonly backend?: string;
  readonly passes?: number | string;
  readonly limit?: number | string;
  readonly json?: boolean;
}

function count(value: number | string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0 || n > 0xffff_ffff)
    throw new UsageError(`${flag} must be a u32, got ${String(value)}`);
  return n;
}

/**
 * `memtopo snapshot save <file>`: run the workload guest for some passes, stop it and save the
 * machine; `memtopo snapshot load <file>`: restore it into a fresh machine (this process) and
 * run the guest on to its own checksum over its RAM.
 */
export const snapshotCommand: CliCommand = {
  register(cli, ctx) {
    cli
      .command(
        "snapshot <action> <file>",
        "Save the workload machine to a snapshot file, or load one and run the guest on",
      )
      .option("--passes <n>", "save: passes the guest makes before the snapshot (default 3)")
      .option("--limit <n>", "save: the pass after which the guest sums its RAM and halts (default 5)")
      .option("--backend <mock|native>", "The kernel: the mock one (default) or /dev/kvm")
      .option("--json", "Print the report as JSON")
      .example("memtopo snapshot save /tmp/vm.snap && memtopo snapshot load /tmp/vm.snap")
      .action(async (action: string, file: string, flags: SnapshotFlags) => {
        if (action !== "save" && action !== "load")
          throw new UsageError(`snapshot: the action is save or load, got ${String(action).slice(0, 40)}`);
        const backend = workloadBackend(flags.backend);
        if (action === "save") return save(ctx, file, flags, backend);
        return load(ctx, file, flags.json === true, backend);
      });
  },
};

async function save(ctx: CommandContext, file: string, flags: SnapshotFlags, backend: WorkloadBackend): Promise<void> {
  const passes = count(flags.passes, 3, "--passes");
  const limit = count(flags.limit, 5, "--limit");
  if (passes > limit) throw new UsageError(`--passes (${passes}) is past --limit (${limit})`);
  const vm = workloadVm({ passLimit: limit, backend });
  let saved: ReturnType<typeof saveSnapshot>;
  let done: number;
  try {
    if (passes > 0) runWorkload(vm.vcpu, { passes });
    saved = saveSnapshot(vm.migratable);
    done = passesDone(vm);
  } finally {
    vm.close();
  }
  const { bytes, stats } = saved;
  await fs.writeFile(file, bytes);
  const report = {
    file,
    passes: done,
    limit,
    pagesSaved: stats.data,
    zeroPagesLeftOut: stats.skipped,
    bytes: stats.bytes,
  };
  ctx.stdout(
    flags.json === true
      ? `${JSON.stringify(report, null, 2)}\n`
      : `memtopo snapshot save: ${GUEST_DESCRIPTION}, stopped after pass ${report.passes} of ${limit}\n` +
          `wrote ${file}: ${stats.bytes} bytes, ${stats.data} pages (${stats.skipped} zero pages left out), vCPU and device state\n`,
  );
}

async function load(ctx: CommandContext, file: string, json: boolean, backend: WorkloadBackend): Promise<void> {
  const bytes = new Uint8Array(await fs.readFile(file));
  const vm = workloadVm({ backend });
  let stats: ReturnType<typeof loadSnapshot>;
  let from: number;
  let run: ReturnType<typeof runWorkload>;
  let host: number;
  try {
    stats = loadSnapshot(vm.migratable, bytes);
    from = passesDone(vm);
    run = runWorkload(vm.vcpu, {});
    host = workloadChecksum(vm.machine.ram);
  } finally {
    vm.close();
  }
  const report = {
    file,
    backend,
    pagesLoaded: stats.pages,
    passesAtSnapshot: from,
    passesAtEnd: run.pass,
    guestChecksum: run.checksum,
    hostChecksum: host,
  };
  ctx.stdout(
    json
      ? `${JSON.stringify(report, null, 2)}\n`
      : `memtopo snapshot load: ${file}: ${stats.pages} pages, vCPU and device state restored into a fresh machine\n` +
          `the guest went on from pass ${from} to ${run.pass}; its own checksum over its RAM: 0x${(run.checksum ?? 0).toString(16).padStart(8, "0")} ` +
          `(the host's: 0x${host.toString(16).padStart(8, "0")})\n`,
  );
  if (run.checksum !== host) throw new Error("the guest's checksum differs from the host's");
}
