import { UsageError } from "../context.js";

const TIB = 1n << 40n;

const UNITS: Record<string, bigint> = {
  B: 1n,
  K: 1n << 10n,
  M: 1n << 20n,
  G: 1n << 30n,
  T: TIB,
};

/** QEMU rounds the RAM size up to this (`ram_size` is aligned to 8 KiB when -m is parsed). */
const RAM_ALIGN = 8192n;

/**
 * `-m SIZE` as QEMU reads it: a number with an optional unit (B, K, M, G, T; MiB when there is none), fractions
 * allowed ("1.5G"), the result rounded up to 8 KiB. Anything else, zero, or more than 1 TiB (far past what the
 * board or a host can back) is a usage error naming the value.
 */
export function parseRamSize(text: string): bigint {
  const m = /^([0-9]{1,7})(?:\.([0-9]{1,6}))?([BKMGT])?$/i.exec(text);
  if (m === null) {
    throw new UsageError(`-m must be a size such as 128M, 3G or 1.5G (a unit of B, K, M, G or T), got "${text}"`);
  }
  const unit = UNITS[(m[3] ?? "M").toUpperCase()] as bigint;
  const fraction = m[2] ?? "";
  const scale = 10n ** BigInt(fraction.length);
  const bytes = (BigInt(`${m[1]}${fraction}`) * unit + scale - 1n) / scale;
  if (bytes === 0n) throw new UsageError(`-m must be more than 0, got "${text}"`);
  if (bytes > TIB) throw new UsageError(`-m must be at most 1T, got "${text}"`);
  return ((bytes + RAM_ALIGN - 1n) / RAM_ALIGN) * RAM_ALIGN;
}
