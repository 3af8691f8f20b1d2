/**
 * What is where: per registered table, the hot rows, their time range and the
 * bytes they take in the hot SQLite file. The `cold` fields are the archiver's
 * to fill (files, rows and bytes listed in the manifest).
 */
import { markerTotal } from '../manifest/deleteMarkers.js';
import { existsSync, statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { valueToMs } from '../registry/timeUnit.js';
import { sqlIdent } from '../cold/DuckDbEngine.js';
import type { HotStore } from '../hot/HotStore.js';
import { coldTotals } from '../manifest/manifestFiles.js';
import { lastRun as readLastRun } from '../manifest/runLog.js';
import type { TimeUnit } from '../registry/defineRegistry.js';
import type { ResolvedTable } from '../registry/resolveRegistry.js';

export interface HotTableStats {
  readonly rows: number;
  /** Oldest and newest value of the time column, as ISO-8601 (null when empty). */
  readonly oldest: string | null;
  readonly newest: string | null;
  /** Bytes of the table's own b-tree. */
  readonly tableBytes: number;
  /** Bytes of all its indexes together. */
  readonly indexBytes: number;
  readonly bytes: number;
}

/** The table's cold tier: the Parquet files live in the manifest. */
export interface ColdTableStats {
  readonly files: number;
  /**
   * Rows readers see from the files: the files' rows minus those delete markers hide; of a file
   * still draining only its drained prefix (its other rows are still hot and count in `hot.rows`).
   */
  readonly rows: number;
  /** Rows of the files that delete markers hide (store.delete / store.update; compaction removes them). */
  readonly masked: number;
  readonly bytes: number;
  /** Oldest and newest partition (`YYYY-MM-DD` or `YYYY-MM`), null when none. */
  readonly oldest: string | null;
  readonly newest: string | null;
  /** Estimated hot bytes those rows took in SQLite, divided by their cold bytes. */
  readonly compressionRatio: number | null;
  /** Files written under the grace period, not yet visible. */
  readonly pendingFiles: number;
  /** Live files whose rows are still being drained from the hot table (an archive run under way, or one killed: the next run finishes them). */
  readonly drainingFiles: number;
}

/** The newest archive run. */
export interface LastRunStats {
  readonly id: number;
  readonly status: string;
  readonly startedAt: string;
  readonly durationMs: number | null;
  readonly error: string | null;
}

export interface TableStats {
  readonly table: string;
  readonly timeColumn: string;
  readonly timeUnit: TimeUnit;
  readonly hotDays: number;
  /** `registry`, or the `HOT_DAYS_<TABLE>` variable that set hotDays. */
  readonly hotDaysFrom: string;
  readonly enabled: boolean;
  readonly hot: HotTableStats;
  readonly cold: ColdTableStats;
}

export interface TierStats {
  /** When the stats were taken (ISO-8601). */
  readonly at: string;
  readonly hot: {
    readonly path: string;
    /** The SQLite file itself. */
    readonly fileBytes: number;
    /** Its write-ahead log (not yet checkpointed). */
    readonly walBytes: number;
    /** Pages on the free list: reusable, or given back by incremental vacuum. */
    readonly freeBytes: number;
    /** `dbstat`: exact page counts; `estimate`: from sampled row sizes (SQLite without dbstat). */
    readonly bytesMethod: 'dbstat' | 'estimate';
  };
  readonly tables: readonly TableStats[];
  /** The cold tier's totals (live files). */
  readonly cold: { readonly files: number; readonly bytes: number };
  readonly lastRun: LastRunStats | null;
}

export interface CollectStatsOptions {
  /** Use the dbstat virtual table when SQLite has it (default true); false forces the estimate. */
  useDbstat?: boolean;
}

function toIso(value: unknown, unit: TimeUnit): string | null {
  if (value === null || value === undefined) return null;
  const ms = valueToMs(value, unit);
  // A value that is no time in the column's unit is shown as stored.
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(value);
}


function hasDbstat(raw: Database.Database): boolean {
  try {
    raw.prepare('SELECT 1 FROM dbstat LIMIT 0').all();
    return true;
  } catch {
    return false;
  }
}

function indexNames(raw: Database.Database, table: string): string[] {
  return (raw.prepare(`SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = ?`).all(table) as { name: string }[]).map((r) => r.name);
}

function dbstatBytes(raw: Database.Database, name: string): number {
  const row = raw.prepare('SELECT coalesce(sum(pgsize), 0) AS bytes FROM dbstat WHERE name = ? AND aggregate = TRUE').get(name) as { bytes: number };
  return row.bytes;
}

/** Bytes from a sample of rows: payload per row times rows, plus b-tree overhead. */
function estimateBytes(raw: Database.Database, table: string, columns: readonly string[], rows: number): number {
  if (rows === 0 || columns.length === 0) return 0;
  const payload = columns.map((c) => `coalesce(length(CAST(${sqlIdent(c)} AS BLOB)), 0)`).join(' + ');
  const row = raw.prepare(`SELECT avg(${payload}) AS avg FROM (SELECT * FROM ${sqlIdent(table)} LIMIT 1000)`).get() as { avg: number | null };
  const perRow = (row.avg ?? 0) + 4 + columns.length + 8;
  return Math.round(perRow * rows * 1.15);
}

function hotTableStats(raw: Database.Database, t: ResolvedTable, useDbstat: boolean): HotTableStats {
  const table = sqlIdent(t.table);
  const col = sqlIdent(t.timeColumn);
  const { rows } = raw.prepare(`SELECT count(*) AS rows FROM ${table}`).get() as { rows: number };
  // Two statements, not one: SQLite answers a lone min() or max() from the index.
  const oldest = (raw.prepare(`SELECT min(${col}) AS v FROM ${table}`).get() as { v: unknown }).v;
  const newest = (raw.prepare(`SELECT max(${col}) AS v FROM ${table}`).get() as { v: unknown }).v;
  const indexes = indexNames(raw, t.table);
  let tableBytes: number;
  let indexBytes = 0;
  if (useDbstat) {
    tableBytes = dbstatBytes(raw, t.table);
    for (const index of indexes) indexBytes += dbstatBytes(raw, index);
  } else {
    tableBytes = estimateBytes(raw, t.table, t.columns.map((c) => c.name), rows);
    for (const index of indexes) {
      const cols = (raw.prepare('SELECT name FROM pragma_index_info(?)').all(index) as { name: string | null }[]).flatMap((c) => (c.name ? [c.name] : []));
      indexBytes += estimateBytes(raw, t.table, cols, rows);
    }
  }
  return { rows, oldest: toIso(oldest, t.timeUnit), newest: toIso(newest, t.timeUnit), tableBytes, indexBytes, bytes: tableBytes + indexBytes };
}

function coldTableStats(raw: Database.Database, table: string): ColdTableStats {
  const row = coldTotals(raw, table);
  const masked = markerTotal(raw, table);
  return {
    files: row.files,
    rows: row.rows - masked,
    masked,
    bytes: row.bytes,
    oldest: row.oldest,
    newest: row.newest,
    compressionRatio: row.bytes > 0 && row.hotBytes ? row.hotBytes / row.bytes : null,
    pendingFiles: row.pendingFiles,
    drainingFiles: row.drainingFiles,
  };
}

function lastRun(raw: Database.Database): LastRunStats | null {
  const row = readLastRun(raw);
  if (!row) return null;
  return {
    id: row.id,
    status: row.status,
    startedAt: new Date(row.started_at_ms).toISOString(),
    durationMs: row.ended_at_ms === null ? null : row.ended_at_ms - row.started_at_ms,
    error: row.error,
  };
}

function fileSize(file: string): number {
  return existsSync(file) ? statSync(file).size : 0;
}

/**
 * Counts rows, time ranges and bytes of every registered table in the hot
 * file. Reads under one transaction, so the figures agree with each other.
 *
 * @example
 * const stats = await collectStats(store);
 * console.log(stats.tables.map((t) => [t.table, t.hot.rows]));
 */
export async function collectStats(
  store: { readonly hot: HotStore; readonly tables: readonly ResolvedTable[] },
  options: CollectStatsOptions = {},
): Promise<TierStats> {
  const raw = store.hot.raw;
  const useDbstat = (options.useDbstat ?? true) && hasDbstat(raw);
  const read = raw.transaction(() => {
    const tables = store.tables.map(
      (t): TableStats => ({
        table: t.table,
        timeColumn: t.timeColumn,
        timeUnit: t.timeUnit,
        hotDays: t.hotDays,
        hotDaysFrom: t.hotDaysFrom,
        enabled: t.enabled,
        hot: hotTableStats(raw, t, useDbstat),
        cold: coldTableStats(raw, t.table),
      }),
    );
    const pageSize = raw.pragma('page_size', { simple: true }) as number;
    const freePages = raw.pragma('freelist_count', { simple: true }) as number;
    return { tables, freeBytes: pageSize * freePages, run: lastRun(raw) };
  });
  const { tables, freeBytes, run } = read();
  return {
    at: new Date().toISOString(),
    hot: {
      path: store.hot.path,
      fileBytes: fileSize(store.hot.path),
      walBytes: fileSize(`${store.hot.path}-wal`),
      freeBytes,
      bytesMethod: useDbstat ? 'dbstat' : 'estimate',
    },
    tables,
    cold: {
      files: tables.reduce((a, t) => a + t.cold.files, 0),
      bytes: tables.reduce((a, t) => a + t.cold.bytes, 0),
    },
    lastRun: run,
  };
}
