// Names an attacker picks: each would fake output, drive a terminal, or break XML if printed raw.
export const FORGED_NAMES: readonly string[] = [
  // A newline and a whole fake line of info mtree: a RAM region over the APIC.
  "pci\n    00000000fee00000-00000000fee00fff (prio 9, ram): fake-ram-over-apic",
  "clear\u001b[2J\u001b[Hmemtopo: ok",
  "bell\u0007form\u000cfeed",
  "carriage\rreturn",
  "nul\u0000byte",
  "tab\there",
  "back\\slash\\x41",
  "delete\u007f and c1 \u0085\u009b",
  "line\u2028para\u2029sep",
  "bidi \u202eevil\u202c \u2066iso\u2069",
  "not a char \ufffe \uffff",
  "lone \ud800 surrogate \udc00",
  "emoji 🙂 and ü",
];
