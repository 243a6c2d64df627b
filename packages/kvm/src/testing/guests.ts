/**
 * The real-mode guests of the vCPU conformance cases, as bytes to load at {@link GUEST_ENTRY}:
 * `guests/<name>.S` assembled with binutils (`as --32`, `objcopy -O binary -j .text`), so that
 * neither backend's test needs an assembler. kvm-mock's tests check the bytes against the
 * sources where binutils is installed.
 */
export const GUEST_ENTRY = 0x1000;

const hex = (text: string): Uint8Array => Uint8Array.from(text.match(/../g)!, (h) => Number.parseInt(h, 16));

/** The guest sources' names and bytes. */
export const CONFORMANCE_GUESTS = {
  /** Port I/O, MMIO through FS and a RAM store, then HLT. */
  "io-mmio": hex("b05ae680ba10c1ed89c36466a100006466a3040064891e0800c606002042f4"),
  /** Programs the PIC, says ready on 0x81, counts IRQ4 at 0x500 (reported on 0x82), done on 0x83. */
  irq: hex(
    "fa31c08ed88ed0bc0070c70600050000c70690005510c70692000000b011e620b020e621b004e621b001e621b0efe62189f0bad004eee68185ed740bfa393e0005730dfbf4ebf5fb393e00057302e2f7fae683ebfe50ff060005a10005e682b020e62058cf",
  ),
  /** Programs the PIC and the PIT (1 ms, mode 2), counts three IRQ0 ticks at 0x500, done on 0x83. */
  pit: hex(
    "fa31c08ed88ed0bc0070c70600050000c70680004a10c70682000000b011e620b020e621b004e621b001e621b0fee621b034e643b0a9e640b004e640fbf4833e00050372f8fae683ebfe50ff060005b020e62058cf",
  ),
  /** Puts a #UD handler in the IVT, says ready on 0x81; the handler reports 6 on 0x82. */
  exception: hex("fa31c08ed88ed0bc0070c70618001910c7061a000000e681f4b006e682cf"),
  /** CPUID leaf 0, its registers stored at 0x2000 (EBX, EDX, ECX, EAX), then HLT. */
  cpuid: hex("6631c06631c90fa266891e0020668916042066890e082066a30c20f4"),
} as const satisfies Record<string, Uint8Array>;

export type ConformanceGuestName = keyof typeof CONFORMANCE_GUESTS;
