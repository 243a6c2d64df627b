import {
  DEFAULT_IDENTITY_MAP_ADDR,
  DEFAULT_TSS_ADDR,
  EdgeIrqfdLine,
  GsiIrqLine,
  type GsiRoute,
  KVM_CAP,
  KVM_PIT_FLAGS,
  KVM_PIT_SPEAKER_DUMMY,
  KvmError,
  type PitChannelState,
  ResampleIrqfdLine,
} from "@memtopo/kvm";
import type { RamBacking } from "@memtopo/region-tree";
import { afterEach, describe, expect, it } from "vitest";
import { isBinding, loadBinding, type NativeBinding, type NativeVm } from "../src/binding.js";
import { enterRealMode, NativeKvm, type Vcpu } from "../src/index.js";
import { CODE_AT, guest, kvm, LOW_RAM_SIZE } from "./helpers.js";

// The in-kernel irqchip, PIT, irq lines, irqfds, MSI and kvmclock with real guests
// (test/guests/pit-timer.S, irq-lines.S): 16-bit programs that set up the PICs as a BIOS
// does and count interrupts in their IVT handlers.

const PORT_REPORT = 0x80;
const PORT_POLL = 0x81;
/** Where irq-lines.S counts each IRQ (0x2000 + 2 * irq) and NMIs. */
const COUNTER = { irq3: 0x2006, irq4: 0x2008, irq5: 0x200a, nmi: 0x2010 } as const;

interface IrqMachine {
  vm: NativeKvm;
  vcpu: Vcpu;
  ram: RamBacking;
  counter(at: number): number;
}

/** A VM with the in-kernel irqchip (and PIT), 16 KiB of low RAM holding the guest, one vCPU. */
function irqMachine(name: string, options: { pit?: boolean } = {}): IrqMachine {
  const vm = NativeKvm.open();
  vm.createIrqchip();
  if (options.pit === true) vm.createPit2(KVM_PIT_SPEAKER_DUMMY);
  const ram = vm.ramAllocator.allocate("low", LOW_RAM_SIZE);
  ram.bytes().set(guest(name), CODE_AT);
  vm.setUserMemoryRegion({
    slot: 0,
    flags: 0,
    guestPhysAddr: 0n,
    memorySize: LOW_RAM_SIZE,
    userspaceAddr: ram.hostAddr,
  });
  const vcpu = vm.createVcpu(0);
  enterRealMode(vcpu, CODE_AT);
  const counter = (at: number) => new DataView(ram.bytes().buffer, ram.bytes().byteOffset).getUint16(at, true);
  return { vm, vcpu, ram, counter };
}

interface Drive {
  /** OUT 0x80: a handler reports its IRQ (or tick count). */
  onReport?(value: number): void;
  /** After every exit: where a level line's resample is polled. */
  afterExit?(): void;
  /** Stops the run when true (checked after every exit). */
  until(): boolean;
  maxExits: number;
}

/** Runs the guest, which only ever exits with OUT 0x80 (report) or OUT 0x81 (poll). */
function drive(vcpu: Vcpu, d: Drive): number {
  for (let i = 1; i <= d.maxExits; i++) {
    const exit = vcpu.run();
    if (exit.reason !== "io" || exit.direction !== "out" || (exit.port !== PORT_REPORT && exit.port !== PORT_POLL)) {
      throw new Error(`unexpected exit ${JSON.stringify(exit, (_, v) => (typeof v === "bigint" ? `${v}` : v))}`);
    }
    if (exit.port === PORT_REPORT) d.onReport?.(exit.size === 2 ? exit.data[0]! | (exit.data[1]! << 8) : exit.data[0]!);
    d.afterExit?.();
    if (d.until()) return i;
  }
  return -1;
}

/** Runs `n` polls of the main loop (OUT 0x81), calling onReport for any interrupt in between. */
function polls(vcpu: Vcpu, n: number, d: Omit<Drive, "until" | "maxExits"> = {}): void {
  let seen = 0;
  const ended = drive(vcpu, {
    ...d,
    afterExit() {
      d.afterExit?.();
      seen++;
    },
    until: () => seen >= n,
    maxExits: n,
  });
  expect(ended).toBe(n);
}

describe.skipIf(!kvm.ok)("in-kernel irqchip, PIT, irq lines and irqfds with real guests", () => {
  let m: IrqMachine | undefined;
  const vms: NativeKvm[] = [];
  afterEach(() => {
    m?.vm.close();
    m = undefined;
    for (const vm of vms.splice(0)) vm.close();
  });

  it("the in-kernel PIT (mode 2, programmed by the guest) delivers IRQ0 through the PIC to the guest's IVT handler", () => {
    m = irqMachine("pit-timer", { pit: true });
    const ticks: number[] = [];
    const ended = drive(m.vcpu, { onReport: (n) => ticks.push(n), until: () => ticks.length >= 5, maxExits: 200_000 });
    expect(ended).toBeGreaterThan(0);
    expect(ticks).toEqual([1, 2, 3, 4, 5]);
    // What the guest programmed, read back from the kernel's devices.
    const channel0 = m.vm.getPit2().channels[0];
    expect(channel0).toMatchObject({ count: 11932, mode: 2, rwMode: 3, bcd: 0, gate: 1 });
    const master = m.vm.getIrqchip("pic-master");
    expect(master).toMatchObject({ chip: "pic-master", pic: { irqBase: 0x20, imr: 0xfe, init4: 1 } });
    expect(m.vm.getIrqchip("pic-slave")).toMatchObject({ pic: { irqBase: 0x28, imr: 0xff } });
  });

  it("KVM_IRQ_LINE on a level-triggered pin: taken again after each EOI while high; lowered, never again", () => {
    m = irqMachine("irq-lines");
    polls(m.vcpu, 2);
    expect(m.vm.getIrqchip("pic-master")).toMatchObject({ pic: { elcr: 0x28, imr: 0xc7 } });
    const line = new GsiIrqLine(m.vm, 3);
    line.raise();
    expect(line.lastStatus).toBeGreaterThan(0);
    let seen = 0;
    const vm = m.vm;
    drive(m.vcpu, {
      onReport(irq) {
        expect(irq).toBe(3);
        seen++;
        // Lowered between the handler's report and its EOI: the PIC's IRR follows the level.
        if (seen === 3) line.lower();
      },
      until: () => seen >= 3,
      maxExits: 10_000,
    });
    expect(vm.getIrqchip("pic-master")).toMatchObject({ pic: { isr: 0x08 } });
    polls(m.vcpu, 30, { onReport: () => seen++ });
    expect(seen).toBe(3);
    expect(m.counter(COUNTER.irq3)).toBe(3);
    expect(line.level).toBe(false);
  });

  it("KVM_IRQ_LINE pulse on an edge pin is one interrupt; a level left low is none", () => {
    m = irqMachine("irq-lines");
    polls(m.vcpu, 2);
    const line = new GsiIrqLine(m.vm, 4);
    line.pulse();
    drive(m.vcpu, { until: () => m!.counter(COUNTER.irq4) >= 1, maxExits: 10_000 });
    polls(m.vcpu, 30);
    expect(m.counter(COUNTER.irq4)).toBe(1);
    expect(m.counter(COUNTER.irq3)).toBe(0);
  });

  it("an irqfd (edge) raises IRQ4 once per rising edge; after deassign a signal raises nothing", () => {
    m = irqMachine("irq-lines");
    polls(m.vcpu, 2);
    const trigger = m.vm.createEventNotifier();
    m.vm.irqfd({ gsi: 4, notifier: trigger });
    const line = new EdgeIrqfdLine(trigger);
    const count = () => m!.counter(COUNTER.irq4);
    line.raise();
    // The kernel injects an irqfd's edge from a work item: it lands within a few runs.
    expect(drive(m.vcpu, { until: () => count() >= 1, maxExits: 100_000 })).toBeGreaterThan(0);
    line.raise();
    polls(m.vcpu, 30);
    expect(count()).toBe(1);
    line.lower();
    line.raise();
    expect(drive(m.vcpu, { until: () => count() >= 2, maxExits: 100_000 })).toBeGreaterThan(0);
    m.vm.irqfd({ gsi: 4, notifier: trigger, deassign: true });
    trigger.signal();
    polls(m.vcpu, 50);
    expect(count()).toBe(2);
  });

  it("an irqfd with resample (level, as QEMU's INTx): re-asserted after each EOI while high, not once lowered", () => {
    m = irqMachine("irq-lines");
    polls(m.vcpu, 2);
    const trigger = m.vm.createEventNotifier();
    const resample = m.vm.createEventNotifier();
    m.vm.irqfd({ gsi: 5, notifier: trigger, resample });
    const line = new ResampleIrqfdLine(trigger, resample);
    let seen = 0;
    let eois = 0;
    line.raise();
    drive(m.vcpu, {
      onReport(irq) {
        expect(irq).toBe(5);
        seen++;
        if (seen === 3) line.lower();
      },
      afterExit() {
        if (line.resample()) eois++;
      },
      until: () => seen >= 3 && eois >= 3,
      maxExits: 100_000,
    });
    polls(m.vcpu, 50, { onReport: () => seen++, afterExit: () => line.resample() });
    expect(seen).toBe(3);
    expect(m.counter(COUNTER.irq5)).toBe(3);
    expect(line.asserted).toBe(false);
  });

  it("KVM_SIGNAL_MSI (NMI delivery, broadcast) reaches the guest's NMI handler; an MSI route turns a GSI into the same NMI", () => {
    m = irqMachine("irq-lines");
    polls(m.vcpu, 2);
    // Destination 0xff (broadcast): with this guest's LAPIC as reset left it, the kernel
    // found no APIC for physical destination 0 (0 deliveries) but delivers a broadcast.
    const nmi = { address: 0xfeef_f000n, data: 4 << 8 };
    expect(m.vm.signalMsi(nmi)).toBeGreaterThan(0);
    expect(drive(m.vcpu, { until: () => m!.counter(COUNTER.nmi) >= 1, maxExits: 10_000 })).toBeGreaterThan(0);
    const routes: GsiRoute[] = [];
    for (let gsi = 0; gsi < 16; gsi++) {
      routes.push({ gsi, type: "irqchip", irqchip: gsi < 8 ? "pic-master" : "pic-slave", pin: gsi % 8 });
      routes.push({ gsi, type: "irqchip", irqchip: "ioapic", pin: gsi });
    }
    routes.push({ gsi: 24, ...nmi, type: "msi" });
    m.vm.setGsiRouting(routes);
    new GsiIrqLine(m.vm, 24).pulse();
    expect(drive(m.vcpu, { until: () => m!.counter(COUNTER.nmi) >= 2, maxExits: 10_000 })).toBeGreaterThan(0);
    // The PIC routes survived the new table: an edge on IRQ4 still reaches its handler.
    new GsiIrqLine(m.vm, 4).pulse();
    expect(drive(m.vcpu, { until: () => m!.counter(COUNTER.irq4) >= 1, maxExits: 10_000 })).toBeGreaterThan(0);
  });
});

describe.skipIf(!kvm.ok)("irqchip, PIT, routing and clock state through the kernel", () => {
  const vms: NativeKvm[] = [];
  const open = () => {
    const vm = NativeKvm.open();
    vms.push(vm);
    return vm;
  };
  afterEach(() => {
    for (const vm of vms.splice(0)) vm.close();
  });

  it("KVM_CREATE_IRQCHIP once a vCPU exists is the kernel's EINVAL, typed; a second irqchip is EEXIST", () => {
    const late = open();
    late.createVcpu(0);
    const error = (() => {
      try {
        late.createIrqchip();
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(KvmError);
    expect(error).toMatchObject({ code: "EINVAL", errno: 22, operation: "KVM_CREATE_IRQCHIP" });
    expect((error as Error).message).toMatch(/vCPU exists/);
    const twice = open();
    twice.createIrqchip();
    expect(() => twice.createIrqchip()).toThrow(expect.objectContaining({ code: "EEXIST" }));
  });

  it("KVM_GET_IRQCHIP before KVM_CREATE_IRQCHIP and KVM_GET_PIT2 before KVM_CREATE_PIT2 are the kernel's ENXIO", () => {
    const vm = open();
    expect(() => vm.getIrqchip("pic-master")).toThrow(expect.objectContaining({ code: "ENXIO" }));
    vm.createIrqchip();
    expect(() => vm.getPit2()).toThrow(expect.objectContaining({ code: "ENXIO" }));
  });

  it("KVM_GET/SET_IRQCHIP round-trip both PICs and the IOAPIC", () => {
    const vm = open();
    vm.createIrqchip();
    for (const chip of ["pic-master", "pic-slave"] as const) {
      const state = vm.getIrqchip(chip);
      if (state.chip === "ioapic") throw new Error("a PIC was asked for");
      const changed = { chip, pic: { ...state.pic, imr: 0x5a, irqBase: chip === "pic-master" ? 0x40 : 0x48 } };
      vm.setIrqchip(changed);
      expect(vm.getIrqchip(chip)).toEqual(changed);
    }
    const state = vm.getIrqchip("ioapic");
    if (state.chip !== "ioapic") throw new Error("the IOAPIC was asked for");
    expect(state.ioapic.baseAddress).toBe(0xfec0_0000n);
    expect(state.ioapic.redirections.every((r) => r.mask === 1)).toBe(true);
    const redirections = state.ioapic.redirections.map((r, pin) =>
      pin === 7 ? { ...r, vector: 0x47, triggerMode: 1, polarity: 1, destId: 3 } : r,
    );
    const changed = { chip: "ioapic" as const, ioapic: { ...state.ioapic, id: 5 << 24, redirections } };
    vm.setIrqchip(changed);
    expect(vm.getIrqchip("ioapic")).toEqual(changed);
  });

  it("KVM_GET/SET_PIT2 round-trip (the kernel stamps count_load_time when it reloads a count)", () => {
    const vm = open();
    vm.createIrqchip();
    vm.createPit2(KVM_PIT_SPEAKER_DUMMY);
    const state = vm.getPit2();
    const channels = state.channels.map((c, i) =>
      i === 2 ? { ...c, count: 0x1234, mode: 3, rwMode: 3, gate: 0 } : c,
    ) as typeof state.channels;
    vm.setPit2({ channels, flags: state.flags | KVM_PIT_FLAGS.HPET_LEGACY });
    const back = vm.getPit2();
    const stable = (c: PitChannelState) => ({ ...c, countLoadTime: 0n });
    expect(back.channels.map(stable)).toEqual(channels.map(stable));
    expect(back.flags & KVM_PIT_FLAGS.HPET_LEGACY).toBe(KVM_PIT_FLAGS.HPET_LEGACY);
  });

  it("KVM_SET_GSI_ROUTING: the kernel's limits are refused in C++ with EINVAL, a valid table is taken", () => {
    const vm = open();
    vm.createIrqchip();
    const bad: [GsiRoute[], string][] = [
      [[{ gsi: 1, type: "irqchip", irqchip: "pic-master", pin: 8 }], "pin must be below 8"],
      [[{ gsi: 1, type: "irqchip", irqchip: "ioapic", pin: 24 }], "pin must be below 24"],
      [[{ gsi: 4096, type: "irqchip", irqchip: "ioapic", pin: 0 }], "gsi must be below 4096"],
      [
        [
          { gsi: 9, type: "irqchip", irqchip: "ioapic", pin: 9 },
          { gsi: 9, type: "irqchip", irqchip: "ioapic", pin: 10 },
        ],
        "routed twice",
      ],
      [
        [
          { gsi: 9, type: "irqchip", irqchip: "ioapic", pin: 9 },
          { gsi: 9, type: "msi", address: 0xfee0_0000n, data: 0 },
        ],
        "routed twice",
      ],
    ];
    for (const [routes, why] of bad) {
      expect(() => vm.setGsiRouting(routes)).toThrow(
        expect.objectContaining({ code: "EINVAL", message: expect.stringContaining(why) }),
      );
    }
    vm.setGsiRouting([
      { gsi: 9, type: "irqchip", irqchip: "pic-slave", pin: 1 },
      { gsi: 9, type: "irqchip", irqchip: "ioapic", pin: 9 },
      { gsi: 40, type: "msi", address: 0xfee0_0000n, data: 0x30 },
    ]);
    vm.setGsiRouting([]);
  });

  it("KVM_GET/SET_CLOCK: kvmclock set 1000 s ahead reads back at least that far ahead", () => {
    const vm = open();
    const before = vm.getClock();
    expect(before.clock).toBeGreaterThanOrEqual(0n);
    const ahead = before.clock + 1_000_000_000_000n;
    vm.setClock({ clock: ahead, flags: 0 });
    const after = vm.getClock();
    expect(after.clock).toBeGreaterThanOrEqual(ahead);
    expect(() => vm.setClock({ clock: 0n, flags: 1 })).toThrow(expect.objectContaining({ code: "EINVAL" }));
  });

  it("capabilities() has what QEMU's kvm_init requires of x86 KVM, each as checkExtension reports it", () => {
    const vm = open();
    const caps = vm.capabilities();
    expect(caps).toMatchObject({
      irqchip: true,
      irqfd: true,
      irqRouting: true,
      signalMsi: true,
      pit2: true,
      pitState2: true,
      vcpuEvents: true,
      debugregs: true,
      xsave: true,
      xcrs: true,
      adjustClock: true,
      setTssAddr: true,
      setIdentityMapAddr: true,
      ioeventfd: true,
      readonlyMem: true,
      immediateExit: true,
      syncMmu: true,
    });
    expect(caps.gsiCount).toBe(vm.checkExtension(KVM_CAP.IRQ_ROUTING));
    expect(caps.gsiCount).toBeGreaterThanOrEqual(24);
    expect(caps.nrMemslots).toBe(vm.checkExtension(KVM_CAP.NR_MEMSLOTS));
    expect(caps.maxVcpus).toBeGreaterThanOrEqual(caps.nrVcpus);
    expect(caps.irqfdResample).toBe(vm.checkExtension(KVM_CAP.IRQFD_RESAMPLE) > 0);
    expect(caps.addressSpaces).toBeGreaterThanOrEqual(1);
    expect(vm.capabilities()).toBe(caps);
  });
});

describe.skipIf(!kvm.ok || !isBinding(loadBinding()))("TSS and identity map placement", () => {
  /** The real binding, its Vm recording setTssAddr/setIdentityMapAddr calls. */
  function spyBinding(calls: string[]): NativeBinding {
    const binding = loadBinding() as NativeBinding;
    const Base = binding.Vm as unknown as new (path: string) => NativeVm;
    class SpyVm extends Base {
      override setTssAddr(addr: bigint): void {
        calls.push(`tss ${addr.toString(16)}`);
        super.setTssAddr(addr);
      }
      override setIdentityMapAddr(addr: bigint): void {
        calls.push(`identity ${addr.toString(16)}`);
        super.setIdentityMapAddr(addr);
      }
    }
    return { ...binding, Vm: SpyVm, layout: binding.layout, pageSize: () => binding.pageSize() } as NativeBinding;
  }

  it("with no choice, QEMU's kvm_arch_init addresses are set before the first vCPU (identity map 0xfeffc000, TSS 0xfeffd000)", () => {
    const calls: string[] = [];
    const vm = NativeKvm.open({ nativeBinding: spyBinding(calls) });
    try {
      expect(calls).toEqual([]);
      vm.createVcpu(0);
      vm.createVcpu(1);
      expect(calls).toEqual([
        `identity ${DEFAULT_IDENTITY_MAP_ADDR.toString(16)}`,
        `tss ${DEFAULT_TSS_ADDR.toString(16)}`,
      ]);
    } finally {
      vm.close();
    }
  });

  it("a caller's addresses replace the defaults; the identity map after a vCPU is the kernel's EINVAL; a TSS past 0xffffd000 is EINVAL", () => {
    const calls: string[] = [];
    const vm = NativeKvm.open({ nativeBinding: spyBinding(calls) });
    try {
      vm.setIdentityMapAddr(0xfffbc000n);
      vm.setTssAddr(0xfffbd000n);
      vm.createVcpu(0);
      expect(calls).toEqual(["identity fffbc000", "tss fffbd000"]);
      expect(() => vm.setIdentityMapAddr(0xfeffc000n)).toThrow(
        expect.objectContaining({
          code: "EINVAL",
          operation: "KVM_SET_IDENTITY_MAP_ADDR",
          message: expect.stringMatching(/vCPU exists/),
        }),
      );
      expect(() => vm.setTssAddr(0xffffe000n)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    } finally {
      vm.close();
    }
  });
});
