export type { AddressSpaceShape } from "./address-space-shape.js";
export { type BuiltMachine, buildMachine, type MachineHost } from "./machine/build.js";
export { MachineFormatError } from "./machine/errors.js";
export { type LoadedMachine, type LoadOptions, loadMachine } from "./machine/load.js";
export { MACHINE_FORMAT, MAX_NESTING, parseMachine } from "./machine/parse.js";
export { type SaveInput, saveMachine } from "./machine/save.js";
export type {
  LogClient,
  MachineAccel,
  MachineJson,
  MachineRegionJson,
  MachineRegionKind,
  MachineSpec,
  RegionSpec,
} from "./machine/types.js";
export {
  type Accel,
  AddressSpace,
  type CoalescedMmioSource,
  type CoalescedWrite,
  DeviceOpsError,
  DIRTY_PAGE_SIZE,
  type DirtyClient,
  dirtyPageOffsets,
  GLOBAL_DIRTY_DIRTY_RATE,
  GLOBAL_DIRTY_LIMIT,
  GLOBAL_DIRTY_MIGRATION,
  MemorySystem,
  MemorySystemError,
  type MemorySystemOptions,
  UNASSIGNED_IO_OPS,
  UNASSIGNED_MEM_OPS,
} from "./system/index.js";
