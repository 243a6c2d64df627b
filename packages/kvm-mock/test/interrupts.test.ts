import { IOAPIC_PINS, KVM_PIT_FLAGS } from "@memtopo/kvm";
import { describe, expect, it } from "vitest";
import { MockKvm } from "../src/index.js";
import { Pic } from "../src/irq/pic.js";
import { Pit } from "../src/irq/pit.js";
import { expectErrno } from "./helpers.js";

/** The BIOS's 8259 initialisation: vectors 0x08 (master) and 0x70 (slave), cascade on IRQ2. */
function initPic(pic: Pic): void {
  for (const [port, value] of [
    [0x20, 0x11],
    [0x21, 0x08],
    [0x21, 0x04],
    [0x21, 0x01],
    [0xa0, 0x11],
    [0xa1, 0x70],
    [0xa1, 0x02],
    [0xa1, 0x01],
  ] as const) {
    pic.write(port, value);
  }
}

describe("the in-kernel 8259 pair (arch/x86/kvm/i8259.c behaviour)", () => {
  it("ICW1-ICW4 set the vector base; an edge on IRQ1 is acknowledged as vector 0x09 and stays in service until EOI", () => {
    const acked: number[] = [];
    const pic = new Pic((pin) => acked.push(pin));
    initPic(pic);
    expect(pic.setIrq(1, 0, true)).toBe(1);
    expect(pic.output).toBe(true);
    expect(pic.acknowledge()).toBe(0x09);
    expect([pic.get(0).isr, pic.get(0).irr]).toEqual([0x02, 0]);
    pic.write(0x20, 0x20); // non-specific EOI
    expect(pic.get(0).isr).toBe(0);
    expect(acked).toEqual([1]);
  });

  it("an edge already pending is coalesced (0); a masked pin answers -1 (KVM_IRQ_LINE_STATUS)", () => {
    const pic = new Pic(() => {});
    initPic(pic);
    pic.setIrq(3, 0, true);
    pic.setIrq(3, 0, false);
    expect(pic.setIrq(3, 0, true)).toBe(0);
    pic.write(0x21, 0x10); // mask IRQ4
    expect(pic.setIrq(4, 0, true)).toBe(-1);
  });

  it("a slave interrupt cascades through master IRQ2: IRQ10 is vector 0x72, EOIs go to both chips", () => {
    const pic = new Pic(() => {});
    initPic(pic);
    pic.setIrq(10, 0, true);
    expect(pic.output).toBe(true);
    expect(pic.acknowledge()).toBe(0x72);
    expect([pic.get(0).isr, pic.get(1).isr]).toEqual([0x04, 0x04]);
  });

  it("priority: IRQ0 beats IRQ5; a lower-priority request waits while a higher one is in service", () => {
    const pic = new Pic(() => {});
    initPic(pic);
    pic.setIrq(5, 0, true);
    pic.setIrq(0, 0, true);
    expect(pic.acknowledge()).toBe(0x08);
    expect(pic.output).toBe(false); // IRQ5 waits for IRQ0's EOI
    pic.write(0x20, 0x60); // specific EOI for IRQ0
    expect(pic.acknowledge()).toBe(0x0d);
  });

  it("level-triggered (ELCR): the request stays in IRR after INTA until the line is lowered", () => {
    const pic = new Pic(() => {});
    initPic(pic);
    pic.write(0x4d0, 0x20); // IRQ5 level
    expect(pic.read(0x4d0)).toBe(0x20);
    pic.setIrq(5, 0, true);
    pic.acknowledge();
    expect(pic.get(0).irr & 0x20).toBe(0x20);
    pic.setIrq(5, 0, false);
    expect(pic.get(0).irr & 0x20).toBe(0);
  });

  it("the ELCR masks: IRQ0-2 of the master and IRQ8 and IRQ13 of the slave cannot be level-triggered", () => {
    const pic = new Pic(() => {});
    pic.write(0x4d0, 0xff);
    pic.write(0x4d1, 0xff);
    expect([pic.read(0x4d0), pic.read(0x4d1)]).toEqual([0xf8, 0xde]);
  });

  it("OCW3 selects IRR or ISR for reads of the command port; auto-EOI clears ISR at INTA", () => {
    const pic = new Pic(() => {});
    pic.write(0x20, 0x11);
    pic.write(0x21, 0x08);
    pic.write(0x21, 0x04);
    pic.write(0x21, 0x03); // ICW4: 8086 mode, auto-EOI
    pic.setIrq(6, 0, true);
    expect(pic.read(0x20)).toBe(0x40); // IRR by default
    pic.acknowledge();
    pic.write(0x20, 0x0b); // OCW3: read ISR
    expect(pic.read(0x20)).toBe(0);
  });
});

describe("the in-kernel 8254 (arch/x86/kvm/i8254.c behaviour) on the VM's virtual clock", () => {
  it("after KVM_CREATE_PIT2 every channel has count 65536 and mode 0xff, only channel 2's gate low", () => {
    const pit = new Pit(() => 0);
    const s = pit.get();
    expect(s.channels.map((c) => [c.count, c.mode, c.gate])).toEqual([
      [0x10000, 0xff, 1],
      [0x10000, 0xff, 1],
      [0x10000, 0xff, 0],
    ]);
    expect(s.flags).toBe(0);
  });

  it("a latched count reads back low then high byte, and counts down with time", () => {
    let now = 0;
    const pit = new Pit(() => now);
    pit.write(0x43, 0x34); // channel 0, lobyte/hibyte, mode 2
    pit.write(0x40, 0x00);
    pit.write(0x40, 0x10); // 0x1000
    now = 1_000_000; // 1 ms: 1193 ticks
    pit.write(0x43, 0x00); // latch channel 0
    const count = pit.read(0x40) | (pit.read(0x40) << 8);
    expect(count).toBe(0x1000 - 1193);
  });

  it("mode 2 fires every period: the deadline moves on by one period per expiry", () => {
    let now = 0;
    const pit = new Pit(() => now);
    pit.write(0x43, 0x34);
    pit.write(0x40, 0xa9);
    pit.write(0x40, 0x04); // 1193: about 1 ms
    const first = pit.deadline!;
    expect(Math.round(first / 1000)).toBe(1000);
    now = first;
    expect(pit.expired(now)).toBe(true);
    expect(pit.expired(now)).toBe(false);
    expect(Math.round((pit.deadline! - first) / 1000)).toBe(1000);
  });

  it("KVM_SET_PIT2 then KVM_GET_PIT2 gives the state back (flags included)", () => {
    const kvm = new MockKvm();
    kvm.createIrqchip();
    kvm.createPit2();
    const state = kvm.getPit2();
    state.channels[1] = { ...state.channels[1], count: 0x1234, mode: 3 };
    kvm.setPit2({ ...state, flags: KVM_PIT_FLAGS.HPET_LEGACY });
    const back = kvm.getPit2();
    expect([back.channels[1].count, back.channels[1].mode, back.flags]).toEqual([0x1234, 3, KVM_PIT_FLAGS.HPET_LEGACY]);
  });
});

describe("MockKvm's interrupt ioctls: routing, IOAPIC, irqfds, recording", () => {
  it("KVM_CREATE_IRQCHIP installs the default routing: GSI 0-15 to the PICs and GSI 0-23 to the IOAPIC", () => {
    const kvm = new MockKvm();
    kvm.createIrqchip();
    const routes = kvm.gsiRoutes();
    expect(routes.filter((r) => r.type === "irqchip" && r.irqchip === "ioapic").length).toBe(IOAPIC_PINS);
    expect(routes.filter((r) => r.type === "irqchip" && r.irqchip !== "ioapic").length).toBe(16);
    expect(routes.find((r) => r.gsi === 10 && r.type === "irqchip" && r.irqchip === "pic-slave")).toMatchObject({
      pin: 2,
    });
  });

  it("KVM_IRQ_LINE_STATUS on a GSI only the (masked) IOAPIC has is -1; unmasked, it is taken (0: no LAPIC accepts it)", () => {
    const kvm = new MockKvm();
    kvm.createIrqchip();
    expect(kvm.irqLine(16, true)).toBe(-1);
    const ioapic = kvm.getIrqchip("ioapic");
    if (ioapic.chip !== "ioapic") throw new Error("unreachable");
    ioapic.ioapic.redirections[17] = { ...ioapic.ioapic.redirections[17]!, mask: 0, vector: 0x41 };
    kvm.setIrqchip(ioapic);
    expect(kvm.irqLine(17, true)).toBe(0);
  });

  it("KVM_IRQ_LINE_STATUS on a GSI no route names is -1, not an error", () => {
    const kvm = new MockKvm();
    kvm.createIrqchip();
    expect(kvm.irqLine(100, true)).toBe(-1);
  });

  it("an irqfd takes its eventfd's signals (the count stays 0); deassigned, the eventfd counts again", () => {
    const kvm = new MockKvm();
    kvm.createIrqchip();
    const n = kvm.createEventNotifier();
    kvm.irqfd({ gsi: 3, notifier: n });
    n.signal();
    expect(n.read()).toBe(0n);
    expect(kvm.getIrqchip("pic-master")).toMatchObject({ pic: { irr: 0x08 } });
    kvm.irqfd({ gsi: 3, notifier: n, deassign: true });
    n.signal();
    expect(n.read()).toBe(1n);
    expect(kvm.irqfds()).toEqual([]);
  });

  it("a resampling irqfd holds its GSI asserted; deassigning the last one deasserts it (irqfd_resampler_shutdown)", () => {
    const kvm = new MockKvm();
    kvm.createIrqchip();
    const trigger = kvm.createEventNotifier();
    const resample = kvm.createEventNotifier();
    kvm.irqfd({ gsi: 5, notifier: trigger, resample });
    trigger.signal();
    // Level: the ELCR makes IRR follow the line.
    kvm.setIrqchip({ chip: "pic-master", pic: { ...pic(kvm), elcr: 0x20 } });
    trigger.signal();
    expect(pic(kvm).irr & 0x20).toBe(0x20);
    kvm.irqfd({ gsi: 5, notifier: trigger, deassign: true });
    expect(pic(kvm).lastIrr & 0x20).toBe(0);
  });

  it("KVM_IRQFD: an eventfd of another VM is EBADF; resample with deassign is EINVAL", () => {
    const kvm = new MockKvm();
    kvm.createIrqchip();
    const foreign = new MockKvm().createEventNotifier();
    expectErrno(() => kvm.irqfd({ gsi: 1, notifier: foreign }), "EBADF");
    const mine = kvm.createEventNotifier();
    expectErrno(() => kvm.irqfd({ gsi: 1, notifier: mine, resample: mine, deassign: true }), "EINVAL");
  });

  it("KVM_SIGNAL_MSI: the destination APIC id must be a vCPU's (-1 otherwise); a device id is EINVAL on x86", () => {
    const kvm = new MockKvm();
    kvm.createIrqchip();
    kvm.createVcpu(0);
    expect(kvm.signalMsi({ address: 0xfee0_0000n, data: 0x30 })).toBe(0);
    expect(kvm.signalMsi({ address: 0xfee0_5000n, data: 0x30 })).toBe(-1);
    expectErrno(() => kvm.signalMsi({ address: 0xfee0_0000n, data: 0x30, devid: 1 }), "EINVAL");
  });

  it("KVM_SET_CLOCK then KVM_GET_CLOCK: the clock goes on from the value set; unknown flags are EINVAL", () => {
    const kvm = new MockKvm();
    kvm.setClock({ clock: 5_000_000_000n, flags: 0 });
    expect(kvm.getClock().clock).toBe(5_000_000_000n);
    expectErrno(() => kvm.setClock({ clock: 0n, flags: 1 }), "EINVAL");
  });

  it("the interrupt and vCPU ioctls are recorded with their results and errnos; failNext refuses one before it changes anything", () => {
    const kvm = new MockKvm();
    kvm.failNext("createIrqchip", "EIO");
    expectErrno(() => kvm.createIrqchip(), "EIO");
    kvm.createIrqchip();
    expect(kvm.irqLine(4, true)).toBe(1);
    const vcpu = kvm.createVcpu(0);
    vcpu.setMsrs([{ index: 0x277, data: 0n }]);
    expectErrno(() => kvm.createIrqchip(), "EEXIST");
    expect(kvm.calls.map((c) => [c.method, c.errno ?? c.result ?? null])).toEqual([
      ["createIrqchip", "EIO"],
      ["createIrqchip", null],
      ["irqLine", 1],
      ["createVcpu", vcpu],
      ["vcpu.setMsrs", 1],
      ["createIrqchip", "EEXIST"],
    ]);
    expect(kvm.calls[4]!.args[0]).toBe(0); // the vCPU's id
  });
});

function pic(kvm: MockKvm) {
  const state = kvm.getIrqchip("pic-master");
  if (state.chip !== "pic-master") throw new Error("unreachable");
  return state.pic;
}
