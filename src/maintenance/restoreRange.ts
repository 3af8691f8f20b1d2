/**
 * Restore: the cold rows of one table in [since, until) move back into the
 * hot table, exactly once. Every live file holding such rows is rewritten
 * without them (rewriteFiles; a file wholly inside the range just goes), then
 * one transaction inserts the rows into SQLite and swaps the files. A key
 * that is hot already keeps its hot row (the bridge showed that one) and is
 * reported; any other failed insert rolls the whole restore back.
 */
import { DuckDBBlobValue } from '../cold/duckdbApi.js';
import { fileId } from '../cold/coldLayout.js';
import { sqlIdent, sqlString } from '../cold/DuckDbEngine.js';
import { SchemaDriftError } from '../errors.js';
import { liveFilesExact, type NewManifestFile } from '../manifest/manifestFiles.js';
import { readColumns, type ResolvedTable } from '../registry/resolveRegistry.js';
import { boundForColumn } from '../registry/timeUnit.js';
import { keysJson } from '../archive/chunkKeys.js';
import { partitionBoundaryMs } from '../archive/partitionScan.js';
import { commitSwap } from './commitSwap.js';
import type { MaintenanceRun } from './maintenanceRun.js';
import { coldRowsSql, loadInputMarks, rewriteFiles, unionSchema } from './rewriteFiles.js';

export interface RestoreReport {
  table: string;
  since: string;
  until: string;
  dryRun: boolean;
  runId: number | null;
  /** Files holding rows of the range (rewritten without them, or retired when wholly inside). */
  files: string[];
  /** Rows of the range found in the cold tier. */
  rowsFound: number;
  /** Rows inserted into the hot table. */
  rowsRestored: number;
  /** Keys of the range already hot: the hot row wins and stays; the cold copy goes. */
  hotWins: number;
  /**
   * Restored rows older than the table's archive boundary: the next archive run
   * moves them out again unless the table is disabled or its hotDays raised.
   */
  olderThanHotDays: number;
  durationMs: number;
}

export interface RestoreRange {
  sinceMs: number;
  untilMs: number;
  now: number;
}

function literal(v: number | string): string {
  return typeof v === 'number' ? String(v) : sqlString(v);
}

/** The DuckDB predicate "time in [since, until)" for the table's time unit. */
function inRange(t: ResolvedTable, r: RestoreRange): string {
  const time = sqlIdent(t.timeColumn);
  if (t.timeUnit === 'iso') {
    // Instants, as the bridge compares them (the maintenance engine runs with TimeZone UTC).
    const ms = `epoch_ms(CAST(${time} AS TIMESTAMPTZ))`;
    return `(${ms} >= ${r.sinceMs} AND ${ms} < ${r.untilMs})`;
  }
  return `(${time} >= ${literal(boundForColumn(r.sinceMs, t.timeUnit))} AND ${time} < ${literal(boundForColumn(r.untilMs, t.timeUnit))})`;
}

/** A unix_s bound that is not a whole second rounds up for `since` and `until` alike: [since, until) keeps its meaning. */
function normalized(t: ResolvedTable, r: RestoreRange): RestoreRange {
  if (t.timeUnit !== 'unix_s') return r;
  return { ...r, sinceMs: Math.ceil(r.sinceMs / 1000) * 1000, untilMs: Math.ceil(r.untilMs / 1000) * 1000 };
}

/** What a restore reads with, on a dry run too (no lease, no run). */
export interface RestoreReader {
  raw: MaintenanceRun['ctx']['raw'];
  cold: MaintenanceRun['ctx']['cold'];
  engine: MaintenanceRun['engine'];
}

export async function restoreRange(reader: RestoreReader, run: MaintenanceRun | undefined, t: ResolvedTable, given: RestoreRange, nextSeq: () => number): Promise<RestoreReport> {
  const { raw, engine } = reader;
  const started = Date.now();
  const r = normalized(t, given);
  const report: RestoreReport = {
    table: t.table,
    since: new Date(r.sinceMs).toISOString(),
    until: new Date(r.untilMs).toISOString(),
    dryRun: run === undefined,
    runId: run?.runId ?? null,
    files: [],
    rowsFound: 0,
    rowsRestored: 0,
    hotWins: 0,
    olderThanHotDays: 0,
    durationMs: 0,
  };
  const files = liveFilesExact(raw, t.table).filter((f) => f.min_time_ms < r.untilMs && f.max_time_ms >= r.sinceMs);
  report.files = files.map((f) => f.path);
  if (files.length === 0) return { ...report, durationMs: Date.now() - started };
  const hotColumns = new Set((readColumns(raw, t.table) ?? []).map((c) => c.name));
  const schema = unionSchema(t.table, files);
  const missing = schema.filter((c) => !hotColumns.has(c.name));
  if (missing.length > 0) {
    throw new SchemaDriftError(`${t.table}: cold files hold column(s) ${missing.map((c) => c.name).join(', ')} that the hot table no longer has; nothing is restored (add them back first)`);
  }
  const predicate = inRange(t, r);
  const read = await reader.cold.openForRead(files.map((f) => ({ path: f.path, bytes: f.bytes, sha256: f.file_sha256 })));
  let rows: unknown[][];
  let marksThrough: number;
  try {
    // Rows a delete marker hides are not restored: they were deleted, or their new values are hot.
    const marks = await loadInputMarks(raw, engine, t, files, read.paths, schema);
    marksThrough = marks.marksThrough;
    const reader = await engine.connection.runAndReadAll(
      `SELECT * FROM (${coldRowsSql(t, files, read.paths, schema, predicate, marks.marksTable)}) ORDER BY ${sqlIdent(t.timeColumn)}, ${sqlIdent(t.keyColumn)}`,
    );
    rows = reader.getRows().map((row) => row.map((v) => (v instanceof DuckDBBlobValue ? Buffer.from(v.bytes) : v)));
  } finally {
    read.release();
  }
  report.rowsFound = rows.length;
  const keyIndex = schema.findIndex((c) => c.name === t.keyColumn);
  const timeIndex = schema.findIndex((c) => c.name === t.timeColumn);
  const boundary = boundForColumn(partitionBoundaryMs(t, r.now), t.timeUnit);
  report.olderThanHotDays = rows.filter((row) => (row[timeIndex] as number | bigint | string) < boundary).length;
  if (!run) {
    const hot = new Set(
      (raw.prepare(`SELECT ${sqlIdent(t.keyColumn)} FROM ${sqlIdent(t.table)} WHERE ${sqlIdent(t.keyColumn)} IN (SELECT value FROM json_each(?))`).safeIntegers(true).pluck().all(keysJson(rows.map((row) => row[keyIndex]))) as unknown[]).map(String),
    );
    report.hotWins = rows.filter((row) => hot.has(String(row[keyIndex]))).length;
    report.rowsRestored = rows.length - report.hotWins;
    return { ...report, durationMs: Date.now() - started };
  }
  const outputs: NewManifestFile[] = [];
  try {
    for (const f of files) {
      const result = await rewriteFiles(run.ctx, { engine, table: t, inputs: [f], id: fileId(run.runId, nextSeq(), run.runToken), runId: run.runId, now: r.now, keep: `NOT ${predicate}` });
      if (result.output) outputs.push(result.output);
    }
  } catch (error) {
    for (const out of outputs) await run.ctx.cold.delete(out.path);
    throw error;
  }
  const names = schema.map((c) => c.name);
  const insert = raw.prepare(`INSERT INTO ${sqlIdent(t.table)} (${names.map(sqlIdent).join(', ')}) VALUES (${names.map(() => '?').join(', ')})`);
  const isHot = raw.prepare(`SELECT 1 FROM ${sqlIdent(t.table)} WHERE ${sqlIdent(t.keyColumn)} = ?`).pluck();
  await commitSwap(run.ctx, files, outputs, marksThrough, () => {
    report.hotWins = 0;
    report.rowsRestored = 0;
    for (const row of rows) {
      if (isHot.get(row[keyIndex]) !== undefined) report.hotWins++;
      else {
        insert.run(...row);
        report.rowsRestored++;
      }
    }
  });
  return { ...report, durationMs: Date.now() - started };
}
