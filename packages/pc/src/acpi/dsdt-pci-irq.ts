import {
  type Aml,
  device,
  eisaId,
  ifThen,
  int,
  lequal,
  local,
  method,
  name,
  packageOf,
  ref,
  returnOf,
  scope,
  shiftRight,
  store,
} from "./aml.js";
import {
  add,
  and,
  arg,
  call,
  createDWordField,
  elseDo,
  increment,
  index,
  lless,
  NO_TARGET,
  or,
  shiftLeft,
  whileDo,
} from "./aml-ops.js";
import { interruptShared, resourceTemplate } from "./aml-resources.js";

/** PIIX3's PIRQ route register bit 7: the link is disabled (its IRQ is not routed). */
const PIRQ_DISABLE = 0x80;
/** _STA of a link: present, enabled, functioning (not shown), or the same but disabled. */
const LINK_ENABLED = 0x0b;
const LINK_DISABLED = 0x09;
/** The ISA IRQs QEMU offers a PIIX link (its _PRS), and the SCI's IRQ that the fixed LNKS uses. */
const LINK_IRQS = [5, 10, 11];
const SCI_IRQ = 9;
/** 32 slots of 4 pins. */
const PRT_ENTRIES = 128;
/** Pin INTA of slot 1, function 3 (PIIX4 PM, the SCI) is wired to LNKS, not to a routable link. */
const PM_SCI_ENTRY = 4;

/**
 * build_prt: `\_SB.PCI0._PRT` computes the 128 entries at run time, slot s pin p to link
 * (s + p) mod 4 (LNKD, LNKA, LNKB, LNKC for 0..3), except slot 1 pin A, which is LNKS.
 */
function prt(): Aml {
  const entry = (link: string) => store(packageOf([int(0), int(0), ref(link), int(0)]), local(4));
  return method("_PRT", 0, [
    store(packageOf([], PRT_ENTRIES), local(0)),
    store(int(0), local(1)),
    whileDo(lless(local(1), int(PRT_ENTRIES)), [
      store(shiftRight(local(1), int(2), NO_TARGET), local(2)),
      store(and(add(local(1), local(2)), int(3)), local(3)),
      ifThen(lequal(local(3), int(0)), [entry("LNKD")]),
      ifThen(lequal(local(3), int(1)), [
        ifThen(lequal(local(1), int(PM_SCI_ENTRY)), [entry("LNKS")]),
        elseDo([entry("LNKA")]),
      ]),
      ifThen(lequal(local(3), int(2)), [entry("LNKB")]),
      ifThen(lequal(local(3), int(3)), [entry("LNKC")]),
      // The address: device in the high word, any function (0xffff); then the pin.
      store(or(shiftLeft(local(2), int(16)), int(0xffff)), index(local(4), int(0))),
      store(and(local(1), int(3)), index(local(4), int(1))),
      store(local(4), index(local(0), local(1))),
      increment(local(1)),
    ]),
    returnOf(local(0)),
  ]);
}

/** IQST(route): a link's _STA from its PIRQ route register. */
function iqst(): Aml {
  return method("IQST", 1, [
    ifThen(and(int(PIRQ_DISABLE), arg(0)), [returnOf(int(LINK_DISABLED))]),
    returnOf(int(LINK_ENABLED)),
  ]);
}

/** IQCR(route): a link's _CRS, the routed IRQ (none when disabled). */
function iqcr(): Aml {
  return method(
    "IQCR",
    1,
    [
      name("PRR0", resourceTemplate([interruptShared([0])])),
      createDWordField(ref("PRR0"), int(5), "PRRI"),
      ifThen(lless(arg(0), int(PIRQ_DISABLE)), [store(arg(0), ref("PRRI"))]),
      returnOf(ref("PRR0")),
    ],
    true,
  );
}

/** LNKA..LNKD: a routable link over PIIX3's PIRQ route register PRQn. */
function link(linkName: string, uid: number, register: string): Aml {
  return device(linkName, [
    name("_HID", eisaId("PNP0C0F")),
    name("_UID", int(uid)),
    name("_PRS", resourceTemplate([interruptShared(LINK_IRQS)])),
    method("_STA", 0, [returnOf(call("IQST", [ref(register)]))]),
    method("_DIS", 0, [or(ref(register), int(PIRQ_DISABLE), ref(register))]),
    method("_CRS", 0, [returnOf(call("IQCR", [ref(register)]))]),
    method("_SRS", 1, [createDWordField(arg(0), int(5), "PRRI"), store(ref("PRRI"), ref(register))]),
  ]);
}

/** LNKS: the SCI's link, fixed at IRQ 9 and always enabled. */
function sciLink(): Aml {
  return device("LNKS", [
    name("_HID", eisaId("PNP0C0F")),
    name("_UID", int(4)),
    name("_PRS", resourceTemplate([interruptShared([SCI_IRQ])])),
    method("_STA", 0, [returnOf(int(LINK_ENABLED))]),
    method("_DIS", 0, []),
    method("_CRS", 0, [returnOf(ref("_PRS"))]),
    method("_SRS", 1, []),
  ]);
}

/** build_piix4_pci0_int: PCI0's _PRT, the link helpers and the five PCI interrupt links. */
export function piix4Pci0Int(): Aml {
  return scope("_SB", [
    scope("PCI0", [prt()]),
    iqst(),
    iqcr(),
    link("LNKA", 0, "PRQ0"),
    link("LNKB", 1, "PRQ1"),
    link("LNKC", 2, "PRQ2"),
    link("LNKD", 3, "PRQ3"),
    sciLink(),
  ]);
}
