/**
 * Iceberg's binary single-value serialization (spec Appendix D) of the lower
 * and upper bounds in manifests, from the text of the Parquet statistics
 * DuckDB reports: long — 8 bytes little-endian; double — 8 bytes
 * little-endian IEEE 754 (a bound of zero is written -0.0 when lower, +0.0
 * when upper, so both zeros stay inside; NaN is never a bound); string —
 * UTF-8 bytes. Long strings are cut to their first 16 characters for the
 * lower bound (a prefix is ≤ the value) and get no upper bound. Binary
 * columns get no bounds.
 */
import type { ColdType } from '../cold/columnTypes.js';

/** Strings longer than this (UTF-8 bytes) are truncated as a lower bound and have no upper bound. */
export const MAX_STRING_BOUND_BYTES = 64;
const TRUNCATE_CHARS = 16;

export function boundBytes(type: ColdType, text: string | null | undefined, side: 'lower' | 'upper'): Uint8Array | undefined {
  if (text === null || text === undefined) return undefined;
  switch (type) {
    case 'BIGINT': {
      if (!/^-?\d+$/.test(text)) return undefined;
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(BigInt(text));
      return b;
    }
    case 'DOUBLE': {
      const n = Number(text);
      if (Number.isNaN(n) || /nan/i.test(text)) return undefined;
      const b = Buffer.alloc(8);
      b.writeDoubleLE(n === 0 ? (side === 'lower' ? -0 : 0) : n);
      return b;
    }
    case 'VARCHAR': {
      const bytes = Buffer.from(text, 'utf8');
      if (bytes.length <= MAX_STRING_BOUND_BYTES) return bytes;
      if (side === 'upper') return undefined;
      return Buffer.from([...text].slice(0, TRUNCATE_CHARS).join(''), 'utf8');
    }
    case 'BLOB':
      return undefined;
  }
}

/** Compares two statistics texts of one column type (for the lowest and highest over row groups). */
export function compareStat(type: ColdType, a: string, b: string): number {
  if (type === 'BIGINT') {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (type === 'DOUBLE') return Number(a) - Number(b);
  if (type === 'VARCHAR') return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  return 0;
}
