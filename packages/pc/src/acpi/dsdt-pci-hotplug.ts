import {
  type Aml,
  buffer,
  device,
  FIELD_ACCESS,
  FIELD_WRITE_AS_ZEROS,
  field,
  ifThen,
  int,
  lequal,
  local,
  lor,
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
  and,
  arg,
  call,
  derefOf,
  index,
  lless,
  lnot,
  mutex,
  notify,
  or,
  release,
  shiftLeft,
} from "./aml-ops.js";

/** QEMU's ACPI PCI hot-plug registers (acpi-pci-hotplug, 0xae00 on PIIX4). */
const PCIHP_IO_BASE = 0xae00;
/** The UUID of PCI firmware's _DSM (E5C937D0-3553-4D7A-9117-EA4D19C3434D) in its buffer byte order. */
const PCI_DSM_UUID = Uint8Array.of(
  0xd0,
  0x37,
  0xc9,
  0xe5,
  0x53,
  0x35,
  0x7a,
  0x4d,
  0x91,
  0x17,
  0xea,
  0x4d,
  0x19,
  0xc3,
  0x43,
  0x4d,
);
/** _DSM function 7: the device's label and index (the ACPI index from the hot-plug registers). */
const DSM_FUNC_DEVICE_LABEL = 7;
const SLOTS = 32;
/** Notify values: device check (a device appeared), eject request. */
const NOTIFY_DEVICE_CHECK = 1;
const NOTIFY_EJECT_REQUEST = 3;

const dwords = (names: readonly string[]) => names.map((n) => ({ name: n, bits: 32 }));

/**
 * build_x86_acpi_pci_hotplug: the hot-plug registers (up/down/eject bitmaps, bus and index
 * selectors), the lock, PCEJ (eject a slot), AIDX (read a slot's ACPI index) and PDSM (the
 * PCI firmware _DSM behind every slot's _DSM).
 */
export function pciHotplugAml(): Aml {
  const flags = FIELD_ACCESS.dword | FIELD_WRITE_AS_ZEROS;
  return scope("_SB.PCI0", [
    operationRegion("PCST", REGION_SPACE.systemIo, PCIHP_IO_BASE, 8),
    field("PCST", flags, dwords(["PCIU", "PCID"])),
    operationRegion("SEJ", REGION_SPACE.systemIo, PCIHP_IO_BASE + 8, 4),
    field("SEJ", flags, dwords(["B0EJ"])),
    operationRegion("BNMR", REGION_SPACE.systemIo, PCIHP_IO_BASE + 0x10, 8),
    field("BNMR", flags, dwords(["BNUM", "PIDX"])),
    mutex("BLCK"),
    method("PCEJ", 2, [
      acquire("BLCK"),
      store(arg(0), ref("BNUM")),
      store(shiftLeft(int(1), arg(1)), ref("B0EJ")),
      release("BLCK"),
      returnOf(int(0)),
    ]),
    method("AIDX", 2, [
      acquire("BLCK"),
      store(arg(0), ref("BNUM")),
      store(shiftLeft(int(1), arg(1)), ref("PIDX")),
      store(ref("PIDX"), local(0)),
      release("BLCK"),
      returnOf(local(0)),
    ]),
    pdsm(),
  ]);
}

/** PDSM(uuid, revision, function, args, {BSEL, ASUN}): functions 0 (supported set) and 7 (label). */
function pdsm(): Aml {
  const acpiIndex = store(call("AIDX", [derefOf(index(arg(4), int(0))), derefOf(index(arg(4), int(1)))]), local(2));
  // An index of 0 or all ones means the slot has none.
  const noIndex = (combine: (a: Aml, b: Aml) => Aml) =>
    combine(lequal(local(2), int(0)), lequal(local(2), int(0xffff_ffff)));
  return method(
    "PDSM",
    5,
    [
      ifThen(lequal(arg(2), int(0)), [
        store(buffer(Uint8Array.of(0)), local(0)),
        store(int(0), local(1)),
        ifThen(lnot(lequal(arg(0), buffer(PCI_DSM_UUID))), [returnOf(local(0))]),
        ifThen(lless(arg(1), int(2)), [returnOf(local(0))]),
        acpiIndex,
        ifThen(lnot(noIndex((a, b) => or(a, b))), [
          or(local(1), int(1), local(1)),
          or(local(1), shiftLeft(int(1), int(DSM_FUNC_DEVICE_LABEL)), local(1)),
        ]),
        store(local(1), index(local(0), int(0))),
        returnOf(local(0)),
      ]),
      ifThen(lequal(arg(2), int(DSM_FUNC_DEVICE_LABEL)), [
        acpiIndex,
        store(packageOf([], 2), local(0)),
        ifThen(lnot(noIndex(lor)), [
          store(local(2), index(local(0), int(0))),
          store(string(""), index(local(0), int(1))),
        ]),
        returnOf(local(0)),
      ]),
    ],
    true,
  );
}

/** The slot's name: S and its devfn in hex without leading zero ("S00", "S08", ... "SF8"). */
const slotName = (slot: number) => `S${(slot << 3).toString(16).toUpperCase().padStart(2, "0")}`;

/** A slot's _ADR, its ACPI slot number and the _DSM that hands both to PDSM. */
function slotCommon(slot: number): Aml[] {
  return [
    name("_ADR", int(slot << 16)),
    name("ASUN", int(slot)),
    method(
      "_DSM",
      4,
      [
        store(packageOf([ref("BSEL"), ref("ASUN")]), local(0)),
        returnOf(call("PDSM", [arg(0), arg(1), arg(2), arg(3), local(0)])),
      ],
      true,
    ),
  ];
}

/** An empty hot-pluggable slot: its slot number and the eject method. */
function hotplugSlot(slot: number): Aml {
  return device(slotName(slot), [
    ...slotCommon(slot),
    name("_SUN", int(slot)),
    method("_EJ0", 1, [call("PCEJ", [ref("BSEL"), ref("_SUN")])]),
  ]);
}

/** DVNT(bitmap, event): notify each hot-pluggable slot whose bit is set. */
function dvnt(firstHotplug: number): Aml {
  const body: Aml[] = [];
  for (let slot = firstHotplug; slot < SLOTS; slot++) {
    body.push(ifThen(and(arg(0), int(2 ** slot)), [notify(ref(slotName(slot)), arg(1))]));
  }
  return method("DVNT", 2, body);
}

/**
 * build_append_pci_bus_devices and build_append_pcihp_slots for bus 0 (BSEL 0): the host
 * bridge's slot 0, PIIX3's slot 1 holding `isaBridge` (its PIRQ field and the ISA devices),
 * and slots 2-31 empty and hot-pluggable; DVNT and PCNT, which the GPE handler calls to
 * notify slots whose devices came or are to go.
 */
export function pciBusAml(isaBridge: readonly Aml[]): Aml {
  const slots: Aml[] = [device(slotName(0), slotCommon(0)), device(slotName(1), [...slotCommon(1), ...isaBridge])];
  for (let slot = 2; slot < SLOTS; slot++) slots.push(hotplugSlot(slot));
  return scope("\\_SB", [
    scope("PCI0", [
      name("BSEL", int(0)),
      ...slots,
      dvnt(2),
      method("PCNT", 0, [
        store(int(0), ref("BNUM")),
        call("DVNT", [ref("PCIU"), int(NOTIFY_DEVICE_CHECK)]),
        call("DVNT", [ref("PCID"), int(NOTIFY_EJECT_REQUEST)]),
      ]),
    ]),
  ]);
}

/** \_GPE._E01: the PCI hot-plug event, PCNT under the lock. */
export function pciHotplugGpe(): Aml {
  return scope("_GPE", [
    method("_E01", 0, [acquire("\\_SB.PCI0.BLCK"), call("\\_SB.PCI0.PCNT"), release("\\_SB.PCI0.BLCK")]),
  ]);
}
