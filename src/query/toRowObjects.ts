/**
 * Turns results into plain row objects keyed by column name, with the value
 * contract of QueryOptions.ts (bigint, number, string, Buffer, null).
 */
import type { DuckDBResultReader } from '@duckdb/node-api';

function normalize(v: unknown): unknown {
  if (v === undefined) return null;
  if (v instanceof Uint8Array && !Buffer.isBuffer(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return v;
}

/** Arrays of values (in `names` order) to objects, keeping only `pick` (default: all). */
export function arraysToObjects(names: readonly string[], rows: readonly (readonly unknown[])[], pick?: readonly string[]): Record<string, unknown>[] {
  const wanted = pick === undefined || sameNames(pick, names) ? names : pick;
  const at = wanted === names ? undefined : wanted.map((n) => names.indexOf(n));
  const out: Record<string, unknown>[] = new Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    const o: Record<string, unknown> = {};
    for (let c = 0; c < wanted.length; c++) o[wanted[c]!] = normalize(row[at === undefined ? c : at[c]!]);
    out[r] = o;
  }
  return out;
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A DuckDB result (read to the end) as row objects; duplicate column names get DuckDB's `_1` suffixes. */
export function readerToObjects(reader: DuckDBResultReader): Record<string, unknown>[] {
  return arraysToObjects(reader.deduplicatedColumnNames(), reader.getRowsJS());
}
