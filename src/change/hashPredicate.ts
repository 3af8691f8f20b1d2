/**
 * A where-filter as an erasure receipt keeps it: column names and operators
 * as given, every value replaced by `sha256:<hex>` of its text (a bigint's
 * digits, a Buffer's hex), so the receipt names what was erased without
 * holding it. Hash a value the same way to check a receipt.
 */
import { createHash } from 'node:crypto';

export function hashValue(value: unknown): string {
  const text = value instanceof Uint8Array ? Buffer.from(value).toString('hex') : String(value);
  return `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;
}

export function hashPredicate(where: unknown): unknown {
  if (where === null || where === undefined || typeof where === 'boolean') return where ?? null;
  if (Array.isArray(where)) return where.map(hashPredicate);
  if (typeof where === 'object' && !(where instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(where as Record<string, unknown>).filter(([, v]) => v !== undefined).map(([k, v]) => [k, hashPredicate(v)]));
  }
  return hashValue(where);
}
