/**
 * Drops cold files that cannot hold a matching row, from the manifest alone:
 * conditions on the time column against each file's [min_time_ms, max_time_ms],
 * conditions on the key column against [min_key, max_key]. Pruning is
 * conservative: when in doubt a file is kept.
 */
import { DAY_MS, valueToMs } from '../registry/timeUnit.js';
import { compareSqlValues } from '../hot/compareSqlValues.js';
import type { Condition } from './normalizeQuery.js';
import type { LiveFile } from './readLiveFiles.js';
import type { TableShape } from './tableShape.js';

export interface Range<T> {
  lo: T | undefined;
  hi: T | undefined;
  /** No value can match (e.g. `isNull` on the time column, `in: []`). */
  empty: boolean;
}

function tighten<T>(range: Range<T>, lo: T | undefined, hi: T | undefined, cmp: (a: T, b: T) => number | undefined): void {
  if (lo !== undefined && (range.lo === undefined || (cmp(lo, range.lo) ?? 0) > 0)) range.lo = lo;
  if (hi !== undefined && (range.hi === undefined || (cmp(hi, range.hi) ?? 0) < 0)) range.hi = hi;
}

/** The range of values the conditions on one column allow (inclusive, widened for strict bounds). */
export function columnRange<T>(
  conditions: readonly Condition[],
  column: string,
  convert: (v: unknown) => T | undefined,
  cmp: (a: T, b: T) => number | undefined,
): Range<T> {
  const range: Range<T> = { lo: undefined, hi: undefined, empty: false };
  for (const c of conditions) {
    if (c.column !== column) continue;
    if (c.op === 'isNull') {
      // The archiver never moves a row whose time or key is NULL.
      range.empty = true;
      continue;
    }
    if (c.op === 'in') {
      if (c.values.length === 0) {
        range.empty = true;
        continue;
      }
      const converted = c.values.map(convert);
      if (converted.some((v) => v === undefined)) continue;
      const sorted = (converted as T[]).slice().sort((a, b) => cmp(a, b) ?? 0);
      tighten(range, sorted[0], sorted[sorted.length - 1], cmp);
      continue;
    }
    if (!['eq', 'gt', 'gte', 'lt', 'lte'].includes(c.op)) continue;
    const v = convert(c.values[0]);
    if (v === undefined) continue;
    if (c.op === 'eq') tighten(range, v, v, cmp);
    else if (c.op === 'gt' || c.op === 'gte') tighten(range, v, undefined, cmp);
    else tighten(range, undefined, v, cmp);
  }
  return range;
}

/** The time range the conditions allow, in unix ms (ISO text widened by a day: zones and formats vary). */
export function timeRangeMs(conditions: readonly Condition[], shape: TableShape): Range<number> {
  const margin = shape.timeUnit === 'iso' ? DAY_MS : 0;
  const range = columnRange<number>(
    conditions,
    shape.timeColumn,
    (v) => {
      const ms = valueToMs(v, shape.timeUnit);
      return Number.isFinite(ms) ? ms : undefined;
    },
    (a, b) => a - b,
  );
  if (range.lo !== undefined) range.lo -= margin;
  if (range.hi !== undefined) range.hi += margin;
  return range;
}

export function keyRange(conditions: readonly Condition[], shape: TableShape): Range<unknown> {
  return columnRange<unknown>(conditions, shape.keyColumn, (v) => v, compareSqlValues);
}

export function pruneFiles(files: readonly LiveFile[], conditions: readonly Condition[], shape: TableShape): LiveFile[] {
  if (conditions.length === 0) return [...files];
  const time = timeRangeMs(conditions, shape);
  const key = keyRange(conditions, shape);
  if (time.empty || key.empty) return [];
  return files.filter((f) => {
    if (time.lo !== undefined && f.maxTimeMs < time.lo) return false;
    if (time.hi !== undefined && f.minTimeMs > time.hi) return false;
    if (key.lo !== undefined && f.maxKey !== null && (compareSqlValues(f.maxKey, key.lo) ?? 0) < 0) return false;
    if (key.hi !== undefined && f.minKey !== null && (compareSqlValues(f.minKey, key.hi) ?? 0) > 0) return false;
    return true;
  });
}
