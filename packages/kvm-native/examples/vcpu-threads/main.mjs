// One worker thread per vCPU (see docs/vcpu-threads.md). Build the package first
// (`pnpm --filter @memtopo/kvm-native build`), then: node examples/vcpu-threads/main.mjs
//
// The main thread owns the VM: it makes the guest RAM, the memslot and the vCPUs, then
// hands each vCPU and a view of the RAM to a worker by token. Each guest adds N to one
// counter in RAM with `lock incl`, then writes "d" to port 0xe9, which its worker
// posts to a device model living here. A kick stops a vCPU that runs too long.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { dropShare, enterRealMode, isAvailable, kickVcpu, NativeKvm, shareRam } from "@memtopo/kvm-native";

// counter loop: movl 0x2008,%ecx; 1: lock incl 0x2000; decl %ecx; jnz 1b;
// movw $0xe9,%dx; movb $'d',%al; outb %al,%dx; hlt
const GUEST = [
  0x66, 0x8b, 0x0e, 0x08, 0x20, 0x66, 0xf0, 0xff, 0x06, 0x00, 0x20, 0x66, 0x49, 0x75, 0xf6, 0xba, 0xe9, 0x00, 0xb0,
  0x64, 0xee, 0xf4,
];
const VCPUS = 2;
const N = 100_000;
const RAM_SIZE = 0x4000n;

const kvm = isAvailable();
if (!kvm.ok) {
  console.log(`no KVM here: ${kvm.reason}`);
  process.exit(0);
}

const vm = NativeKvm.open();
const ram = vm.ramAllocator.allocate("ram", RAM_SIZE);
const bytes = ram.bytes();
bytes.set(GUEST, 0x1000);
new DataView(bytes.buffer, bytes.byteOffset).setUint32(0x2008, N, true);
vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: RAM_SIZE, userspaceAddr: ram.hostAddr });
const ramToken = shareRam(ram);

// The device model that stays in the main thread: workers post its writes here.
const debugcon = [];
const here = path.dirname(fileURLToPath(import.meta.url));
const runs = [];
for (let id = 0; id < VCPUS; id++) {
  const vcpu = vm.createVcpu(id);
  enterRealMode(vcpu, 0x1000);
  const worker = new Worker(path.join(here, "vcpu-worker.mjs"), {
    workerData: { vcpuToken: vcpu.transfer(), ramToken, ramSize: RAM_SIZE },
  });
  runs.push(
    new Promise((resolve, reject) => {
      let timer;
      worker.on("message", (m) => {
        if (m.kind === "running") timer = setTimeout(() => kickVcpu(m.kickId), 30_000);
        if (m.kind === "debugcon") debugcon.push(`${id}:${String.fromCharCode(m.byte)}`);
        if (m.kind === "stopped") {
          clearTimeout(timer);
          resolve(m.reason);
        }
      });
      worker.on("error", reject);
    }),
  );
}
const reasons = await Promise.all(runs);
const counter = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0x2000, true);
console.log(`stopped: ${reasons.join(", ")}`);
console.log(`debugcon: ${debugcon.sort().join(" ")}`);
console.log(`counter: ${counter} (expected ${VCPUS * N})`);
dropShare(ramToken);
vm.close();
