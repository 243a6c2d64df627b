import type { MemoryRegion } from "@memtopo/region-tree";
import { describeValue } from "@memtopo/region-tree";
import { type DeviceStateModel, isVersion } from "./device-state.js";
import { MigrationError } from "./errors.js";
import type { MigratableMachine } from "./machine.js";
import { checkMachine } from "./outgoing.js";
import { decodeRamSection, storeRamRecords, zeroRamBlock } from "./ram-pages.js";
import { decodeState, type StateValue } from "./state-codec.js";
import { PAGE_SIZE, SECTION, SECTION_NAMES } from "./stream/format.js";
import { StreamReader, type StreamSection } from "./stream/reader.js";
import { type MigratableVcpu, prepareVcpuLoad } from "./vcpu-state.js";
import { compareViews, describeViews, type ViewDescription } from "./views.js";

/** Where an incoming stream is: receiving, committed (the machine may run), or failed (it must not). */
export type IncomingState = "receiving" | "committed" | "failed";

/** What arrived, for reports. */
export interface IncomingStats {
  pages: number;
  zeroPages: number;
  rounds: { round: number; pages: number }[];
  devices: number;
  vcpus: number;
  bytes: number;
}

/**
 * The destination of a stream: a machine built like the source's, stopped, which the
 * stream fills. RAM pages go into its RAM as they arrive (it does not run, as QEMU's
 * incoming side); device and vCPU state are checked and held back; only when END arrived
 * and every section checked does {@link finish} apply them and compare the views. Any
 * refusal leaves the incoming side "failed", and a failed or unfinished destination must
 * not run: {@link committed} says whether it may.
 */
export class IncomingMigration {
  readonly #machine: MigratableMachine;
  readonly #reader = new StreamReader();
  readonly #devices: Map<string, DeviceStateModel>;
  readonly #vcpus: Map<number, MigratableVcpu>;
  #blocks: MemoryRegion[] | null = null;
  readonly #deviceLoads: { id: string; apply: () => void }[] = [];
  readonly #vcpuLoads: { id: number; apply: () => void }[] = [];
  #views: ViewDescription[] | null = null;
  #state: IncomingState = "receiving";
  #failure: unknown = null;
  readonly stats: IncomingStats = { pages: 0, zeroPages: 0, rounds: [], devices: 0, vcpus: 0, bytes: 0 };

  constructor(machine: MigratableMachine) {
    checkMachine(machine);
    this.#machine = machine;
    this.#devices = new Map((machine.devices ?? []).map((d) => [d.id, d]));
    this.#vcpus = new Map(machine.vcpus.map((v) => [v.id, v]));
  }

  get state(): IncomingState {
    return this.#state;
  }

  /** Whether the whole stream checked and was applied: only then may the destination's vCPUs run. */
  get committed(): boolean {
    return this.#state === "committed";
  }

  /** Takes the next bytes of the stream. A refusal throws a MigrationError and fails the migration for good. */
  push(chunk: Uint8Array): void {
    this.#guard(() => {
      if (!(chunk instanceof Uint8Array))
        throw new MigrationError("E_INVALID_ARGUMENT", "a stream chunk is a Uint8Array");
      this.stats.bytes += chunk.length;
      for (const section of this.#reader.push(chunk)) this.#take(section);
    });
  }

  /** The stream is over: checks it was whole, applies device and vCPU state, compares the views, commits. */
  finish(): void {
    this.#guard(() => {
      this.#reader.finish();
      if (this.#views === null) throw new MigrationError("E_STREAM_SECTION", "the stream has no VIEWS section");
      const missingDevices = [...this.#devices.keys()].filter((id) => !this.#deviceLoads.some((l) => l.id === id));
      if (missingDevices.length > 0) {
        throw new MigrationError(
          "E_STREAM_DEVICE",
          `the stream has no state for device ${missingDevices.map((d) => `"${d}"`).join(", ")}`,
        );
      }
      const missingVcpus = [...this.#vcpus.keys()].filter((id) => !this.#vcpuLoads.some((l) => l.id === id));
      if (missingVcpus.length > 0)
        throw new MigrationError("E_STREAM_VCPU", `the stream has no state for vCPU ${missingVcpus.join(", ")}`);
      const system = this.#machine.system;
      system.begin();
      try {
        for (const load of this.#deviceLoads) load.apply();
      } finally {
        system.commit();
      }
      for (const load of this.#vcpuLoads) load.apply();
      compareViews(this.#views, describeViews(this.#machine.spaces ?? system.addressSpaces));
      this.#state = "committed";
    });
  }

  #guard(work: () => void): void {
    if (this.#state === "failed") throw this.#failure;
    if (this.#state === "committed")
      throw new MigrationError("E_MIGRATION_STATE", "the migration has committed already");
    try {
      work();
    } catch (error) {
      this.#state = "failed";
      this.#failure = error;
      throw error;
    }
  }

  #take(section: StreamSection): void {
    const name = SECTION_NAMES[section.type];
    if (section.type === SECTION.END) return;
    if (section.type === SECTION.MAP) {
      this.#takeMap(section.payload);
      return;
    }
    if (this.#blocks === null)
      throw new MigrationError("E_STREAM_SECTION", `${name} section at offset ${section.offset} before MAP`);
    if (this.#views !== null)
      throw new MigrationError("E_STREAM_SECTION", `${name} section at offset ${section.offset} after VIEWS`);
    switch (section.type) {
      case SECTION.RAM: {
        const { block, records } = decodeRamSection(section.payload, this.#blocks);
        storeRamRecords(block, records);
        for (const r of records) {
          if (r.data === null) this.stats.zeroPages++;
          else this.stats.pages++;
        }
        return;
      }
      case SECTION.ROUND: {
        if (section.payload.length !== 8)
          throw new MigrationError("E_STREAM_SECTION", `ROUND at offset ${section.offset} is not 8 bytes`);
        const view = new DataView(section.payload.buffer, section.payload.byteOffset);
        this.stats.rounds.push({ round: view.getUint32(0, true), pages: view.getUint32(4, true) });
        return;
      }
      case SECTION.DEVICE:
        this.#takeDevice(decodeState(section.payload, "E_STREAM_DEVICE"));
        return;
      case SECTION.VCPU: {
        const load = prepareVcpuLoad(this.#vcpus, decodeState(section.payload, "E_STREAM_VCPU"));
        if (this.#vcpuLoads.some((l) => l.id === load.id))
          throw new MigrationError("E_STREAM_VCPU", `vCPU ${load.id} comes twice`);
        this.#vcpuLoads.push(load);
        this.stats.vcpus++;
        return;
      }
      case SECTION.VIEWS:
        this.#takeViews(decodeState(section.payload, "E_STREAM_MAP"));
        return;
    }
  }

  #takeMap(payload: Uint8Array): void {
    if (this.#blocks !== null) throw new MigrationError("E_STREAM_SECTION", "a second MAP section");
    const map = decodeState(payload, "E_STREAM_MAP") as { pageSize?: unknown; blocks?: unknown };
    if (map?.pageSize !== PAGE_SIZE || !Array.isArray(map.blocks)) {
      throw new MigrationError("E_STREAM_MAP", `the MAP is not {pageSize: ${PAGE_SIZE}, blocks: [...]}`);
    }
    const mine = new Map(this.#machine.ramBlocks.map((mr) => [mr.name!, mr]));
    const blocks: MemoryRegion[] = [];
    for (const [i, b] of (map.blocks as { name?: unknown; size?: unknown }[]).entries()) {
      const mr = typeof b?.name === "string" ? mine.get(b.name) : undefined;
      if (mr === undefined)
        throw new MigrationError(
          "E_STREAM_MAP",
          `the source's RAM block ${describeValue(b?.name)} is not in the destination`,
          { path: `blocks[${i}]` },
        );
      if (b.size !== mr.ramBlock!.size) {
        throw new MigrationError(
          "E_STREAM_MAP",
          `RAM block "${mr.name}" has ${String(b.size)} bytes at the source, 0x${mr.ramBlock!.size.toString(16)} here`,
          { path: `blocks[${i}]` },
        );
      }
      if (blocks.includes(mr)) throw new MigrationError("E_STREAM_MAP", `RAM block "${mr.name}" is listed twice`);
      blocks.push(mr);
    }
    if (blocks.length !== mine.size) {
      const missing = [...mine.keys()].filter((n) => !blocks.some((mr) => mr.name === n));
      throw new MigrationError(
        "E_STREAM_MAP",
        `the destination's RAM blocks ${missing.map((n) => `"${n}"`).join(", ")} are not in the stream`,
      );
    }
    // Pages the stream leaves out are zero at the source: so must they be here.
    for (const mr of blocks) zeroRamBlock(mr);
    this.#blocks = blocks;
  }

  #takeDevice(value: StateValue): void {
    const record = value as { id?: unknown; version?: unknown; state?: StateValue };
    const id = typeof record?.id === "string" ? record.id : null;
    const device = id === null ? undefined : this.#devices.get(id);
    if (device === undefined)
      throw new MigrationError("E_STREAM_DEVICE", `device ${describeValue(record?.id)} is not in the destination`);
    if (this.#deviceLoads.some((l) => l.id === id))
      throw new MigrationError("E_STREAM_DEVICE", `device "${id}" comes twice`);
    const version = record.version;
    const min = device.minVersion ?? device.version;
    if (!isVersion(version) || version > device.version || version < min) {
      throw new MigrationError(
        "E_STREAM_DEVICE",
        `device "${id}": the stream's version ${describeValue(version)} is outside what this model loads (${min} to ${device.version})`,
      );
    }
    let apply: () => void;
    try {
      apply = device.prepareLoad(record.state ?? null, version);
    } catch (cause) {
      throw new MigrationError(
        "E_STREAM_DEVICE",
        `device "${id}" refused its state: ${cause instanceof Error ? cause.message : String(cause)}`,
        { cause },
      );
    }
    if (typeof apply !== "function")
      throw new MigrationError("E_STREAM_DEVICE", `device "${id}": prepareLoad returned no function`);
    this.#deviceLoads.push({ id: id!, apply });
    this.stats.devices++;
  }

  #takeViews(value: StateValue): void {
    const wellFormed =
      Array.isArray(value) &&
      value.every(
        (as) =>
          typeof (as as { name?: unknown })?.name === "string" &&
          Array.isArray((as as { ranges?: unknown }).ranges) &&
          (as as { ranges: unknown[] }).ranges.every(
            (r) => Array.isArray(r) && r.length === 5 && r.every((f) => typeof f === "string"),
          ),
      );
    if (!wellFormed) throw new MigrationError("E_STREAM_MAP", "VIEWS is not a list of {name, ranges: [5 strings]}");
    this.#views = value as unknown as ViewDescription[];
  }
}
