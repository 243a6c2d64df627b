import { attachKvm, GsiIrqLine } from "@memtopo/kvm";
import { MemoryRegion, SIZE_2_64 } from "@memtopo/region-tree";
import { MemorySystem, UNASSIGNED_IO_OPS } from "memtopo";
import { type PcVcpu, tracingBackend } from "./accel.js";
import { acpiSetup } from "./acpi/acpi-build.js";
import { SYSTEM_STATES_FILE, systemStates } from "./acpi/acpi-pm.js";
import {
  ACPI_DISABLE,
  ACPI_ENABLE,
  APM_CNT_IOPORT,
  PIIX4_GPE0_BLK,
  PIIX4_PMBA,
  PIIX4_SCI_IRQ,
  Piix4Pm,
} from "./acpi/piix4.js";
import type { PcBoard, PcBoardOptions, PcSpaces, PcStopRequest } from "./board-types.js";
import { QEMU64_1_EDX, QEMU64_SIGNATURE, qemu64Cpuid } from "./cpuid-qemu64.js";
import { DEBUGCON_IOPORT, Debugcon } from "./devices/debugcon.js";
import { FW_CFG_DMA_IO_BASE, FW_CFG_IO_BASE, FwCfg } from "./devices/fw-cfg.js";
import { addIsaDma } from "./devices/i8257.js";
import { ioport80 } from "./devices/ioport80.js";
import { APIC_DEFAULT_ADDRESS, inKernelIo, kvmApicMsi } from "./devices/kvm-in-kernel.js";
import { KvmVapic, VAPIC_IO_PORT, VAPIC_ROM_FILE } from "./devices/kvmvapic.js";
import { Mc146818Rtc, RTC_IOPORT } from "./devices/mc146818rtc.js";
import { Pckbd } from "./devices/pckbd.js";
import { PORT92_IOPORT, Port92 } from "./devices/port92.js";
import { COM1_IOPORT, Serial } from "./devices/serial.js";
import { unimplementedIo } from "./devices/unimplemented.js";
import { PcError } from "./errors.js";
import { E820_RAM, fwCfgArchCreate, pcE820 } from "./fw-cfg-arch.js";
import { createKvmIrqchip } from "./kvm-irqchip.js";
import { registerSmramListener } from "./kvm-smram.js";
import { pcCmosInit } from "./pc-cmos.js";
import { I440fx } from "./pci/i440fx.js";
import { PiixIde } from "./pci/ide-piix.js";
import type { PciBusSpaces } from "./pci/pci-device.js";
import { PciHost } from "./pci/pci-host.js";
import { Piix3, RCR_IOPORT } from "./pci/piix3.js";
import { splitRam } from "./ram-split.js";
import { runBoard } from "./run.js";
import { fwCfgBuildSmbios } from "./smbios/fw-cfg-smbios.js";
import { x86BiosRomInit } from "./x86-bios.js";
import { hostCpuid, resetX86Cpu } from "./x86-cpu.js";

/** The option ROM area below the BIOS: "pc.rom", 128 KiB at 0xc0000. */
const PC_ROM_MIN_VGA = 0xc_0000n;
const PC_ROM_SIZE = 0x2_0000n;
const IOAPIC_DEFAULT_ADDRESS = 0xfec0_0000n;
const HPET_BASE = 0xfed0_0000n;
const SMBUS_BASE = 0xb100;
const ISA_NUM_IRQS = 24;

/**
 * Builds QEMU 7.2's `-M pc -nodefaults -accel kvm` (pc_init1 with an i440FX host) in QEMU's
 * order, one commit where QEMU commits, so the backend sees QEMU's memslot calls: the KVM
 * listeners first (kvm_init), the CPU's address space and APIC window, RAM aliases around the
 * PCI hole, the firmware and option-ROM area in the PCI space, fw_cfg, the i440FX (PCI
 * space under system memory, SMRAM, PAM), PIIX3, the in-kernel PIC/IOAPIC/PIT windows, the
 * basic ISA devices, IDE, CMOS, PIIX4 PM, the debug console, and at "machine done" the
 * bus-master aliases and the KVM-SMRAM space.
 */
export function createPcBoard(options: PcBoardOptions): PcBoard {
  const ramSplit = splitRam(options.ramSize);
  if (!(options.bios instanceof Uint8Array)) throw new PcError("E_PC_BIOS", "bios must be a Uint8Array");
  const smm = options.smm ?? true;
  const wallMs = options.clock?.wallMs ?? Date.now;
  const nanos = options.clock?.nanos ?? process.hrtime.bigint;
  const accel = options.accel;
  const kvm =
    accel === undefined
      ? undefined
      : options.onMemslot === undefined
        ? accel.kvm
        : tracingBackend(accel.kvm, options.onMemslot);

  let stopRequest: PcStopRequest | null = null;
  let onStopRequest: () => void = () => {};
  const request = (kind: PcStopRequest["kind"]) => (reason: string) => {
    stopRequest ??= { kind, reason };
    onStopRequest();
  };
  const requestReset = request("reset");
  const requestShutdown = request("shutdown");

  // memory_map_init: the two root spaces; then kvm_init's listeners and in-kernel irqchip.
  const system = new MemorySystem({
    ...(accel?.ramAllocator === undefined ? {} : { ramAllocator: accel.ramAllocator }),
    accel: accel === undefined ? "none" : "kvm",
  });
  const systemMemory = new MemoryRegion(system, { kind: "container", name: "system", size: SIZE_2_64 });
  const memory = system.createAddressSpace("memory", systemMemory);
  const io = new MemoryRegion(system, { kind: "io", name: "io", size: 0x1_0000n, ops: UNASSIGNED_IO_OPS });
  const ioSpace = system.createAddressSpace("I/O", io);
  const attachment = kvm === undefined ? null : attachKvm(system, kvm, { memory, io: ioSpace });
  const irqchip = kvm === undefined ? null : createKvmIrqchip(kvm);
  const irqLines =
    irqchip === null ? null : Array.from({ length: ISA_NUM_IRQS }, (_, gsi) => new GsiIrqLine(irqchip, gsi));
  const setIrq = (gsi: number, level: boolean) => irqLines?.[gsi]?.set(level);

  // x86_cpus_init: the vCPU, its address space, the APIC's MSI window.
  const vcpu = (kvm?.createVcpu?.(0) ?? null) as PcVcpu | null;
  // Without a CPUID table for KVM (no backend, or one without CPUID), SMBIOS describes an
  // unfiltered qemu64, as QEMU's TCG does.
  let cpuidLeaf1 = { eax: QEMU64_SIGNATURE, edx: QEMU64_1_EDX };
  if (vcpu !== null) {
    resetX86Cpu(vcpu);
    if (kvm?.getSupportedCpuid !== undefined && vcpu.setCpuid2 !== undefined) {
      const supported = kvm.getSupportedCpuid();
      const cpuid = options.cpu === "host" ? hostCpuid(supported) : qemu64Cpuid(supported);
      vcpu.setCpuid2(cpuid);
      cpuidLeaf1 = cpuid.find((e) => e.function === 1 && e.index === 0) ?? { eax: 0, edx: 0 };
    }
  }
  const cpuMemory = system.createAddressSpace("cpu-memory-0", systemMemory);
  systemMemory.addSubregionOverlap(APIC_DEFAULT_ADDRESS, kvmApicMsi(system, irqchip ?? {}), 0x1000);

  // pc_init1 / pc_memory_init.
  const pci = new MemoryRegion(system, { kind: "container", name: "pci", size: SIZE_2_64 });
  const ram = new MemoryRegion(system, { kind: "ram", name: "pc.ram", size: options.ramSize });
  const ramBelow4g = new MemoryRegion(system, {
    kind: "alias",
    name: "ram-below-4g",
    target: ram,
    offset: 0n,
    size: ramSplit.below4g,
  });
  systemMemory.addSubregion(0n, ramBelow4g);
  let ramAbove4g: MemoryRegion | null = null;
  if (ramSplit.above4g > 0n) {
    ramAbove4g = new MemoryRegion(system, {
      kind: "alias",
      name: "ram-above-4g",
      target: ram,
      offset: ramSplit.below4g,
      size: ramSplit.above4g,
    });
    systemMemory.addSubregion(0x1_0000_0000n, ramAbove4g);
  }
  const { bios, isaBios } = x86BiosRomInit(system, pci, options.bios);
  const pcRom = new MemoryRegion(system, { kind: "ram", name: "pc.rom", size: PC_ROM_SIZE });
  pcRom.setReadonly(true);
  pci.addSubregionOverlap(PC_ROM_MIN_VGA, pcRom, 1);
  const fwCfg = new FwCfg(system);
  io.addSubregion(FW_CFG_IO_BASE, fwCfg.io);
  io.addSubregion(FW_CFG_DMA_IO_BASE, fwCfg.dmaIo);
  fwCfg.setDmaSpace(memory);
  fwCfgArchCreate(fwCfg, options.ramSize, ramSplit, 1);
  // fw_cfg's own files: no boot device order and no disk geometry (-nodefaults has no disks).
  fwCfg.addFile("bootorder", new Uint8Array(0));
  fwCfg.addFile("bios-geometry", new Uint8Array(0));

  // i440fx_init: the host bridge's ports, the i440FX function, the PCI space under system memory.
  const pciHost = new PciHost(system);
  io.addSubregion(0xcf8n, pciHost.confIdx);
  pciHost.confIdx.addCoalescing(0n, 4n);
  io.addSubregion(0xcfcn, pciHost.confData);
  pciHost.confData.setFlushCoalesced();
  const busSpaces: PciBusSpaces = { system, dmaRoot: systemMemory, io };
  const i440fx = new I440fx({ ...busSpaces, systemMemory, pci, ram }, options.ramSize);
  pciHost.attach(i440fx);
  const piix3 = new Piix3(busSpaces, requestReset);
  io.addSubregionOverlap(RCR_IOPORT, piix3.resetControl, 1);
  pciHost.attach(piix3);

  // kvm_i8259_init, ioapic_init_gsi.
  io.addSubregion(0x20n, inKernelIo(system, "kvm-pic", 2n));
  io.addSubregion(0xa0n, inKernelIo(system, "kvm-pic", 2n));
  io.addSubregion(0x4d0n, inKernelIo(system, "kvm-elcr", 1n));
  io.addSubregion(0x4d1n, inKernelIo(system, "kvm-elcr", 1n));
  systemMemory.addSubregion(IOAPIC_DEFAULT_ADDRESS, inKernelIo(system, "kvm-ioapic", 0x1000n));

  // pc_basic_device_init: ports 0x80/0xf0, HPET, RTC, PIT, speaker, i8042, vmport, port 0x92, DMA, floppy.
  io.addSubregion(0x80n, ioport80(system, "ioport80"));
  io.addSubregion(0xf0n, ioport80(system, "ioportF0"));
  systemMemory.addSubregion(HPET_BASE, unimplementedIo(system, "hpet", 0x400n));
  const rtc = new Mc146818Rtc(system, wallMs);
  io.addSubregion(RTC_IOPORT, rtc.io);
  irqchip?.createPit2(0);
  io.addSubregion(0x40n, inKernelIo(system, "kvm-pit", 4n));
  io.addSubregion(0x61n, unimplementedIo(system, "pcspk", 1n));
  const kbd = new Pckbd(system, requestReset, setIrq);
  io.addSubregion(0x60n, kbd.data);
  io.addSubregion(0x64n, kbd.cmd);
  io.addSubregion(0x5658n, unimplementedIo(system, "vmport", 1n));
  const port92 = new Port92(system, requestReset);
  io.addSubregion(PORT92_IOPORT, port92.io);
  addIsaDma(system, io);
  io.addSubregion(0x3f1n, unimplementedIo(system, "fdc", 5n));
  io.addSubregion(0x3f7n, unimplementedIo(system, "fdc", 1n));
  const serial =
    options.serial === undefined
      ? null
      : new Serial(
          system,
          (b) => options.serial!(Uint8Array.of(b)),
          (l) => setIrq(4, l),
        );
  if (serial !== null) io.addSubregion(COM1_IOPORT, serial.io);

  // piix3-ide, then pc_cmos_init; PIIX4 PM with its SMI to the CPU.
  const ide = new PiixIde(busSpaces);
  for (const { base, region } of ide.ports) io.addSubregion(base, region);
  pciHost.attach(ide);
  pcCmosInit(rtc, ramSplit, 1);
  let raiseSmi: () => void = () => {};
  const pm = new Piix4Pm(
    busSpaces,
    { smmEnabled: smm, smbusBase: SMBUS_BASE, clock: nanos, bus: pciHost },
    { smi: () => raiseSmi(), shutdown: requestShutdown, sci: (level) => setIrq(PIIX4_SCI_IRQ, level) },
  );
  pciHost.attach(pm);
  fwCfg.addFile(SYSTEM_STATES_FILE, systemStates());
  let vapic: KvmVapic | null = null;
  if (options.vapic === true) {
    vapic = new KvmVapic(system, {
      systemMemory,
      ram,
      memory,
      cpuState: () => (vcpu === null ? null : { csBase: vcpu.getSregs().cs.base, rip: vcpu.getRegs().rip }),
    });
    io.addSubregion(VAPIC_IO_PORT, vapic.io);
    if (options.vapicRom !== undefined) {
      if (!(options.vapicRom instanceof Uint8Array) || options.vapicRom.length === 0) {
        throw new PcError("E_PC_VAPIC_ROM", "vapicRom must be a non-empty Uint8Array (kvmvapic.bin)");
      }
      fwCfg.addFile(VAPIC_ROM_FILE, options.vapicRom);
    }
  } else if (options.vapicRom !== undefined) {
    throw new PcError("E_PC_VAPIC_ROM", "vapicRom needs vapic: true (QEMU loads the ROM with the vapic device)");
  }

  // -device isa-debugcon,iobase=0x402.
  let debugconText = "";
  let debugconStop = false;
  const debugcon =
    options.debugcon === false
      ? null
      : new Debugcon(system, (byte) => {
          debugconText += String.fromCharCode(byte);
          if (options.onDebugcon?.(Uint8Array.of(byte)) === true) {
            debugconStop = true;
            onStopRequest();
          }
        });
  if (debugcon !== null) io.addSubregion(DEBUGCON_IOPORT, debugcon.io);

  // System reset: each function's own reset ran when it was built; then the PCI bus resets
  // them all (so PIIX3's command 0x07 is cleared again, as in QEMU).
  for (const fn of pciHost.functions) fn.busReset();

  // Machine done: the SMBIOS tables of QEMU's pc-i440fx-7.2 with its one socket.
  fwCfgBuildSmbios(fwCfg, {
    manufacturer: "QEMU",
    product: "Standard PC (i440FX + PIIX, 1996)",
    version: "pc-i440fx-7.2",
    uuid: new Uint8Array(16),
    ramSize: options.ramSize,
    ramAreas: pcE820(ramSplit).filter((e) => e.type === E820_RAM),
    sockets: 1,
    cores: 1,
    threads: 1,
    cpuidVersion: cpuidLeaf1.eax,
    cpuidFeatures: cpuidLeaf1.edx,
  });

  // Machine done: the ACPI tables in fw_cfg (read from the PM function when firmware loads them).
  if (options.acpi !== false) {
    acpiSetup(fwCfg, () => ({
      pm: {
        pmBase: pm.readConfig(PIIX4_PMBA, 4) & 0xffc0,
        gpe0Blk: Number(PIIX4_GPE0_BLK),
        sciInt: PIIX4_SCI_IRQ,
        smiCmd: APM_CNT_IOPORT,
        acpiEnable: ACPI_ENABLE,
        acpiDisable: ACPI_DISABLE,
      },
      ramSplit,
      cpus: 1,
      hpet: true,
    }));
  }

  // Machine done: bus masters' DMA aliases exist (disabled until Command.MASTER), then KVM-SMRAM.
  const smramKvm = smm && kvm !== undefined ? registerSmramListener(system, kvm, systemMemory, i440fx.smram) : null;
  const smramSpace = smramKvm?.space ?? null;
  const smramListener = smramKvm?.listener ?? null;

  const spaces: PcSpaces = { memory, io: ioSpace, cpuMemory, smram: smramSpace };
  const board: PcBoard = {
    system,
    ramSplit,
    spaces,
    addressSpaces: system.addressSpaces,
    regions: { system: systemMemory, io, pci, ram, ramBelow4g, ramAbove4g, bios, isaBios, pcRom },
    devices: { pciHost, i440fx, piix3, ide, pm, fwCfg, rtc, kbd, port92, debugcon, serial, vapic },
    kvm: attachment,
    smramListener,
    hasMemory(as, start, size) {
      if (smramListener !== null && as === smramSpace) return smramListener.hasMemory(start, size);
      return attachment?.hasMemory(as, start, size) ?? false;
    },
    get debugconText() {
      return debugconText;
    },
    get stopRequest() {
      return stopRequest;
    },
    vcpu,
    pciBusSpaces: busSpaces,
    hotplugPci: (fn) => pm.pciHotplug.plug(fn),
    unplugPci: (fn) => pm.pciHotplug.unplugRequest(fn),
    run(runOptions = {}) {
      if (vcpu === null) {
        throw new PcError(
          "E_PC_NO_VCPU",
          "run: the board's backend cannot create vCPUs (give it a KvmVm such as NativeKvm)",
        );
      }
      return runBoard(
        {
          vcpu,
          memory,
          io: ioSpace,
          debugconText: () => debugconText,
          debugconStop: () => debugconStop,
          stopRequest: () => stopRequest,
          setStopHook: (hook) => {
            onStopRequest = hook;
          },
          setSmiHook: (hook) => {
            raiseSmi = hook;
          },
          kickAfter: accel?.kickAfter,
        },
        runOptions,
      );
    },
  };
  return board;
}
