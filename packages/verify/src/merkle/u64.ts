/** Tree indices and sizes arrive from outside (LEDGER-FORMATS.md): accept only exact uint64 values. */

const U64_MAX = (1n << 64n) - 1n;

/** Converts a non-negative safe integer or a bigint in [0, 2^64) to bigint; undefined otherwise. */
export function toUint64(value: number | bigint): bigint | undefined {
  if (typeof value === 'bigint') return value >= 0n && value <= U64_MAX ? value : undefined;
  if (!Number.isSafeInteger(value) || value < 0) return undefined;
  return BigInt(value);
}
