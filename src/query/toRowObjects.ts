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
  const wanted = (pick ?? names).map((n) => [n, names.indexOf(n)] as const);
  return rows.map((row) => {
    const out: Record<string, unknown> = {};
    for (const [name, i] of wanted) out[name] = normalize(row[i]);
    return out;
  });
}

/** A DuckDB result (read to the end) as row objects; duplicate column names get DuckDB's `_1` suffixes. */
export function readerToObjects(reader: DuckDBResultReader): Record<string, unknown>[] {
  return arraysToObjects(reader.deduplicatedColumnNames(), reader.getRowsJS());
}
