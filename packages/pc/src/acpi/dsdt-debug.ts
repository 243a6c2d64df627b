import {
  type Aml,
  FIELD_ACCESS,
  field,
  int,
  local,
  method,
  operationRegion,
  REGION_SPACE,
  ref,
  scope,
  store,
} from "./aml.js";
import { arg, derefOf, increment, index, lless, sizeOf, subtract, toBuffer, toHexString, whileDo } from "./aml-ops.js";

const DEBUGCON_PORT = 0x402;

/**
 * build_dbg_aml: `\DBUG(value)` prints a value in hex and a newline on the debug console
 * port, one byte at a time through the DBGB field (for AML authors tracing a guest).
 */
export function debugAml(): Aml {
  const dbgb = ref("DBGB");
  return scope("\\", [
    operationRegion("DBG", REGION_SPACE.systemIo, DEBUGCON_PORT, 1),
    field("DBG", FIELD_ACCESS.byte, [{ name: "DBGB", bits: 8 }]),
    method("DBUG", 1, [
      toHexString(arg(0), local(0)),
      toBuffer(local(0), local(0)),
      // The string's buffer ends in its NUL, which is not printed.
      subtract(sizeOf(local(0)), int(1), local(1)),
      store(int(0), local(2)),
      whileDo(lless(local(2), local(1)), [store(derefOf(index(local(0), local(2))), dbgb), increment(local(2))]),
      store(int(0x0a), dbgb),
    ]),
  ]);
}
