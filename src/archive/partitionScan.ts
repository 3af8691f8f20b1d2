/**
 * The partition scan: which partitions of a table are old enough to move, and
 * the next one with rows. The cursor runs over the time column's own values
 * (ISO text by its date prefix), always strictly forward, so the scan ends even
 * over values that name no partition; those are refused and stay hot.
 */
import type Database from 'better-sqlite3';
import { partitionOf, type PartitionSpan } from '../cold/coldLayout.js';
import type { ResolvedTable } from '../registry/resolveRegistry.js';
import type { ArchiveContext } from './ArchiveContext.js';
import type { TableReport } from './ArchiveReport.js';
import type { TableShape } from './TableShape.js';
import { boundForColumn, DAY_MS, isoDatePrefixMs, valueToMs } from '../registry/timeUnit.js';

/** Where the partition scan goes on: after (or from) this time column value. */
export interface ScanCursor {
  value: unknown;
  inclusive: boolean;
}

export type NextPartition = { span: PartitionSpan; next: ScanCursor } | { unplaceable: unknown; next: ScanCursor };

/** Start of the partition holding `now − hotDays`: every partition before it is wholly old enough. */
export function partitionBoundaryMs(t: ResolvedTable, now: number): number {
  return partitionOf(now - t.hotDays * DAY_MS, t.partition).startMs;
}

/**
 * The oldest partition with rows in [after, boundaryMs), or undefined. Each
 * step moves `after` strictly forward, so the scan always ends: a time value
 * that names no partition (not a time in the table's unit) is returned as
 * `unplaceable` and stepped over.
 */
export function nextPartition(raw: Database.Database, s: TableShape, after: ScanCursor | undefined, boundaryMs: number): NextPartition | undefined {
  const unit = s.t.timeUnit;
  const lower = after === undefined ? '' : ` AND ${s.time} ${after.inclusive ? '>=' : '>'} ?`;
  const params = after === undefined ? [boundForColumn(boundaryMs, unit)] : [boundForColumn(boundaryMs, unit), after.value];
  const row = raw
    .prepare(`SELECT ${s.time} AS t FROM ${s.from} WHERE ${s.time} < ?${lower} ORDER BY ${s.time} LIMIT 1`)
    .safeIntegers(true)
    .get(...params) as { t: unknown } | undefined;
  if (!row) return undefined;
  // ISO text is partitioned by its own date prefix, the order SQLite selects it in.
  const ms = unit === 'iso' ? (typeof row.t === 'string' ? isoDatePrefixMs(row.t) : NaN) : valueToMs(row.t, unit);
  if (Number.isNaN(ms)) return { unplaceable: row.t, next: { value: row.t, inclusive: false } };
  const span = partitionOf(ms, s.t.partition);
  return { span, next: { value: boundForColumn(span.endMs, unit), inclusive: true } };
}

/**
 * Reads one partition [lo, hi) in chunks ordered by (time, key), at most
 * `batchSize` rows each (`safeIntegers`, so 64-bit values are exact); pass the
 * last row's (time, key) as `cursor` to read the next chunk. A chunk's rows come
 * one at a time from one statement (one snapshot): iterate them to the end
 * before the connection runs anything else.
 */
export function chunkReader(raw: Database.Database, s: TableShape): (lo: unknown, hi: unknown, cursor: unknown[] | undefined, batchSize: number) => IterableIterator<unknown[]> {
  const first = raw
    .prepare(`SELECT ${s.selectList} FROM ${s.from} WHERE ${s.time} >= ? AND ${s.time} < ? ORDER BY ${s.time}, ${s.key} LIMIT ?`)
    .raw(true)
    .safeIntegers(true);
  const next = raw
    .prepare(`SELECT ${s.selectList} FROM ${s.from} WHERE ${s.time} >= ? AND ${s.time} < ? AND (${s.time}, ${s.key}) > (?, ?) ORDER BY ${s.time}, ${s.key} LIMIT ?`)
    .raw(true)
    .safeIntegers(true);
  return (lo, hi, cursor, batchSize) =>
    (cursor === undefined ? first.iterate(lo, hi, batchSize) : next.iterate(lo, hi, cursor[0], cursor[1], batchSize)) as IterableIterator<unknown[]>;
}

/** Rows whose time value names no partition: they stay hot, and the report says so. */
export function refuseUnplaceable(ctx: Pick<ArchiveContext, 'raw' | 'logger'>, s: TableShape, value: unknown, report: TableReport): void {
  const rows = ctx.raw.prepare(`SELECT ${s.key} FROM ${s.from} WHERE ${s.time} = ? LIMIT 4`).pluck().safeIntegers(true).all(value) as unknown[];
  const reason =
    `${s.t.table}.${s.t.timeColumn} = ${JSON.stringify(String(value))} is not a ${s.t.timeUnit} time ` +
    `(${s.t.keyColumn} ${rows.slice(0, 3).map(String).join(', ')}${rows.length > 3 ? ', …' : ''}); those rows stay hot: fix the value or the registry's timeUnit`;
  report.refused.push({ partition: '?', reason });
  ctx.logger.warn({ table: s.t.table, value: String(value) }, reason);
}

/** Whether an index starts with the time column (else every partition is a full table scan). */
export function timeColumnIndexed(raw: Database.Database, t: ResolvedTable): boolean {
  const indexes = raw.prepare(`SELECT name FROM pragma_index_list(?)`).pluck().all(t.table) as string[];
  return indexes.some((index) => (raw.prepare(`SELECT name FROM pragma_index_info(?) WHERE seqno = 0`).pluck().get(index) as string | undefined) === t.timeColumn);
}

/** Lets pending I/O callbacks (signals, lease heartbeats) run; the scan calls it between partitions. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
