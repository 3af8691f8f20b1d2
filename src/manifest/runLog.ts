/**
 * The run log (`_tierdb_runs`): a `running` row with the run's random token
 * (recovery matches file names against it), then its end with a status, the
 * report and the error.
 */
import type Database from 'better-sqlite3';
import type { ArchiveReport } from '../archive/ArchiveReport.js';
import type { RunRow } from './ManifestFile.js';

/** What a run does: the archiver's move, or a maintenance job. */
export type RunKind = 'archive' | 'compact' | 'retention' | 'restore' | 'maintenance' | 'migrate-cold';

/** Records a run as `running`; returns its id. */
export function insertRunningRun(raw: Database.Database, startedMs: number, runToken: string, kind: RunKind = 'archive'): number {
  return Number(
    raw
      .prepare(`INSERT INTO _tierdb_runs (kind, started_at_ms, status, pid, dry_run, token) VALUES (?, ?, 'running', ?, 0, ?)`)
      .run(kind, startedMs, process.pid, runToken).lastInsertRowid,
  );
}

/** A maintenance run's end: `ok` or `failed` (with the errors joined), and its report. */
export function finishMaintenanceRun(raw: Database.Database, runId: number, report: unknown, errors: readonly string[]): void {
  raw
    .prepare(`UPDATE _tierdb_runs SET ended_at_ms = ?, status = ?, report_json = ?, error = ? WHERE id = ?`)
    .run(Date.now(), errors.length > 0 ? 'failed' : 'ok', JSON.stringify(report, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)), errors.length > 0 ? errors.join('; ') : null, runId);
}

/** A run that reached its end: `aborted`, `failed` (some table failed; their errors joined) or `ok`, with the report. */
export function finishRun(raw: Database.Database, report: ArchiveReport): void {
  const failed = report.tables.filter((t) => t.error !== undefined);
  raw
    .prepare(`UPDATE _tierdb_runs SET ended_at_ms = ?, status = ?, report_json = ?, error = ? WHERE id = ?`)
    .run(
      Date.now(),
      report.aborted ? 'aborted' : failed.length > 0 ? 'failed' : 'ok',
      JSON.stringify(report),
      failed.length > 0 ? failed.map((t) => `${t.table}: ${t.error}`).join('; ') : null,
      report.runId,
    );
}

/** A run stopped by an error (the lease lost, say): `failed`, with the error's message. */
export function failRun(raw: Database.Database, runId: number, error: unknown): void {
  raw.prepare(`UPDATE _tierdb_runs SET ended_at_ms = ?, status = 'failed', error = ? WHERE id = ?`).run(Date.now(), error instanceof Error ? error.message : String(error), runId);
}

/** Every recorded run's id and token (null for runs from before tokens). */
export function runTokens(raw: Database.Database): Map<number, string | null> {
  return new Map((raw.prepare('SELECT id, token FROM _tierdb_runs').all() as { id: number; token: string | null }[]).map((r) => [r.id, r.token]));
}

/** Runs left `running` by a holder that lost the lease become `crashed`; returns how many. */
export function markCrashedRuns(raw: Database.Database, exceptRunId: number | null, nowMs: number): number {
  return raw.prepare(`UPDATE _tierdb_runs SET status = 'crashed', ended_at_ms = ? WHERE status = 'running' AND id IS NOT ?`).run(nowMs, exceptRunId).changes;
}

/** The newest run, if any. */
export function lastRun(raw: Database.Database): Pick<RunRow, 'id' | 'kind' | 'status' | 'started_at_ms' | 'ended_at_ms' | 'error'> | undefined {
  return raw.prepare(`SELECT id, kind, status, started_at_ms, ended_at_ms, error FROM _tierdb_runs ORDER BY id DESC LIMIT 1`).get() as
    | Pick<RunRow, 'id' | 'kind' | 'status' | 'started_at_ms' | 'ended_at_ms' | 'error'>
    | undefined;
}
