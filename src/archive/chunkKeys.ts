/** A chunk's keys: their SQLite order, their JSON form for `json_each`, their form in the manifest, and as text for sets. */
import { ArgumentError } from '../errors.js';
import { compareSqlValues } from '../hot/compareSqlValues.js';

/** Keys as a JSON array for `json_each` (64-bit integers stay exact). */
export function keysJson(keys: readonly unknown[]): string {
  return `[${keys
    .map((k) => {
      if (typeof k === 'bigint') return k.toString();
      if (typeof k === 'string' || typeof k === 'number') return JSON.stringify(k);
      throw new ArgumentError(`key value ${String(k)} cannot be archived: keys must be INTEGER, REAL or TEXT`);
    })
    .join(',')}]`;
}

/** SQLite's key order: within a class as compareSqlValues (TEXT by UTF-8 bytes, not UTF-16); numbers before text before blobs. */
export function compareKeys(a: unknown, b: unknown): number {
  const c = compareSqlValues(a, b);
  if (c !== undefined) return c;
  const rank = (v: unknown) => (typeof v === 'bigint' || typeof v === 'number' ? 0 : typeof v === 'string' ? 1 : 2);
  return rank(a) - rank(b);
}

export function keyForManifest(k: unknown): unknown {
  return typeof k === 'bigint' && k >= BigInt(Number.MIN_SAFE_INTEGER) && k <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(k) : k;
}

/** A key as text that keeps its class apart (the integer 1 is not the text '1'), for sets and digests. */
export function keyText(k: unknown): string {
  return `${typeof k}:${String(k)}`;
}
