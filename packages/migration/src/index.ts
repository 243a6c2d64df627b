export { checkDevices, type DeviceStateModel } from "./device-state.js";
export { type DirtyPageSource, systemDirtyPageSource } from "./dirty-source.js";
export { MigrationError, type MigrationErrorCode } from "./errors.js";
export { DimmSlots } from "./hotplug/dimm.js";
export { VirtioMem } from "./hotplug/virtio-mem.js";
export { IncomingMigration, type IncomingState, type IncomingStats } from "./incoming.js";
export { type KvmDeviceStateOptions, kvmDeviceModels } from "./kvm-devices.js";
export type { MigratableMachine } from "./machine.js";
export { OutgoingMigration, type OutgoingPhase, type PreCopyOptions, type RoundReport } from "./precopy.js";
export { checkRamBlocks, ramBlocksOf } from "./ram-blocks.js";
export { isZeroPage } from "./ram-pages.js";
export { loadSnapshot, type SnapshotStats, saveSnapshot } from "./snapshot.js";
export type { StateValue } from "./state-codec.js";
export {
  MAX_SECTION_PAYLOAD,
  PAGE_SIZE,
  SECTION,
  STREAM_MAGIC,
  STREAM_VERSION,
} from "./stream/format.js";
export { StreamReader, type StreamSection } from "./stream/reader.js";
export { type StreamSink, StreamWriter } from "./stream/writer.js";
export {
  completePendingExit,
  DEFAULT_VCPU_PARTS,
  type MigratableVcpu,
  saveVcpuState,
  VCPU_PARTS,
  type VcpuPart,
  type VcpuStateOptions,
} from "./vcpu-state.js";
export { describeViews, type ViewDescription, type ViewRange } from "./views.js";
