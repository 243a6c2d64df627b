export { describeKvmBackendConformance } from "./conformance.js";
export { CONFORMANCE_GUESTS, type ConformanceGuestName, GUEST_ENTRY } from "./guests.js";
export type {
  ConformanceExpect,
  ConformanceTestApi,
  GuestStoreOutcome,
  KvmBackendFactory,
  KvmConformanceEnv,
  KvmConformanceGuest,
} from "./types.js";
export { describeKvmVmConformance } from "./vm-conformance.js";
export type { ConformanceVcpu, KvmVmConformanceEnv, KvmVmFactory } from "./vm-types.js";
