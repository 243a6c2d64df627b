export { type PcAccel, type PcVcpu, tracingBackend } from "./accel.js";
export { type AcpiBuildConfig, type AcpiBuildResult, acpiBuild } from "./acpi/acpi-build.js";
export { AcpiPm1, PM_TIMER_FREQUENCY } from "./acpi/acpi-pm.js";
export { Apm } from "./acpi/apm.js";
export { AcpiCpuHotplug } from "./acpi/cpu-hotplug.js";
export {
  ACPI_PCI_HOTPLUG_STATUS,
  ACPI_PCIHP_ADDR,
  AcpiPciHotplug,
  PCIHP_REG,
  type PciHotplugBus,
} from "./acpi/pci-hotplug.js";
export { ACPI_DISABLE, ACPI_ENABLE, PIIX4_DEVACTB_APMC_EN, Piix4Pm, type Piix4PmEvents } from "./acpi/piix4.js";
export { createPcBoard } from "./board.js";
export type { PcBoard, PcBoardOptions, PcDevices, PcRegions, PcSpaces, PcStopRequest } from "./board-types.js";
export { qemu64Cpuid } from "./cpuid-qemu64.js";
export { Debugcon } from "./devices/debugcon.js";
export { FW_CFG, FwCfg } from "./devices/fw-cfg.js";
export { KvmVapic, type VapicCpuState } from "./devices/kvmvapic.js";
export { Mc146818Rtc } from "./devices/mc146818rtc.js";
export { Pckbd } from "./devices/pckbd.js";
export { Port92 } from "./devices/port92.js";
export { Serial } from "./devices/serial.js";
export { PcError } from "./errors.js";
export { E820_RAM, E820_RESERVED, type E820Entry, pcE820 } from "./fw-cfg-arch.js";
export { createKvmIrqchip, pcIrqRouting } from "./kvm-irqchip.js";
export { registerSmramListener } from "./kvm-smram.js";
export { pcCmosInit } from "./pc-cmos.js";
export {
  I440FX_PAM,
  I440FX_SMRAM,
  I440fx,
  SMRAM_C_BASE_SEG,
  SMRAM_D_CLS,
  SMRAM_D_LCK,
  SMRAM_D_OPEN,
  SMRAM_G_SMRAME,
} from "./pci/i440fx.js";
export { PiixIde } from "./pci/ide-piix.js";
export { PAM_REGIONS_COUNT, type PamMode, PamSegment, pamModeOf } from "./pci/pam.js";
export { type PciBusSpaces, PciDevice, type PciIdentity } from "./pci/pci-device.js";
export { PciHost } from "./pci/pci-host.js";
export { Piix3 } from "./pci/piix3.js";
export { DEFAULT_MAX_RAM_BELOW_4G, parseRamSize, type RamSplit, splitRam } from "./ram-split.js";
export type { PcRunOptions, PcRunResult, PcStopKind } from "./run.js";
export { fwCfgBuildSmbios } from "./smbios/fw-cfg-smbios.js";
export {
  SMBIOS_ANCHOR_FILE,
  SMBIOS_TABLES_FILE,
  type SmbiosBuildResult,
  type SmbiosConfig,
  type SmbiosRamArea,
  smbiosBuild,
} from "./smbios/smbios.js";
export { resetX86Cpu } from "./x86-cpu.js";
