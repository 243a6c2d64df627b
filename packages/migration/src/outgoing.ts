import { checkDevices } from "./device-state.js";
import { MigrationError } from "./errors.js";
import type { MigratableMachine } from "./machine.js";
import { checkRamBlocks } from "./ram-blocks.js";
import { encodeState } from "./state-codec.js";
import { PAGE_SIZE, SECTION } from "./stream/format.js";
import type { StreamWriter } from "./stream/writer.js";
import { saveVcpuState } from "./vcpu-state.js";
import { describeViews } from "./views.js";

/** Checks a machine before anything is written: blocks nameable, devices well formed, vCPU ids unique. */
export function checkMachine(machine: MigratableMachine): void {
  if (typeof machine !== "object" || machine === null)
    throw new MigrationError("E_INVALID_ARGUMENT", "expected a machine");
  checkRamBlocks(machine.ramBlocks);
  checkDevices(machine.devices ?? []);
  const ids = new Set<number>();
  for (const [i, v] of machine.vcpus.entries()) {
    if (ids.has(v.id))
      throw new MigrationError("E_INVALID_ARGUMENT", `two vCPUs have the id ${v.id}`, { path: `vcpus[${i}]` });
    ids.add(v.id);
  }
}

/** MAP: the page size and the RAM blocks by name and size, which RAM sections index. */
export function writeMap(writer: StreamWriter, machine: MigratableMachine): void {
  const blocks = machine.ramBlocks.map((mr) => ({ name: mr.name!, size: mr.ramBlock!.size }));
  writer.section(SECTION.MAP, encodeState({ pageSize: PAGE_SIZE, blocks }));
}

/** ROUND: the end of pre-copy round `round`, which sent `pages` pages. */
export function writeRound(writer: StreamWriter, round: number, pages: number): void {
  const payload = new Uint8Array(8);
  const view = new DataView(payload.buffer);
  view.setUint32(0, round, true);
  view.setUint32(4, pages, true);
  writer.section(SECTION.ROUND, payload);
}

/** What the machine holds besides RAM, read while it is stopped: DEVICE sections, VCPU sections, VIEWS. */
export function writeMachineState(writer: StreamWriter, machine: MigratableMachine): void {
  for (const device of machine.devices ?? []) {
    writer.section(SECTION.DEVICE, encodeState({ id: device.id, version: device.version, state: device.save() }));
  }
  for (const vcpu of machine.vcpus) writer.section(SECTION.VCPU, encodeState(saveVcpuState(vcpu, machine.vcpuState)));
  const views = describeViews(machine.spaces ?? machine.system.addressSpaces);
  writer.section(SECTION.VIEWS, encodeState(views as unknown as Parameters<typeof encodeState>[0]));
}
