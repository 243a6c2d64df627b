import { MockKvm } from "@memtopo/kvm-mock";
import { bytesOf, type ExitBus, littleEndian } from "../exits.js";
import { runSimulatedCpu, type SimulatedBus } from "../guest/interpreter.js";
import type { DemoBackend, GuestStop } from "./types.js";

/**
 * The mock kernel, with the demo guest run by a small interpreter: each guest access goes
 * to MockKvm first (RAM slots, read-only slots, ioeventfds, exactly as the kernel decides)
 * and only what would exit to userspace reaches the exit handlers.
 */
export function mockBackend(): DemoBackend {
  const kvm = new MockKvm();
  const ramAllocator = kvm.ramAllocator();
  return {
    name: "mock",
    kvm,
    ramAllocator,
    createNotifier: () => kvm.createEventNotifier(),
    runGuest(entry, fsBase, buses): GuestStop {
      const stop = runSimulatedCpu(kernelBus(kvm, buses), { ip: entry, fsBase });
      return {
        reason: stop.reason,
        engine: `a real-mode interpreter on the mock kernel (${stop.instructions} instructions)`,
      };
    },
    close() {},
  };
}

function kernelBus(kvm: MockKvm, buses: { memory: ExitBus; io: ExitBus }): SimulatedBus {
  return {
    read(addr, size) {
      const bytes = kvm.guestRead(addr, size);
      if (bytes !== null) return littleEndian(bytes);
      const data = new Uint8Array(size);
      buses.memory.read(addr, data);
      return littleEndian(data);
    },
    write(addr, size, value) {
      const outcome = kvm.guestWrite(addr, value, size);
      if (outcome.kind === "mmio-exit") buses.memory.write(addr, bytesOf(value, size));
    },
    in(port, size) {
      const data = new Uint8Array(size);
      buses.io.read(BigInt(port), data);
      return littleEndian(data);
    },
    out(port, size, value) {
      const outcome = kvm.guestPioWrite(port, value, size);
      if (outcome.kind === "pio-exit") buses.io.write(BigInt(port), bytesOf(value, size));
    },
  };
}
