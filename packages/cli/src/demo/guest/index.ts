import { DEMO_GUEST_HEX } from "./demo-guest-bytes.js";

/** The demo guest (demo-guest.S assembled), loaded at {@link DEMO_GUEST_ENTRY}. */
export const DEMO_GUEST: Uint8Array = Uint8Array.from(DEMO_GUEST_HEX.match(/../g)!, (h) => Number.parseInt(h, 16));
export const DEMO_GUEST_ENTRY = 0x1000;
/** What the guest copies to {@link GUEST_RAM_TEXT} and sends to the UART (demo-guest.S `msg`). */
export const DEMO_GUEST_MESSAGE = "hello from a real-mode guest\n";
/** Guest addresses of what it leaves behind for the host to check. */
export const GUEST_RAM_TEXT = 0x5000;
export const GUEST_RESULT_ID = 0x600;
export const GUEST_RESULT_SCRATCH = 0x604;
export const GUEST_RESULT_ROM_BEFORE = 0x608;
export const GUEST_RESULT_ROM_AFTER = 0x609;
/** The values the guest writes: the scratch register, and the byte it tries to put into ROM. */
export const GUEST_SCRATCH_VALUE = 0x1234abcdn;
export const GUEST_ROM_WRITE = 0x55;
export const GUEST_ROM_ADDR = 0xe0000n;
export const GUEST_DOORBELL_WRITES = 3;
