import { NativeKvm, probe } from "@memtopo/kvm-native";
import { MemtopoError } from "@memtopo/region-tree";
import { mockBackend } from "./mock.js";
import { nativeBackend } from "./native.js";
import type { DemoBackend } from "./types.js";

export type BackendChoice = "auto" | "mock" | "native";

/** The backend to use, and (when it is the mock one) the one-line reason native was not. */
export function chooseBackend(choice: BackendChoice): { backend: DemoBackend; whyNotNative: string | null } {
  if (choice === "mock") return { backend: mockBackend(), whyNotNative: "--backend mock was given" };
  const p = probe();
  if (!p.ok) {
    const why = `KVM is not usable here (${p.detail.includes(p.reason) ? p.detail : `${p.reason}: ${p.detail}`})`;
    if (choice === "native") throw new MemtopoError("E_KVM_UNAVAILABLE", `--backend native: ${why}`);
    return { backend: mockBackend(), whyNotNative: why };
  }
  try {
    return { backend: nativeBackend(NativeKvm.open()), whyNotNative: null };
  } catch (error) {
    if (choice === "native" || !(error instanceof MemtopoError)) throw error;
    return { backend: mockBackend(), whyNotNative: `creating a VM failed (${error.message})` };
  }
}
