/**
 * Retention of one table (`coldDays`, `COLD_DAYS_<TABLE>`): cold rows older
 * than the cutoff — UTC midnight of `now − coldDays` — go. Files wholly older
 * are retired; a file straddling the cutoff is rewritten with only its rows at
 * or after the cutoff (rewriteFiles), so no newer row is ever deleted and no
 * older row stays readable. One swap per table, with its ledger row
 * (`_tierdb_retention`) in the same transaction. Hot rows are never touched.
 */
import { fileId, partitionOf } from '../cold/coldLayout.js';
import { sqlIdent, sqlString } from '../cold/DuckDbEngine.js';
import { liveFilesExact, type ManifestFile, type NewManifestFile } from '../manifest/manifestFiles.js';
import { insertRetentionEntry } from '../manifest/retentionLedger.js';
import type { ResolvedTable } from '../registry/resolveRegistry.js';
import { boundForColumn, DAY_MS } from '../registry/timeUnit.js';
import { commitSwap } from './commitSwap.js';
import type { MaintenanceRun } from './maintenanceRun.js';
import { rewriteFiles } from './rewriteFiles.js';

export interface RetentionTableReport {
  table: string;
  coldDays: number;
  /** Where coldDays came from: `registry` or `COLD_DAYS_<TABLE>`. */
  coldDaysFrom: string;
  /** Rows older than this instant (ISO, UTC midnight) go. */
  cutoff: string;
  /** Files retired whole. */
  filesRetired: number;
  /** Files rewritten without their old rows. */
  filesRewritten: number;
  rowsRemoved: number;
  bytesRemoved: number;
  /** Manifest paths retired (whole or rewritten). */
  paths: string[];
  error?: string;
}

/** The retention cutoff of a table at `now` (unix ms, UTC midnight), or undefined when it keeps rows forever. */
export function retentionCutoffMs(t: ResolvedTable, now: number): number | undefined {
  return t.coldDays === undefined ? undefined : partitionOf(now - t.coldDays * DAY_MS, 'day').startMs;
}

function literal(v: number | string): string {
  return typeof v === 'number' ? String(v) : sqlString(v);
}

export async function applyRetentionTable(
  run: MaintenanceRun | undefined,
  raw: MaintenanceRun['ctx']['raw'],
  t: ResolvedTable & { coldDays: number },
  o: { now: number; dryRun: boolean; nextSeq: () => number },
): Promise<RetentionTableReport> {
  const cutoffMs = retentionCutoffMs(t, o.now)!;
  const report: RetentionTableReport = {
    table: t.table,
    coldDays: t.coldDays,
    coldDaysFrom: t.coldDaysFrom,
    cutoff: new Date(cutoffMs).toISOString(),
    filesRetired: 0,
    filesRewritten: 0,
    rowsRemoved: 0,
    bytesRemoved: 0,
    paths: [],
  };
  const live = liveFilesExact(raw, t.table).filter((f) => f.min_time_ms < cutoffMs);
  if (live.length === 0) return report;
  const whole = live.filter((f) => f.max_time_ms < cutoffMs);
  const straddling = live.filter((f) => f.max_time_ms >= cutoffMs);
  report.paths = live.map((f) => f.path);
  report.filesRetired = whole.length;
  report.filesRewritten = straddling.length;
  report.rowsRemoved = whole.reduce((n, f) => n + f.rows, 0);
  report.bytesRemoved = whole.reduce((n, f) => n + f.bytes, 0);
  if (o.dryRun || !run) {
    // The straddling files' old rows are counted when rewritten; a dry run names the files only.
    return report;
  }
  const keep = `${sqlIdent(t.timeColumn)} >= ${literal(boundForColumn(cutoffMs, t.timeUnit))}`;
  const outputs: NewManifestFile[] = [];
  // Whole files lose every row; a straddling file's output accounts for the markers its rewrite read.
  let marksThrough = Number.POSITIVE_INFINITY;
  let minTime: number | null = whole.length > 0 ? Math.min(...whole.map((f) => f.min_time_ms)) : null;
  let maxTime: number | null = whole.length > 0 ? Math.max(...whole.map((f) => f.max_time_ms)) : null;
  try {
    for (const f of straddling) {
      const result = await rewriteFiles(run.ctx, { engine: run.engine, table: t, inputs: [f], id: fileId(run.runId, o.nextSeq(), run.runToken), runId: run.runId, now: o.now, keep });
      if (result.output) outputs.push(result.output);
      marksThrough = Math.min(marksThrough, result.marksThrough);
      report.rowsRemoved += result.rowsRemoved;
      report.bytesRemoved += f.bytes - (result.output?.bytes ?? 0);
      if (result.rowsRemoved > 0) {
        minTime = Math.min(minTime ?? f.min_time_ms, f.min_time_ms);
        maxTime = Math.max(maxTime ?? 0, Math.min(f.max_time_ms, cutoffMs - 1));
      }
    }
  } catch (error) {
    for (const out of outputs) await run.ctx.cold.delete(out.path);
    throw error;
  }
  const retire: ManifestFile[] = live;
  await commitSwap(run.ctx, retire, outputs, marksThrough, () =>
    insertRetentionEntry(run.ctx.raw, {
      table: t.table,
      runId: run.runId,
      cutoffMs,
      files: retire.length,
      rows: report.rowsRemoved,
      bytes: report.bytesRemoved,
      minTimeMs: minTime,
      maxTimeMs: maxTime,
      paths: retire.map((f) => f.path),
      atMs: Date.now(),
    }),
  );
  return report;
}
