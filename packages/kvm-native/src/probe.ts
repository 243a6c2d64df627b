import { type BindingLoadFailure, isBinding, loadBinding, type NativeBinding } from "./binding.js";
import { native } from "./errors.js";

export const DEFAULT_KVM_DEVICE = "/dev/kvm";

/** Why KVM cannot be used here: a stable reason plus a human-readable detail. */
export type ProbeFailureReason =
  | "not-linux"
  | "unsupported-arch"
  | "no-binary"
  | "ENOENT"
  | "EACCES"
  | "EPERM"
  | "EBUSY"
  | "ENODEV"
  | "bad-api-version"
  | (string & {});

export type ProbeResult =
  | { readonly ok: true; readonly apiVersion: number; readonly devicePath: string }
  | {
      readonly ok: false;
      readonly reason: ProbeFailureReason;
      readonly detail: string;
      readonly triedPaths?: readonly string[];
    };

export interface ProbeOptions {
  /** The KVM device, "/dev/kvm" unless told. */
  readonly devicePath?: string;
  /** A binding to use instead of the package's own binary (a custom build). */
  readonly nativeBinding?: NativeBinding;
}

/** The loaded addon, or why it is unusable on this platform. */
export function bindingOrReason(
  nativeBinding?: NativeBinding,
): NativeBinding | (BindingLoadFailure & { reason: ProbeFailureReason }) {
  if (nativeBinding !== undefined) return nativeBinding;
  if (process.platform !== "linux") {
    return { reason: "not-linux", detail: `KVM needs Linux; this is ${process.platform}`, triedPaths: [] };
  }
  if (process.arch !== "x64") {
    return { reason: "unsupported-arch", detail: `kvm-native supports x64; this is ${process.arch}`, triedPaths: [] };
  }
  const loaded = loadBinding();
  return isBinding(loaded) ? loaded : { ...loaded, reason: "no-binary" };
}

/**
 * Can a VM be created here? Never throws: loads the addon, opens the device and
 * checks KVM_GET_API_VERSION, and says why not otherwise.
 */
export function probe(options: ProbeOptions = {}): ProbeResult {
  const devicePath = options.devicePath ?? DEFAULT_KVM_DEVICE;
  const binding = bindingOrReason(options.nativeBinding);
  if (!("layout" in binding)) {
    return { ok: false, reason: binding.reason, detail: binding.detail, triedPaths: binding.triedPaths };
  }
  try {
    const apiVersion = native("probe", () => binding.probeDevice(devicePath));
    if (apiVersion !== binding.layout.apiVersion) {
      return {
        ok: false,
        reason: "bad-api-version",
        detail: `${devicePath} reports KVM API ${apiVersion}, expected ${binding.layout.apiVersion}`,
      };
    }
    return { ok: true, apiVersion, devicePath };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return {
      ok: false,
      reason: typeof code === "string" ? code : "unknown",
      detail: error instanceof Error ? error.message : String(error),
    };
  }
}

let defaultProbe: ProbeResult | undefined;

/** {@link probe} of the default device and binary, done once per process and remembered. */
export function isAvailable(): ProbeResult {
  defaultProbe ??= probe();
  return defaultProbe;
}
