export { describeKvmBackendConformance } from "./conformance.js";
export type {
  ConformanceExpect,
  ConformanceTestApi,
  GuestStoreOutcome,
  KvmBackendFactory,
  KvmConformanceEnv,
  KvmConformanceGuest,
} from "./types.js";
