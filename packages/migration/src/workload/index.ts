// A guest that dirties memory in a loop and the small machine it runs on: what memtopo's
// migration demo and tests migrate. Not needed to migrate your own machines.
export { DIRTY_GUEST_HEX } from "./dirty-guest-bytes.js";
export {
  buildWorkloadMachine,
  type DirtyRingReap,
  enterWorkload,
  runWorkload,
  WORKLOAD_AREA,
  WORKLOAD_BAR_ADDRS,
  WORKLOAD_BAR_SIZE,
  WORKLOAD_CHECKSUM,
  WORKLOAD_ENTRY,
  WORKLOAD_PAM_START,
  WORKLOAD_PASS_LIMIT,
  WORKLOAD_PASSES_DONE,
  WORKLOAD_RAM_SIZE,
  type WorkloadMachine,
  type WorkloadRun,
  workloadChecksum,
} from "./machine.js";
