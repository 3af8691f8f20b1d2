/**
 * What every kind of run reports at its end, whatever it did: the body of the
 * webhook POST, what `tierdb serve`'s /healthz and /metrics are made from.
 * The archive run makes one with summarizeArchiveReport; compaction and
 * retention make theirs the same way and hand it to RunNotifier.notifyRunEnd.
 */

export type { RunKind } from '../manifest/runLog.js';
import type { RunKind } from '../manifest/runLog.js';

/**
 * The runs that report their end (RunNotifier.notifyRunEnd): the archive move and the maintenance
 * runs. Not `publish` (reported in the run it follows, `report.iceberg`, or by `tierdb publish`)
 * nor `migrate-cold` (reported by its command).
 */
export const NOTIFIED_KINDS: readonly RunKind[] = ['archive', 'compact', 'retention', 'restore', 'erase', 'rebuild'];

/**
 * `ok`: the run did what it set out to; `failed`: it threw, or a table failed
 * (the other tables still ran); `aborted`: stopped by its AbortSignal between
 * chunks (SIGTERM/SIGINT), with nothing failed. `failed` wins over `aborted`.
 */
export type RunStatus = 'ok' | 'failed' | 'aborted';

/** One table's part of a run. What the numbers count depends on the kind (see RunSummary). */
export interface TableRunSummary {
  table: string;
  /** archive: rows moved to cold (committed now, grace files included). */
  rows: number;
  /** archive: Parquet files written (grace files included). */
  files: number;
  /** archive: Parquet bytes written. */
  bytes: number;
  /** Why the table failed as a whole (empty: it did not). */
  errors: string[];
  /** What the table did not do without failing: chunks refused (rows stay hot), chunks retried next run. At most 20, then a count. */
  warnings: string[];
}

/**
 * The end of one run.
 *
 * @example
 * store.notifier.onRunEnd((s) => console.log(`${s.kind} run ${s.runId}: ${s.status}, ${s.totals.rows} rows`));
 */
export interface RunSummary {
  /** The version of this shape; a change that breaks a reader bumps it. */
  schemaVersion: 1;
  kind: RunKind;
  status: RunStatus;
  /** The run's id in `_tierdb_runs` (null when it failed before it was recorded). */
  runId: number | null;
  /** ISO-8601, UTC. */
  startedAt: string;
  endedAt: string;
  durationMs: number;
  /** The machine and the store the run ran on (several stores may post to one webhook). */
  host: string;
  hotPath: string;
  tables: TableRunSummary[];
  /** The tables added up; `errors` counts the tables' errors. */
  totals: { rows: number; files: number; bytes: number; errors: number };
  /** The error that stopped the run, when it threw. */
  error?: string;
}

/** Most warnings a table's summary lists. */
export const MAX_WARNINGS = 20;

/** The tables of a summary added up. */
export function totalsOf(tables: readonly TableRunSummary[]): RunSummary['totals'] {
  return {
    rows: tables.reduce((a, t) => a + t.rows, 0),
    files: tables.reduce((a, t) => a + t.files, 0),
    bytes: tables.reduce((a, t) => a + t.bytes, 0),
    errors: tables.reduce((a, t) => a + t.errors.length, 0),
  };
}
