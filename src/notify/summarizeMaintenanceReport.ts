import { hostname } from 'node:os';
import type { CompactReport, RestoreReport, RetentionReport } from '../maintenance/Maintenance.js';
import type { EraseReceipt } from '../change/eraseRows.js';
import type { RebuildReport } from '../maintenance/RebuildReport.js';
import { MAX_WARNINGS, totalsOf, type RunStatus, type RunSummary, type TableRunSummary } from './RunSummary.js';

/** What one maintenance run reported, by kind. */
export type MaintenanceRunReport =
  | { kind: 'compact'; report: CompactReport }
  | { kind: 'retention'; report: RetentionReport }
  | { kind: 'restore'; report: RestoreReport }
  | { kind: 'erase'; report: EraseReceipt }
  | { kind: 'rebuild'; report: RebuildReport };

/**
 * A maintenance run's report as the kind-agnostic RunSummary. Per table:
 * compact — rows written into merged files, files written, their bytes;
 * retention — rows removed, files retired, bytes removed; restore — rows
 * moved back into SQLite, files rewritten or retired, 0 bytes; erase — rows
 * erased hot and cold, files rewritten, 0 bytes (never the values); rebuild —
 * rows the table's live files hold after it, files listed or retired, 0 bytes,
 * with what it left unlisted or could not verify as warnings.
 *
 * @example
 * await store.notifier.notifyRunEnd(summarizeMaintenanceReport({ kind: 'compact', report }, { hotPath, startedMs }));
 */
export function summarizeMaintenanceReport(run: MaintenanceRunReport | { kind: MaintenanceRunReport['kind']; report?: undefined }, options: { hotPath: string; startedMs: number; error?: unknown }): RunSummary {
  const tables: TableRunSummary[] = [];
  let runId: number | null = null;
  if (run.report !== undefined) {
    runId = run.report.runId;
    if (run.kind === 'compact') {
      for (const t of run.report.tables) {
        tables.push({ table: t.table, rows: t.rowsOut, files: t.groups.filter((g) => g.output).length, bytes: t.groups.reduce((n, g) => n + (g.bytesOut ?? 0), 0), errors: t.error ? [t.error] : [], warnings: t.duplicatesDropped > 0 ? [`${t.duplicatesDropped} duplicate keys resolved (newest run kept)`] : [] });
      }
    } else if (run.kind === 'retention') {
      for (const t of run.report.tables) tables.push({ table: t.table, rows: t.rowsRemoved, files: t.paths.length, bytes: t.bytesRemoved, errors: t.error ? [t.error] : [], warnings: [] });
    } else if (run.kind === 'rebuild') {
      tables.push(...rebuildTableSummaries(run.report));
    } else if (run.kind === 'erase') {
      const r = run.report;
      tables.push({ table: r.table, rows: r.hotRows + r.coldRows, files: r.files.length, bytes: 0, errors: [], warnings: r.walTruncated ? [] : ['the WAL could not be truncated (a reader held it): run the erase again to finish'] });
    } else {
      const r = run.report;
      tables.push({ table: r.table, rows: r.rowsRestored, files: r.files.length, bytes: 0, errors: [], warnings: r.hotWins > 0 ? [`${r.hotWins} keys were hot already (hot rows kept)`] : [] });
    }
  }
  for (const t of tables) if (t.warnings.length > MAX_WARNINGS) t.warnings = t.warnings.slice(0, MAX_WARNINGS);
  const threw = options.error !== undefined;
  const status: RunStatus = threw || tables.some((t) => t.errors.length > 0) ? 'failed' : 'ok';
  const ended = Date.now();
  const summary: RunSummary = {
    schemaVersion: 1,
    kind: run.kind,
    status,
    runId,
    startedAt: new Date(options.startedMs).toISOString(),
    endedAt: new Date(ended).toISOString(),
    durationMs: ended - options.startedMs,
    host: hostname(),
    hotPath: options.hotPath,
    tables,
    totals: totalsOf(tables),
  };
  if (threw) summary.error = options.error instanceof Error ? options.error.message : String(options.error);
  return summary;
}

/**
 * A rebuild's tables. A live file's manifest row kept while its file is missing or damaged is an
 * error (queries that need it fail naming it; the CLI exits 1); keys held twice and files left
 * unlisted are warnings — those of no reported table (a torn or foreign file, an unregistered
 * table's) on the first table, so none goes untold.
 */
function rebuildTableSummaries(r: RebuildReport): TableRunSummary[] {
  const out = r.tables.map((t): TableRunSummary => {
    const conflicts = r.conflicts.filter((c) => c.table === t.table).reduce((n, c) => n + c.keys, 0);
    return {
      table: t.table,
      rows: t.liveRowsAfter,
      files: t.added.length + t.retired.length,
      bytes: 0,
      errors: r.unverified.filter((u) => u.table === t.table && u.action === 'kept').map((u) => `${u.path} is listed but unverified: ${u.problem}`),
      warnings: [
        ...(conflicts > 0 ? [`${conflicts} keys held twice resolved (hot or the newer run kept)`] : []),
        ...r.unverified.filter((u) => u.table === t.table && u.action === 'dropped').map((u) => `${u.path} dropped from the manifest: ${u.problem}`),
      ],
    };
  });
  const byTable = new Map(out.map((t) => [t.table, t]));
  for (const p of r.problems) {
    const into = (p.table !== undefined ? byTable.get(p.table) : undefined) ?? out[0];
    into?.warnings.push(`${p.path} not listed (${p.kind}${p.table !== undefined && !byTable.has(p.table) ? `, table ${p.table}` : ''}): ${p.detail}`);
  }
  return out;
}
