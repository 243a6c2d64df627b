import { DEFAULT_TSS_ADDR, KVM_MAX_IRQ_ROUTES, MAX_TSS_ADDR } from "../interrupts.js";
import type { ConformanceTestApi } from "./types.js";
import { defineVmCase, type VmCaseBody } from "./vm-harness.js";
import type { KvmVmFactory } from "./vm-types.js";

/**
 * The interrupt ioctls' ordering rules and limits (arch/x86/kvm/x86.c kvm_arch_vm_ioctl,
 * virt/kvm/irqchip.c, virt/kvm/eventfd.c), with the kernel's errnos.
 */
export function irqRuleCases(api: ConformanceTestApi, factory: KvmVmFactory): void {
  const it = (name: string, body: VmCaseBody) => defineVmCase(api, factory, name, body);

  it("KVM_CREATE_IRQCHIP once a vCPU exists is EINVAL", ({ env, fails }) => {
    env.createVcpu(0);
    fails("EINVAL", () => env.vm.createIrqchip(), "irqchip after a vCPU");
  });

  it("KVM_CREATE_IRQCHIP a second time is EEXIST", ({ env, fails }) => {
    env.vm.createIrqchip();
    fails("EEXIST", () => env.vm.createIrqchip(), "second irqchip");
  });

  // Measured on /dev/kvm: the PIT does not need the irqchip (its timer then raises nothing).
  it("KVM_CREATE_PIT2 is taken without the irqchip; a second PIT is EEXIST", ({ env, fails }) => {
    env.vm.createPit2();
    fails("EEXIST", () => env.vm.createPit2(), "second PIT");
  });

  it("KVM_GET_IRQCHIP, KVM_IRQ_LINE_STATUS without the irqchip and KVM_GET_PIT2 without a PIT are ENXIO", ({
    env,
    fails,
  }) => {
    fails("ENXIO", () => env.vm.getIrqchip("pic-master"), "KVM_GET_IRQCHIP");
    fails("ENXIO", () => env.vm.irqLine(4, true), "KVM_IRQ_LINE_STATUS");
    env.vm.createIrqchip();
    fails("ENXIO", () => env.vm.getPit2(), "KVM_GET_PIT2");
  });

  it("after KVM_CREATE_IRQCHIP: the PICs are reset (no IRR, no mask) and every IOAPIC pin is masked", ({
    env,
    expect,
  }) => {
    env.vm.createIrqchip();
    const master = env.vm.getIrqchip("pic-master");
    const ioapic = env.vm.getIrqchip("ioapic");
    if (master.chip !== "pic-master" || ioapic.chip !== "ioapic") throw new Error("wrong chip");
    expect([master.pic.irr, master.pic.imr, master.pic.isr]).toEqual([0, 0, 0]);
    expect(ioapic.ioapic.redirections.every((r) => r.mask === 1)).toBe(true);
  });

  it("KVM_SET_IRQCHIP then KVM_GET_IRQCHIP gives the PIC's mask and vector base back", ({ env, expect }) => {
    env.vm.createIrqchip();
    const state = env.vm.getIrqchip("pic-slave");
    if (state.chip !== "pic-slave") throw new Error("wrong chip");
    env.vm.setIrqchip({ chip: "pic-slave", pic: { ...state.pic, imr: 0xfb, irqBase: 0x70 } });
    const back = env.vm.getIrqchip("pic-slave");
    expect(back.chip === "pic-slave" ? [back.pic.imr, back.pic.irqBase] : []).toEqual([0xfb, 0x70]);
  });

  it("KVM_IRQ_LINE_STATUS: raising an unmasked PIC pin is delivered (1)", ({ env, expect }) => {
    env.vm.createIrqchip();
    expect(env.vm.irqLine(4, true)).toBe(1);
  });

  it("KVM_IRQFD needs the irqchip (EINVAL); one eventfd cannot inject two GSIs (EBUSY)", ({ env, fails }) => {
    const trigger = env.createEventNotifier();
    fails("EINVAL", () => env.vm.irqfd({ gsi: 5, notifier: trigger }), "irqfd without the irqchip");
    env.vm.createIrqchip();
    env.vm.irqfd({ gsi: 5, notifier: trigger });
    fails("EBUSY", () => env.vm.irqfd({ gsi: 6, notifier: trigger }), "the same eventfd again");
    env.vm.irqfd({ gsi: 5, notifier: trigger, deassign: true });
    env.vm.irqfd({ gsi: 6, notifier: trigger });
  });

  it("KVM_SET_GSI_ROUTING: needs the irqchip; a GSI at KVM_MAX_IRQ_ROUTES, a PIC pin of 8, an IOAPIC pin of 24 or two routes of one GSI to one chip are EINVAL", ({
    env,
    fails,
  }) => {
    const pic = (gsi: number, pin: number) => ({ gsi, type: "irqchip" as const, irqchip: "pic-master" as const, pin });
    fails("EINVAL", () => env.vm.setGsiRouting([pic(1, 1)]), "without the irqchip");
    env.vm.createIrqchip();
    env.vm.setGsiRouting([pic(1, 1), { gsi: 1, type: "irqchip", irqchip: "ioapic", pin: 1 }]);
    fails("EINVAL", () => env.vm.setGsiRouting([pic(KVM_MAX_IRQ_ROUTES, 1)]), "GSI 4096");
    fails("EINVAL", () => env.vm.setGsiRouting([pic(1, 8)]), "PIC pin 8");
    fails(
      "EINVAL",
      () => env.vm.setGsiRouting([{ gsi: 1, type: "irqchip", irqchip: "ioapic", pin: 24 }]),
      "IOAPIC pin 24",
    );
    fails("EINVAL", () => env.vm.setGsiRouting([pic(1, 1), pic(1, 2)]), "two PIC routes of GSI 1");
    fails(
      "EINVAL",
      () => env.vm.setGsiRouting([pic(1, 1), { gsi: 1, type: "msi", address: 0xfee0_0000n, data: 0x30 }]),
      "an MSI route beside another",
    );
    env.vm.setGsiRouting([pic(KVM_MAX_IRQ_ROUTES - 1, 1)]);
  });

  it("KVM_SIGNAL_MSI without the irqchip is EINVAL", ({ env, fails }) => {
    fails("EINVAL", () => env.vm.signalMsi({ address: 0xfee0_0000n, data: 0x30 }), "MSI without the irqchip");
  });

  it("KVM_SET_TSS_ADDR: its three pages must end at or below 4 GiB (EINVAL above)", ({ env, fails }) => {
    env.vm.setTssAddr(DEFAULT_TSS_ADDR);
    env.vm.setTssAddr(MAX_TSS_ADDR);
    fails("EINVAL", () => env.vm.setTssAddr(MAX_TSS_ADDR + 0x1000n), "TSS at 0xffffe000");
  });

  it("KVM_SET_IDENTITY_MAP_ADDR once a vCPU exists is EINVAL", ({ env, fails }) => {
    env.vm.setIdentityMapAddr(0xfeff_c000n);
    env.createVcpu(0);
    fails("EINVAL", () => env.vm.setIdentityMapAddr(0xfeff_c000n), "identity map after a vCPU");
  });

  it("KVM_CREATE_VCPU: an id in use is EEXIST", ({ env, fails }) => {
    env.createVcpu(0);
    fails("EEXIST", () => env.createVcpu(0), "vCPU 0 twice");
  });
}
