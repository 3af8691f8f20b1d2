/**
 * Rows per age bucket by a time column, in one scan: how much of a table a
 * given `hotDays` would leave hot. Bucket edges are UTC midnights, like the
 * archiver's partitions.
 */
import type Database from 'better-sqlite3';
import { boundForColumn, DAY_MS, isoDatePrefixMs, valueToMs } from '../registry/timeUnit.js';
import { sqlIdent } from '../cold/DuckDbEngine.js';
import type { TimeUnit } from '../registry/defineRegistry.js';

/** The bucket edges in days; the last bucket is "older than the last edge". */
export const AGE_BUCKET_DAYS = [7, 30, 90, 365] as const;

export interface AgeBuckets {
  /** Rows newer than 7, 7–30, 30–90, 90–365 days, and older than 365 days. */
  counts: [number, number, number, number, number];
  /** NULL, or not a time in the unit (wrong storage class, text that is no date). */
  noTime: number;
  /** Oldest and newest time in the column (UTC ISO), undefined when none. */
  oldest?: string;
  newest?: string;
}

/** Start of the UTC day `days` before `now`. */
export function dayEdgeMs(now: number, days: number): number {
  const ms = now - days * DAY_MS;
  return ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS);
}

export function countAgeBuckets(raw: Database.Database, table: string, column: string, unit: TimeUnit, now: number): AgeBuckets {
  const c = sqlIdent(column);
  const isTime =
    unit === 'iso'
      ? `(typeof(${c}) = 'text' AND ${c} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*')`
      : `typeof(${c}) IN ('integer', 'real')`;
  const edges = AGE_BUCKET_DAYS.map((d) => boundForColumn(dayEdgeMs(now, d), unit));
  const row = raw
    .prepare(
      `SELECT count(*) AS total,
        coalesce(sum(${isTime} AND ${c} >= ?), 0) AS b0,
        coalesce(sum(${isTime} AND ${c} < ? AND ${c} >= ?), 0) AS b1,
        coalesce(sum(${isTime} AND ${c} < ? AND ${c} >= ?), 0) AS b2,
        coalesce(sum(${isTime} AND ${c} < ? AND ${c} >= ?), 0) AS b3,
        coalesce(sum(${isTime} AND ${c} < ?), 0) AS b4,
        min(CASE WHEN ${isTime} THEN ${c} END) AS lo,
        max(CASE WHEN ${isTime} THEN ${c} END) AS hi
      FROM ${sqlIdent(table)}`,
    )
    .safeIntegers(true)
    .get(edges[0], edges[0], edges[1], edges[1], edges[2], edges[2], edges[3], edges[3]) as Record<'total' | 'b0' | 'b1' | 'b2' | 'b3' | 'b4', bigint> & {
    lo: unknown;
    hi: unknown;
  };
  const counts = [row.b0, row.b1, row.b2, row.b3, row.b4].map(Number) as AgeBuckets['counts'];
  const buckets: AgeBuckets = { counts, noTime: Number(row.total) - counts.reduce((a, b) => a + b, 0) };
  const iso = (v: unknown): string | undefined => {
    const ms = unit === 'iso' ? (typeof v === 'string' ? isoDatePrefixMs(v) : NaN) : valueToMs(v, unit);
    if (Number.isNaN(ms) || Math.abs(ms) > 8.64e15) return undefined;
    return unit === 'iso' ? (v as string) : new Date(ms).toISOString();
  };
  const oldest = iso(row.lo);
  const newest = iso(row.hi);
  if (oldest !== undefined) buckets.oldest = oldest;
  if (newest !== undefined) buckets.newest = newest;
  return buckets;
}
