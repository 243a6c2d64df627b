import type { PitChannelState, PitState } from "@memtopo/kvm";
import { FieldReader, get, put, viewOf } from "./fields.js";
import type { NativeIrqLayout, PitChannelField } from "./layout.js";

// `struct kvm_pit_channel_state` field widths; count_load_time (signed 64) is handled apart.
const CHANNEL_FIELDS: readonly (readonly [Exclude<PitChannelField, "countLoadTime">, 1 | 2 | 4])[] = [
  ["count", 4],
  ["latchedCount", 2],
  ["countLatched", 1],
  ["statusLatched", 1],
  ["status", 1],
  ["readState", 1],
  ["writeState", 1],
  ["writeLatch", 1],
  ["rwMode", 1],
  ["mode", 1],
  ["bcd", 1],
  ["gate", 1],
];

export function decodePit(bytes: Uint8Array, layout: NativeIrqLayout): PitState {
  const view = viewOf(bytes);
  const channel = (i: number): PitChannelState => {
    const base = layout.pit.channels + i * layout.pitChannel.size;
    const c = { countLoadTime: view.getBigInt64(base + layout.pitChannel.countLoadTime, true) } as PitChannelState;
    for (const [name, size] of CHANNEL_FIELDS) c[name] = get(view, base + layout.pitChannel[name], size);
    return c;
  };
  return { channels: [channel(0), channel(1), channel(2)], flags: view.getUint32(layout.pit.flags, true) };
}

/** Validates a PitState and encodes `struct kvm_pit_state2` (reserved words zero). */
export function encodePit(state: PitState, layout: NativeIrqLayout, operation: string): Uint8Array {
  const r = new FieldReader(operation);
  const s = r.object(state, "state");
  const bytes = new Uint8Array(layout.pit.size);
  const view = viewOf(bytes);
  const channels = r.array(s.channels, 3, "state.channels");
  for (let i = 0; i < 3; i++) {
    const path = `state.channels[${i}]`;
    const c = r.object(channels[i], path);
    const base = layout.pit.channels + i * layout.pitChannel.size;
    for (const [name, size] of CHANNEL_FIELDS)
      put(view, base + layout.pitChannel[name], size, r.uint(c[name], size * 8, `${path}.${name}`));
    view.setBigInt64(
      base + layout.pitChannel.countLoadTime,
      r.big(c.countLoadTime, 64, `${path}.countLoadTime`, true),
      true,
    );
  }
  view.setUint32(layout.pit.flags, r.uint(s.flags, 32, "state.flags"), true);
  return bytes;
}
