import type { ClockData, IrqchipId, IrqchipState, KvmInterrupts, PitState } from "@memtopo/kvm";
import type { DeviceStateModel } from "./device-state.js";
import type { StateValue } from "./state-codec.js";

/** Which of the VM's in-kernel devices to move, and the host clock their timestamps are on. */
export interface KvmDeviceStateOptions {
  /** The PICs and the IOAPIC (KVM_GET/SET_IRQCHIP): the VM has the in-kernel irqchip. */
  readonly irqchip?: boolean;
  /** The PIT (KVM_GET/SET_PIT2): the VM made one with createPit2. */
  readonly pit?: boolean;
  /** kvmclock (KVM_GET/SET_CLOCK). */
  readonly clock?: boolean;
  /**
   * Now on the clock of the PIT's `countLoadTime`, in ns: the host's CLOCK_MONOTONIC on /dev/kvm
   * (the default, `process.hrtime.bigint()`), the mock's `virtualTime` on the mock.
   */
  readonly now?: () => bigint;
}

const CHIPS: readonly IrqchipId[] = ["pic-master", "pic-slave", "ioapic"];

/**
 * The VM's in-kernel devices as device models of the stream (QEMU's kvm-i8259, kvm-ioapic,
 * kvm-pit and kvmclock VMState, which read and write them with the same ioctls). Their ids are
 * `kvm/irqchip`, `kvm/pit` and `kvm/clock`, version 1. Loading checks the state against the
 * destination's own (same fields, same types, integers in range) before anything is set; the
 * destination must have made the same devices.
 *
 * - The PIT's count-load times are host timestamps: they travel as their age at save time and are
 *   made timestamps of the destination's clock again at load (QEMU moves them to the guest clock).
 * - kvmclock is read when saved, with the machine stopped, and set on load, so the guest's clock
 *   goes on from where it stopped, as QEMU's kvmclock does without KVM_CLOCK_REALTIME.
 */
export function kvmDeviceModels(vm: KvmInterrupts, options: KvmDeviceStateOptions): DeviceStateModel[] {
  const now = options.now ?? (() => process.hrtime.bigint());
  const models: DeviceStateModel[] = [];
  if (options.irqchip === true) {
    models.push({
      id: "kvm/irqchip",
      version: 1,
      save: () => CHIPS.map((chip) => vm.getIrqchip(chip)) as unknown as StateValue,
      prepareLoad(state) {
        const own = CHIPS.map((chip) => vm.getIrqchip(chip));
        checkShape(own, state, "kvm/irqchip");
        const chips = state as unknown as IrqchipState[];
        chips.forEach((c, i) => {
          if (c.chip !== CHIPS[i]) throw new Error(`kvm/irqchip[${i}]: expected chip "${CHIPS[i]}"`);
        });
        return () => {
          for (const c of chips) vm.setIrqchip(c);
        };
      },
    });
  }
  if (options.pit === true) {
    models.push({
      id: "kvm/pit",
      version: 1,
      save() {
        const pit = vm.getPit2();
        const at = now();
        const channels = pit.channels.map((c) => ({ ...c, countLoadTime: at - c.countLoadTime }));
        return { ...pit, channels } as unknown as StateValue;
      },
      prepareLoad(state) {
        checkShape(vm.getPit2(), state, "kvm/pit");
        const saved = state as unknown as PitState;
        return () => {
          const at = now();
          const channels = saved.channels.map((c) => ({ ...c, countLoadTime: at - c.countLoadTime }));
          vm.setPit2({ ...saved, channels: channels as PitState["channels"] });
        };
      },
    });
  }
  if (options.clock === true) {
    models.push({
      id: "kvm/clock",
      version: 1,
      save: () => ({ clock: vm.getClock().clock }),
      prepareLoad(state) {
        const clock = (state as { clock?: unknown } | null)?.clock;
        if (typeof clock !== "bigint" || clock < 0n || clock >= 1n << 64n) {
          throw new Error("kvm/clock: expected {clock: a u64 bigint}");
        }
        return () => vm.setClock({ clock, flags: 0 } satisfies Pick<ClockData, "clock" | "flags">);
      },
    });
  }
  return models;
}

/**
 * Checks that `value` has exactly the fields and array lengths of `template` (the destination's
 * own state), numbers as non-negative u32 integers and bigints where it has bigints, so that a
 * corrupted or foreign state is refused before any ioctl. Iterative: the depth is the structs'.
 */
function checkShape(template: unknown, value: unknown, where: string): void {
  const work: [unknown, unknown, string][] = [[template, value, where]];
  for (let item = work.pop(); item !== undefined; item = work.pop()) {
    const [t, v, path] = item;
    if (typeof t === "bigint") {
      if (typeof v !== "bigint") throw new Error(`${path}: expected a bigint`);
    } else if (typeof t === "number") {
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffff_ffff)
        throw new Error(`${path}: expected a u32 integer`);
    } else if (typeof t === "string") {
      if (typeof v !== "string") throw new Error(`${path}: expected a string`);
    } else if (Array.isArray(t)) {
      if (!Array.isArray(v) || v.length !== t.length) throw new Error(`${path}: expected ${t.length} entries`);
      for (let i = 0; i < t.length; i++) work.push([t[i], v[i], `${path}[${i}]`]);
    } else if (typeof t === "object" && t !== null) {
      if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error(`${path}: expected an object`);
      const keys = Object.keys(t);
      const extra = Object.keys(v).filter((k) => !keys.includes(k));
      if (extra.length > 0) throw new Error(`${path}: unexpected field "${extra[0]}"`);
      for (const k of keys)
        work.push([(t as Record<string, unknown>)[k], (v as Record<string, unknown>)[k], `${path}.${k}`]);
    }
  }
}
