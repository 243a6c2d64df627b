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
  if (text === null) throw new Error(`fixtures/qemu/${dir}/${file} is missing (packages/pc/scripts/capture-qemu.sh)`);
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

/** SeaBIOS's lines about the RAM it was given: fw_cfg's `etc/e820` entries and its final e820 map. */
export function e820Lines(debugcon: string): string[] {
  const lines = debugcon.split("\n");
  const out = lines.filter((l) => l.startsWith("qemu/e820:"));
  const at = lines.findIndex((l) => /^e820 map has [0-9]+ items:$/.test(l));
  if (at >= 0) {
    out.push(lines[at] as string);
    for (let i = at + 1; i < lines.length && /^ +[0-9]+: /.test(lines[i] as string); i++) out.push(lines[i] as string);
  }
  return out;
}
