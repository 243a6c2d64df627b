import { qemuFixture } from "./fixtures.js";

/** A memslot call as the fixtures (`-trace kvm_set_user_memory`) and `memtopo pc --trace-memslots` write it. */
export interface MemslotCall {
  readonly slot: number;
  readonly flags: number;
  readonly gpa: string;
  readonly size: string;
}

export function memslotCall(region: {
  readonly slot: number;
  readonly flags: number;
  readonly guestPhysAddr: bigint;
  readonly memorySize: bigint;
}): MemslotCall {
  return {
    slot: region.slot,
    flags: region.flags,
    gpa: `0x${region.guestPhysAddr.toString(16)}`,
    size: `0x${region.memorySize.toString(16)}`,
  };
}

function fixture(dir: string, file: string): string {
  const text = qemuFixture(dir, file);
  if (text === null)
    throw new Error(
      `the capture ${dir}/${file} is missing from @memtopo/fixtures (packages/pc/scripts/capture-qemu.sh)`,
    );
  return text;
}

/** QEMU's KVM_SET_USER_MEMORY_REGION calls for a capture, in order. */
export function qemuMemslots(dir: string): MemslotCall[] {
  return fixture(dir, "memslots.jsonl")
    .trimEnd()
    .split("\n")
    .map((line) => JSON.parse(line) as MemslotCall);
}

/** How many of them QEMU made before the vCPU's first KVM_RUN returned: the machine-creation calls. */
export function qemuCallsAtCreation(dir: string): number {
  return (JSON.parse(fixture(dir, "capture.json")) as { memslotCallsAtCreation: number }).memslotCallsAtCreation;
}
