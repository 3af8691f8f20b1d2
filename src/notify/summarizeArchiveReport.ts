import { hostname } from 'node:os';
import type { ArchiveReport, TableReport } from '../archive/ArchiveReport.js';
import { MAX_WARNINGS, totalsOf, type RunStatus, type RunSummary, type TableRunSummary } from './RunSummary.js';

export interface SummarizeArchiveOptions {
  /** The store's hot file (named in the summary). */
  hotPath: string;
  /** The error the run threw, if it did: the summary is then `failed`, with the tables as far as they got. */
  error?: unknown;
  /** The clock at the end, for a run that threw before it recorded its end (default: now). */
  endedMs?: number;
}

/** A TableReport's warnings: refused chunks and chunks changed meanwhile, capped at MAX_WARNINGS. */
function tableWarnings(t: TableReport): string[] {
  const all = t.refused.map((r) => `refused ${r.partition}: ${r.reason}`);
  if (t.abandoned > 0) all.push(`${t.abandoned} chunks changed meanwhile (retried next run)`);
  if (all.length <= MAX_WARNINGS) return all;
  return [...all.slice(0, MAX_WARNINGS), `... and ${all.length - MAX_WARNINGS} more`];
}

/**
 * An archive run's report as the kind-agnostic RunSummary: per table the rows
 * moved, files and Parquet bytes written, its error and warnings.
 *
 * @example
 * const summary = summarizeArchiveReport(report, { hotPath: store.config.hotPath });
 */
export function summarizeArchiveReport(report: ArchiveReport, options: SummarizeArchiveOptions): RunSummary {
  const tables: TableRunSummary[] = report.tables.map((t) => ({
    table: t.table,
    rows: t.rowsMoved,
    files: t.files,
    bytes: t.bytesOut,
    errors: t.error === undefined ? [] : [t.error],
    warnings: tableWarnings(t),
  }));
  const threw = 'error' in options;
  const failed = threw || tables.some((t) => t.errors.length > 0);
  const status: RunStatus = failed ? 'failed' : report.aborted ? 'aborted' : 'ok';
  let { endedAt, durationMs } = report;
  if (endedAt === '') {
    const ended = options.endedMs ?? Date.now();
    endedAt = new Date(ended).toISOString();
    durationMs = Math.max(0, ended - Date.parse(report.startedAt));
  }
  const summary: RunSummary = {
    schemaVersion: 1,
    kind: 'archive',
    status,
    runId: report.runId,
    startedAt: report.startedAt,
    endedAt,
    durationMs,
    host: hostname(),
    hotPath: options.hotPath,
    tables,
    totals: totalsOf(tables),
  };
  if (threw) summary.error = options.error instanceof Error ? options.error.message : String(options.error);
  return summary;
}
