import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { afterEach, describe, expect, it } from "vitest";
import { isBinding, loadBinding, type NativeBinding } from "../src/binding.js";
import {
  adoptVcpu,
  dropShare,
  enterRealMode,
  kickVcpu,
  NativeKvm,
  runVcpu,
  sharedRamView,
  shareRam,
} from "../src/index.js";
import { CODE_AT, guest, kvm, LOW_RAM_SIZE, RecordingBus } from "./helpers.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const packageRoot = path.resolve(here, "..");
const exits = isBinding(loadBinding()) ? (loadBinding() as NativeBinding).layout.exits : undefined;

type WorkerMessage = { kickId?: number; id?: number; reason?: number; counter?: number };

/** A worker running one transferred vCPU (vcpu-thread-worker.mjs), with its messages in order. */
function vcpuWorker(vcpuToken: number, ramToken: number) {
  const worker = new Worker(path.join(here, "vcpu-thread-worker.mjs"), {
    workerData: { packageRoot, vcpuToken, ramToken, ramSize: Number(LOW_RAM_SIZE) },
  });
  const queue: WorkerMessage[] = [];
  const waiting: ((m: WorkerMessage) => void)[] = [];
  let failure: unknown;
  worker.on("message", (m: WorkerMessage) => {
    const w = waiting.shift();
    if (w === undefined) queue.push(m);
    else w(m);
  });
  worker.on("error", (e) => {
    failure = e;
  });
  return {
    worker,
    next(): Promise<WorkerMessage> {
      if (failure !== undefined) return Promise.reject(failure);
      const m = queue.shift();
      return m !== undefined ? Promise.resolve(m) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

// One worker thread per vCPU (docs/vcpu-threads.md): the main thread makes the VM, its RAM
// and vCPUs, then hands each vCPU to a worker by token; the workers' guest RAM views
// are the same memory as the main thread's.
describe.skipIf(!kvm.ok)("vCPUs in worker threads on /dev/kvm", () => {
  let vm: NativeKvm | undefined;
  const workers: Worker[] = [];
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.terminate();
    vm?.close();
    vm = undefined;
  });

  function machineWith(code: Uint8Array, vcpus: number) {
    vm = NativeKvm.open();
    const ram = vm.ramAllocator.allocate("low", LOW_RAM_SIZE);
    ram.bytes().set(code, CODE_AT);
    vm.setUserMemoryRegion({
      slot: 0,
      flags: 0,
      guestPhysAddr: 0n,
      memorySize: LOW_RAM_SIZE,
      userspaceAddr: ram.hostAddr,
    });
    const tokens = [];
    for (let id = 0; id < vcpus; id++) {
      const vcpu = vm.createVcpu(id);
      enterRealMode(vcpu, CODE_AT);
      tokens.push(vcpu.transfer());
    }
    return { ram, tokens, ramToken: shareRam(ram) };
  }

  it("two vCPUs in two workers each add N to one counter with `lock incl`: the guest RAM holds exactly 2N", async () => {
    const n = 100_000;
    const { ram, tokens, ramToken } = machineWith(guest("counter"), 2);
    new DataView(ram.bytes().buffer, ram.bytes().byteOffset).setUint32(0x2008, n, true);
    const running = tokens.map((t) => vcpuWorker(t, ramToken));
    workers.push(...running.map((r) => r.worker));
    expect((await Promise.all(running.map((r) => r.next()))).map((m) => m.id).sort()).toEqual([0, 1]);
    const done = await Promise.all(running.map((r) => r.next()));
    expect(done.map((m) => m.reason)).toEqual([exits!.HLT, exits!.HLT]);
    const counter = new DataView(ram.bytes().buffer, ram.bytes().byteOffset).getUint32(0x2000, true);
    expect(counter).toBe(2 * n);
    // Each worker read the counter through its own view: the same memory, no copy.
    for (const m of done) expect(m.counter).toBeGreaterThanOrEqual(n);
    expect(dropShare(ramToken)).toBe(true);
  });

  it("kickVcpu from the main thread stops a worker's vCPU spinning inside KVM_RUN: its run() returns KVM_EXIT_INTR", async () => {
    const { tokens, ramToken } = machineWith(guest("busy"), 1);
    const running = vcpuWorker(tokens[0]!, ramToken);
    workers.push(running.worker);
    const { kickId } = await running.next();
    await new Promise((r) => setTimeout(r, 300));
    expect(kickVcpu(kickId!)).toBe(true);
    expect((await running.next()).reason).toBe(exits!.INTR);
  });

  it("a vCPU transferred and adopted (here in one thread) runs with the same RAM; the old object is closed", () => {
    const { ram, tokens, ramToken } = machineWith(guest("ram"), 1);
    const view = sharedRamView(ramToken, 0x2000n, 0x1002n);
    view[0] = 0x41; // the guest reads it from 0x2000 and stores it + 1 at 0x2001
    const vcpu = adoptVcpu(tokens[0]!);
    expect(vcpu.id).toBe(0);
    const result = runVcpu(vcpu, { memory: new RecordingBus(), io: new RecordingBus() });
    expect(result.reason).toBe("hlt");
    expect(view[1]).toBe(0x42);
    expect([view[0x1000], view[0x1001]]).toEqual([0xef, 0xbe]);
    expect(ram.bytes()[0x2001]).toBe(0x42);
    expect(() => adoptVcpu(tokens[0]!)).toThrow(expect.objectContaining({ name: "KvmError", code: "ENOENT" }));
    vcpu.close();
  });
});

// Node stops a worker (terminate(), process exit) by marking its environment stopping and
// waking its event loop; a thread inside KVM_RUN sees neither. The addon's thread watch
// kicks such a thread's vCPUs. Run in a child process: a hang is a timeout there.
describe.skipIf(!kvm.ok)("a worker running a `jmp $` guest", () => {
  const busy = () => Buffer.from(guest("busy")).toString("hex");

  it("does not block worker.terminate()", () => {
    const r = spawnSync(process.execPath, [path.join(here, "terminate-busy.mjs"), "terminate", busy()], {
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.signal).toBeNull();
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^terminated in \d+ ms/);
  });

  it("does not block process.exit()", () => {
    const r = spawnSync(process.execPath, [path.join(here, "terminate-busy.mjs"), "exit", busy()], {
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe("exiting");
  });
});
