import { attachKvm } from "@memtopo/kvm";
import { printMtree, printMtreeFlat } from "@memtopo/qemu-text";
import { hex, type MemTxResult } from "@memtopo/region-tree";
import { type MachineJson, MemorySystem, saveMachine } from "memtopo";
import { type PictureLane, pictureLanes, renderLanesSvg } from "../svg/index.js";
import { type BackendChoice, chooseBackend } from "./backends/choose.js";
import type { GuestStop } from "./backends/types.js";
import { DEMO_DEV_ID_VALUE } from "./devices.js";
import { type ListenerEvent, RecordingListener } from "./event-log.js";
import { type ExitRecord, recordingBus } from "./exits.js";
import {
  DEMO_GUEST,
  DEMO_GUEST_ENTRY,
  DEMO_GUEST_MESSAGE,
  GUEST_DOORBELL_WRITES,
  GUEST_RAM_TEXT,
  GUEST_RESULT_ID,
  GUEST_RESULT_ROM_AFTER,
  GUEST_RESULT_ROM_BEFORE,
  GUEST_RESULT_SCRATCH,
  GUEST_ROM_ADDR,
  GUEST_ROM_WRITE,
  GUEST_SCRATCH_VALUE,
} from "./guest/index.js";
import { BIOS_SIZE, buildDemoMachine, DEMO_BAR_MOVED, type DemoMachine } from "./machine.js";

/** One thing the guest did, checked against what it should have caused. */
export interface Outcome {
  readonly step: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** Everything the demo found, for people (text) and scripts (`--json`). */
export interface DemoReport {
  readonly backend: "native" | "mock";
  readonly whyNotNative: string | null;
  readonly mtree: string;
  readonly flat: string;
  readonly pamToggle: readonly ListenerEvent[];
  readonly barMove: readonly ListenerEvent[];
  readonly guest: {
    readonly stop: GuestStop;
    readonly outcomes: readonly Outcome[];
    readonly exits: readonly ExitRecord[];
  };
  readonly ok: boolean;
}

/**
 * Builds the demo machine on the chosen backend, plays its scenes and runs the guest.
 * `machine` is the machine as built (before the scenes), as a machine file.
 */
export function runDemo(choice: BackendChoice): { report: DemoReport; machine: MachineJson; picture: string } {
  const { backend, whyNotNative } = chooseBackend(choice);
  try {
    const system = new MemorySystem({ ramAllocator: backend.ramAllocator, accel: "kvm" });
    const doorbell = backend.createNotifier();
    const machine = buildDemoMachine(system, doorbell);
    const saved = saveMachine({ name: "memtopo-demo", accel: "kvm", addressSpaces: system.addressSpaces });
    const kvm = attachKvm(system, backend.kvm, { memory: machine.memory, io: machine.io });
    const mtree = printMtree(system.addressSpaces);
    const flat = printMtreeFlat(system.addressSpaces, {
      accelHasMemory: (as, start, size) => kvm.hasMemory(as, start, size),
    });

    const asBuilt = sceneLane(machine, "memory, as built");
    const recorder = new RecordingListener("memory");
    system.registerListener(recorder, machine.memory);
    recorder.take(); // the replay of the current map on registration

    shadowBios(machine);
    const pamToggle = recorder.take();
    machine.demoBar.setAddress(DEMO_BAR_MOVED);
    const barMove = recorder.take();
    const picture = renderLanesSvg([asBuilt, sceneLane(machine, "memory, after the PAM toggle and the BAR move")], {
      title: "memtopo demo: the memory map before and after the scenes",
    });

    const exits: ExitRecord[] = [];
    const buses = { memory: recordingBus(machine.memory, exits), io: recordingBus(machine.io, exits) };
    machine.pcRam.ramBlock!.bytes().set(DEMO_GUEST, DEMO_GUEST_ENTRY);
    const stop = backend.runGuest(DEMO_GUEST_ENTRY, machine.demoBar.addr, buses);
    const outcomes = checkOutcomes(machine, stop, exits, Number(doorbell.read()));
    const report: DemoReport = {
      backend: backend.name,
      whyNotNative,
      mtree,
      flat,
      pamToggle,
      barMove,
      guest: { stop, outcomes, exits },
      ok: outcomes.every((o) => o.ok),
    };
    return { report, machine: saved, picture };
  } finally {
    backend.close();
  }
}

/** The memory address space's lane as it is now (the picture's annotations follow the tree of this moment). */
function sceneLane(machine: DemoMachine, label: string): PictureLane {
  const [lane] = pictureLanes([machine.memory]);
  return { ...lane!, spaces: [label] };
}

/**
 * What firmware does early on: copy the BIOS's top 64 KiB into RAM under it, then switch
 * PAM0 from PCI to read-only RAM, so the BIOS runs from (faster) RAM, write-protected.
 */
function shadowBios(machine: DemoMachine): void {
  const pam0 = machine.pam.find((s) => s.start === 0xf_0000n)!;
  const bios = machine.pcBios.ramBlock!.bytes();
  machine.pcRam.ramBlock!.bytes().set(bios.subarray(Number(BIOS_SIZE) - 0x1_0000), 0xf_0000);
  machine.setPam(pam0, "rom");
}

const RESULT_NAMES: Record<number, string> = { 0: "OK", 1: "ERROR", 2: "DECODE_ERROR", 4: "ACCESS_ERROR" };

function resultName(result: MemTxResult): string {
  return RESULT_NAMES[result] ?? `0x${result.toString(16)}`;
}

function checkOutcomes(
  machine: DemoMachine,
  stop: GuestStop,
  exits: readonly ExitRecord[],
  counter: number,
): Outcome[] {
  const ram = machine.pcRam.ramBlock!.bytes();
  const view = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
  const text = new TextDecoder().decode(ram.subarray(GUEST_RAM_TEXT, GUEST_RAM_TEXT + DEMO_GUEST_MESSAGE.length));
  const ramExits = exits.filter((e) => e.region === "pc.ram").length;
  const uartWrites = machine.uart.accesses.filter((a) => a.kind === "write").length;
  const uartReads = machine.uart.accesses.filter((a) => a.kind === "read").length;
  const id = BigInt(view.getUint32(GUEST_RESULT_ID, true));
  const scratch = BigInt(view.getUint32(GUEST_RESULT_SCRATCH, true));
  const romBefore = ram[GUEST_RESULT_ROM_BEFORE]!;
  const romAfter = ram[GUEST_RESULT_ROM_AFTER]!;
  const romWrite = exits.find((e) => e.kind === "write" && e.addr === GUEST_ROM_ADDR);
  const doorbell = DEMO_BAR_MOVED + 0x10n;
  const doorbellExits = exits.filter((e) => e.addr === doorbell).length;
  const idText = String.fromCharCode(...[0, 8, 16, 24].map((s) => Number((id >> BigInt(s)) & 0xffn)));
  return [
    {
      step: "RAM",
      ok: text === DEMO_GUEST_MESSAGE && ramExits === 0,
      detail: `${JSON.stringify(text)} at ${hex(GUEST_RAM_TEXT)}, read from pc.ram's buffer (${ramExits} exits)`,
    },
    {
      step: "I/O port",
      ok: machine.uart.text === DEMO_GUEST_MESSAGE,
      detail: `demo-uart got ${JSON.stringify(machine.uart.text)} (${uartWrites} writes, ${uartReads} status reads)`,
    },
    {
      step: "MMIO",
      ok: id === DEMO_DEV_ID_VALUE && scratch === GUEST_SCRATCH_VALUE && machine.device.scratch === GUEST_SCRATCH_VALUE,
      detail: `demo-mmio ID ${hex(id)} (${JSON.stringify(idText)}), scratch ${hex(GUEST_SCRATCH_VALUE)} written, read back ${hex(scratch)}`,
    },
    {
      step: "ROM",
      ok: romBefore === romAfter && romBefore !== GUEST_ROM_WRITE && romWrite !== undefined,
      detail:
        romWrite === undefined
          ? `the write of ${hex(GUEST_ROM_WRITE)} to ${hex(GUEST_ROM_ADDR)} never left the guest`
          : `${hex(GUEST_ROM_ADDR)} held ${hex(romBefore)}; the write of ${hex(GUEST_ROM_WRITE)} exited to ` +
            `${romWrite.region} (${resultName(romWrite.result)}), the byte is still ${hex(romAfter)}`,
    },
    {
      step: "ioeventfd",
      ok: counter === GUEST_DOORBELL_WRITES && doorbellExits === 0 && machine.device.doorbellWrites === 0,
      detail: `${GUEST_DOORBELL_WRITES} doorbell writes: eventfd counter ${counter}, ${doorbellExits} exits, the device model saw ${machine.device.doorbellWrites}`,
    },
    {
      step: "POST",
      ok: machine.post.codes.join() === "1,2,3,4,5" && stop.reason === "hlt",
      detail: `codes ${machine.post.codes.map((c) => c.toString(16).padStart(2, "0")).join(" ")}, stopped on ${stop.reason}`,
    },
  ];
}
