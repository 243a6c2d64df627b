// A vCPU thread: adopts its vCPU, views the shared guest RAM, and runs the guest with
// runVcpu. Memory accesses outside RAM and port I/O are dispatched here, in this
// thread, between two KVM_RUNs; port 0xe9's writes are posted to the main thread's
// device model (a write needs no answer, so the vCPU does not wait for it).
import { parentPort, workerData } from "node:worker_threads";
import { adoptVcpu, runVcpu, sharedRamView } from "@memtopo/kvm-native";
import { MEMTX_DECODE_ERROR, MEMTX_OK } from "@memtopo/region-tree";

const vcpu = adoptVcpu(workerData.vcpuToken);
// This thread's view of the same guest RAM (for device models that do DMA, say).
const ram = sharedRamView(workerData.ramToken, 0n, workerData.ramSize);

const io = {
  read(_port, data) {
    data.fill(0xff);
    return MEMTX_DECODE_ERROR;
  },
  write(port, data) {
    if (port !== 0xe9n) return MEMTX_DECODE_ERROR;
    parentPort.postMessage({ kind: "debugcon", byte: data[0] });
    return MEMTX_OK;
  },
};
const memory = { read: io.read, write: () => MEMTX_DECODE_ERROR };

parentPort.postMessage({ kind: "running", kickId: vcpu.kickId });
const result = runVcpu(vcpu, { memory, io });
parentPort.postMessage({ kind: "stopped", reason: result.reason, ramBytes: ram.length });
vcpu.close();
