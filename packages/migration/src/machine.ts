import type { MemoryRegion } from "@memtopo/region-tree";
import type { AddressSpace, MemorySystem } from "memtopo";
import type { DeviceStateModel } from "./device-state.js";
import type { MigratableVcpu, VcpuStateOptions } from "./vcpu-state.js";

/**
 * What a stream moves of a machine. Source and destination describe the same machine
 * (built by the same code, as QEMU's two ends run with the same command line): the
 * destination's RAM blocks, vCPU ids and device ids must be the source's.
 */
export interface MigratableMachine {
  readonly system: MemorySystem;
  /** The RAM blocks to move, by name (`ramBlocksOf(system.addressSpaces)` gives the mapped ones). */
  readonly ramBlocks: readonly MemoryRegion[];
  readonly vcpus: readonly MigratableVcpu[];
  readonly devices?: readonly DeviceStateModel[];
  readonly vcpuState?: VcpuStateOptions;
  /** The address spaces whose flat views must be equal at the end; every space of the system by default. */
  readonly spaces?: readonly AddressSpace[];
}
