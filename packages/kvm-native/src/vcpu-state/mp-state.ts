import { MP_STATES, type MpState } from "@memtopo/kvm";
import { bad, protocol } from "./codec.js";

/** KVM_MP_STATE_* number to its name. */
export function decodeMpState(value: number): MpState {
  const name = MP_STATES[value];
  if (name === undefined) protocol("KVM_GET_MP_STATE", `unknown mp_state ${value}`);
  return name;
}

export function encodeMpState(state: MpState): number {
  const value = MP_STATES.indexOf(state);
  if (value < 0) bad("KVM_SET_MP_STATE", "state", `one of ${MP_STATES.join(", ")}`);
  return value;
}
