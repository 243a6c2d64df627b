import {
  type Aml,
  buffer,
  concat,
  device,
  eisaId,
  FIELD_ACCESS,
  FIELD_WRITE_AS_ZEROS,
  field,
  ifThen,
  int,
  lequal,
  local,
  method,
  name,
  operationRegion,
  packageOf,
  REGION_SPACE,
  ref,
  returnOf,
  scope,
  store,
  string,
} from "./aml.js";
import {
  acquire,
  arg,
  breakOp,
  call,
  DEBUG,
  derefOf,
  elseDo,
  increment,
  index,
  land,
  lless,
  mutex,
  notify,
  processor,
  release,
  whileDo,
} from "./aml-ops.js";
import { io, resourceTemplate } from "./aml-resources.js";

/** QEMU's CPU hot-plug registers (acpi-cpu-hotplug, 0xaf00 on PIIX4), 12 bytes. */
const CPU_HOTPLUG_IO_BASE = 0xaf00;
const CPU_HOTPLUG_IO_LEN = 0x0c;
const PRES = "\\_SB.PCI0.PRES";
const reg = (field: string) => ref(`${PRES}.${field}`);
/** CCMD commands: read the next CPU with an event into CDAT; write _OST's event, then its status. */
const CMD_GET_NEXT_EVENT = 0;
const CMD_OST_EVENT = 1;
const CMD_OST_STATUS = 2;
/** Notify values: device check (a CPU was added), eject request. */
const NOTIFY_DEVICE_CHECK = 1;
const NOTIFY_EJECT_REQUEST = 3;
/** CSCN hands at most this many new CPUs to the OS per pass (the size of its CNEW package). */
const CNEW_SIZE = 255;
/** A MADT Local APIC entry's "enabled" flag. */
const MADT_LAPIC_ENABLED = 1;

const cpuName = (uid: number) => `C${uid.toString(16).toUpperCase().padStart(3, "0")}`;

/** PRES: the register block and its lock, claimed as a motherboard resource. */
function registers(): Aml {
  return device(PRES, [
    name("_HID", eisaId("PNP0A06")),
    name("_UID", string("CPU Hotplug resources")),
    mutex("CPLK"),
    name("_CRS", resourceTemplate([io(CPU_HOTPLUG_IO_BASE, CPU_HOTPLUG_IO_BASE, 1, CPU_HOTPLUG_IO_LEN)])),
    operationRegion("PRST", REGION_SPACE.systemIo, CPU_HOTPLUG_IO_BASE, CPU_HOTPLUG_IO_LEN),
    field("PRST", FIELD_ACCESS.byte | FIELD_WRITE_AS_ZEROS, [
      { name: null, bits: 32 },
      { name: "CPEN", bits: 1 },
      { name: "CINS", bits: 1 },
      { name: "CRMV", bits: 1 },
      { name: "CEJ0", bits: 1 },
      { name: "CEJF", bits: 1 },
      { name: null, bits: 3 },
      { name: "CCMD", bits: 8 },
    ]),
    field("PRST", FIELD_ACCESS.dword, [
      { name: "CSEL", bits: 32 },
      { name: null, bits: 32 },
      { name: "CDAT", bits: 32 },
    ]),
    method("_INI", 0, [store(int(0), ref("CSEL"))], true),
  ]);
}

/** A method body run with CPLK held. */
const locked = (body: readonly Aml[]) => [acquire(`${PRES}.CPLK`), ...body, release(`${PRES}.CPLK`)];

/** CSCN: find CPUs with insert/remove events, notify the OS of each, and acknowledge inserts. */
function cscn(cpus: number): Aml {
  const scan = whileDo(land(lequal(local(0), int(1)), lless(local(3), int(cpus))), [
    store(int(0), local(0)),
    store(local(3), reg("CSEL")),
    store(int(CMD_GET_NEXT_EVENT), reg("CCMD")),
    // No further CPU with an event: the next one found wrapped around.
    ifThen(lless(reg("CDAT"), local(3)), [breakOp()]),
    // CNEW is full: notify these and scan again.
    ifThen(lequal(local(1), int(CNEW_SIZE)), [store(int(1), local(4)), breakOp()]),
    store(reg("CDAT"), local(3)),
    ifThen(lequal(reg("CINS"), int(1)), [
      store(local(3), index(ref("CNEW"), local(1))),
      increment(local(1)),
      store(int(1), local(0)),
    ]),
    elseDo([
      ifThen(lequal(reg("CRMV"), int(1)), [
        call("CTFY", [local(3), int(NOTIFY_EJECT_REQUEST)]),
        store(int(1), reg("CRMV")),
        store(int(1), local(0)),
      ]),
    ]),
    increment(local(3)),
  ]);
  const notifyNew = whileDo(lless(local(2), local(1)), [
    store(derefOf(index(ref("CNEW"), local(2))), local(3)),
    call("CTFY", [local(3), int(NOTIFY_DEVICE_CHECK)]),
    store(local(3), DEBUG),
    store(local(3), reg("CSEL")),
    store(int(1), reg("CINS")),
    increment(local(2)),
  ]);
  return method(
    "CSCN",
    0,
    locked([
      name("CNEW", packageOf([], CNEW_SIZE)),
      store(int(0), local(3)),
      store(int(1), local(4)),
      whileDo(lequal(local(4), int(1)), [
        store(int(0), local(4)),
        store(int(1), local(0)),
        store(int(0), local(1)),
        scan,
        store(int(0), local(2)),
        notifyNew,
      ]),
    ]),
    true,
  );
}

/**
 * A Processor object: _STA from CSTA, _MAT its MADT Local APIC entry, _OST through COST, and
 * for every CPU but the boot CPU (uid 0) _EJ0 through CEJ0.
 */
function cpuDevice(uid: number): Aml {
  const lapic = Uint8Array.of(0, 8, uid, uid, MADT_LAPIC_ENABLED, 0, 0, 0);
  const eject = uid === 0 ? [] : [method("_EJ0", 1, [call("CEJ0", [int(uid)])])];
  return processor(cpuName(uid), uid, [
    method("_STA", 0, [returnOf(call("CSTA", [int(uid)]))], true),
    name("_MAT", buffer(lapic)),
    ...eject,
    method("_OST", 3, [call("COST", [int(uid), arg(0), arg(1), arg(2)])], true),
  ]);
}

/**
 * build_cpus_aml for `cpus` present CPUs (APIC IDs 0..cpus-1) with QEMU's PIIX4 options
 * (ACPI 1.0 compatible Processor objects, no SMI and no unplug by firmware): PRES, the
 * CPUS container with its helpers and a Processor per CPU, and \_GPE._E02, which rescans.
 */
export function cpuHotplugAml(cpus: number): Aml {
  const ctfy: Aml[] = [];
  for (let uid = 0; uid < cpus; uid++) {
    ctfy.push(ifThen(lequal(arg(0), int(uid)), [notify(ref(cpuName(uid)), arg(1))]));
  }
  const cpuObjects: Aml[] = [];
  for (let uid = 0; uid < cpus; uid++) cpuObjects.push(cpuDevice(uid));
  const cpuContainer = device("\\_SB.CPUS", [
    name("_HID", string("ACPI0010")),
    name("_CID", eisaId("PNP0A05")),
    method("CTFY", 2, ctfy),
    method(
      "CSTA",
      1,
      [
        ...locked([
          store(arg(0), reg("CSEL")),
          store(int(0), local(0)),
          ifThen(lequal(reg("CPEN"), int(1)), [store(int(0xf), local(0))]),
        ]),
        returnOf(local(0)),
      ],
      true,
    ),
    method("CEJ0", 1, locked([store(arg(0), reg("CSEL")), store(int(1), reg("CEJ0"))]), true),
    cscn(cpus),
    method(
      "COST",
      4,
      locked([
        store(arg(0), reg("CSEL")),
        store(int(CMD_OST_EVENT), reg("CCMD")),
        store(arg(1), reg("CDAT")),
        store(int(CMD_OST_STATUS), reg("CCMD")),
        store(arg(2), reg("CDAT")),
      ]),
      true,
    ),
    ...cpuObjects,
  ]);
  return concat([scope("_SB", [registers(), cpuContainer]), method("\\_GPE._E02", 0, [call("\\_SB.CPUS.CSCN")])]);
}
