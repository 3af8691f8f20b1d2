/**
 * A data file's column metrics for its manifest entry, read from its Parquet
 * footer (DuckDB's `parquet_metadata`, one call for many files): per column,
 * the compressed bytes of its chunks (`column_sizes`), values including nulls
 * (`value_counts`), nulls (`null_value_counts`) and the lowest and highest
 * value over its row groups (as statistics text; `singleValue.ts` serializes
 * them). Files never change once written, so the metrics are read once and
 * kept in `_tierdb_iceberg_files`.
 */
import type { ColdType } from '../cold/columnTypes.js';
import { sqlString, type DuckDbEngine } from '../cold/DuckDbEngine.js';
import { compareStat } from './singleValue.js';

export interface ColumnStats {
  size: number;
  values: number;
  /** null when some row group has no null count. */
  nulls: number | null;
  /** null when some row group has no (exact) statistics. */
  min: string | null;
  max: string | null;
}

/** By column name. */
export type FileStats = Record<string, ColumnStats>;

export async function readDataFileStats(engine: DuckDbEngine, files: readonly { local: string; types: ReadonlyMap<string, ColdType> }[]): Promise<FileStats[]> {
  if (files.length === 0) return [];
  const reader = await engine.connection.runAndReadAll(
    `SELECT file_name, path_in_schema, total_compressed_size, num_values, stats_null_count, stats_min_value, stats_max_value, min_is_exact, max_is_exact
       FROM parquet_metadata([${files.map((f) => sqlString(f.local)).join(', ')}])`,
  );
  const byFile = new Map<string, FileStats>(files.map((f) => [f.local, {}]));
  const typesOf = new Map(files.map((f) => [f.local, f.types]));
  // Columns whose row groups so far hold nulls only: the first group with values sets their range.
  const pendingRange = new Set<string>();
  for (const row of reader.getRows()) {
    const [file, column, size, values, nulls, min, max, minExact, maxExact] = row as [string, string, bigint | null, bigint | null, bigint | null, string | null, string | null, boolean | null, boolean | null];
    const stats = byFile.get(file);
    const type = typesOf.get(file)?.get(column);
    if (!stats || type === undefined) continue;
    const allNull = nulls !== null && values !== null && nulls === values;
    // A row group of nulls only has no min/max and does not widen the range; inexact or missing statistics make it unknown.
    const lo = allNull ? undefined : minExact === false ? null : min;
    const hi = allNull ? undefined : maxExact === false ? null : max;
    const c = stats[column];
    if (!c) {
      stats[column] = { size: Number(size ?? 0), values: Number(values ?? 0), nulls: nulls === null ? null : Number(nulls), min: lo ?? null, max: hi ?? null };
      if (allNull) pendingRange.add(`${file}\u0000${column}`);
      continue;
    }
    c.size += Number(size ?? 0);
    c.values += Number(values ?? 0);
    c.nulls = c.nulls === null || nulls === null ? null : c.nulls + Number(nulls);
    if (lo === undefined || hi === undefined) continue;
    const id = `${file}\u0000${column}`;
    if (pendingRange.delete(id)) {
      c.min = lo;
      c.max = hi;
      continue;
    }
    c.min = c.min === null || lo === null ? null : compareStat(type, lo, c.min) < 0 ? lo : c.min;
    c.max = c.max === null || hi === null ? null : compareStat(type, hi, c.max) > 0 ? hi : c.max;
  }
  return files.map((f) => byFile.get(f.local)!);
}
