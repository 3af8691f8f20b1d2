/**
 * The run log (`_tierdb_runs`): a `running` row with the run's kind and random
 * token (recovery matches file names against it), then its end with a status,
 * the report and the error.
 *
 * How a kind commits decides what recovery may prove of its files: `archive`
 * commits chunk by chunk in seq order with at most two uncommitted files at a
 * crash; compaction, retention and restore commit swap by swap, each table's
 * outputs after its inputs are written; `rebuild` commits every file it wrote in
 * one transaction, the same one that sets its status to `ok`.
 */
import type Database from 'better-sqlite3';
import type { ArchiveReport } from '../archive/ArchiveReport.js';
import type { RunRow } from './ManifestFile.js';

/** What a run does: the archiver's move, or a maintenance job. */
export type RunKind = 'archive' | 'compact' | 'retention' | 'restore' | 'rebuild' | 'migrate-cold' | 'erase' | 'publish';

/** Kinds whose files are all committed in the one transaction that sets the run `ok`. */
export const SINGLE_COMMIT_KINDS: ReadonlySet<string> = new Set<RunKind>(['rebuild']);

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

/**
 * A run stopped by an error (the lease lost, say): `failed`, with the error's
 * message, and the files it wrote, never committed and could not remove (the
 * report's `leftovers`, recovery's proof).
 */
export function failRun(raw: Database.Database, runId: number, error: unknown, leftovers: readonly string[] = []): void {
  raw
    .prepare(`UPDATE _tierdb_runs SET ended_at_ms = ?, status = 'failed', error = ?, report_json = coalesce(?, report_json) WHERE id = ?`)
    .run(Date.now(), error instanceof Error ? error.message : String(error), leftovers.length > 0 ? JSON.stringify({ leftovers }) : null, runId);
}

/** What recovery needs of a recorded run. */
export interface RunState {
  /** Null for runs from before tokens. */
  token: string | null;
  status: string;
  kind: string;
  /** Files the run wrote, never committed and could not remove, as its report recorded them (`leftovers`). */
  leftovers: ReadonlySet<string>;
}

function reportLeftovers(json: string | null): Set<string> {
  if (json === null || !json.includes('"leftovers"')) return new Set();
  try {
    const list = (JSON.parse(json) as { leftovers?: unknown }).leftovers;
    return new Set(Array.isArray(list) ? list.filter((p): p is string => typeof p === 'string') : []);
  } catch {
    return new Set();
  }
}

/** Every recorded run's token, status, kind and recorded leftovers. */
export function runStates(raw: Database.Database): Map<number, RunState> {
  const rows = raw.prepare('SELECT id, token, status, kind, report_json FROM _tierdb_runs').all() as ({ id: number; report_json: string | null } & Omit<RunState, 'leftovers'>)[];
  return new Map(rows.map((r) => [r.id, { token: r.token, status: r.status, kind: r.kind, leftovers: reportLeftovers(r.report_json) }]));
}

/** The highest run id handed out so far (AUTOINCREMENT's sequence, or the largest id recorded). */
export function highestRunId(raw: Database.Database): number {
  const seq = raw.prepare(`SELECT seq FROM sqlite_sequence WHERE name = '_tierdb_runs'`).pluck().get() as number | undefined;
  const max = raw.prepare('SELECT max(id) FROM _tierdb_runs').pluck().get() as number | null;
  return Math.max(seq ?? 0, max ?? 0);
}

/**
 * Moves the run id sequence to at least `runId`, so no later run is handed an
 * id that a file in the cold tree already carries (after an older backup of
 * the hot file was restored, its sequence is behind the tree). Returns whether it moved.
 */
export function reserveRunIdsThrough(raw: Database.Database, runId: number): boolean {
  if (highestRunId(raw) >= runId) return false;
  const moved = raw.prepare(`UPDATE sqlite_sequence SET seq = ? WHERE name = '_tierdb_runs'`).run(runId).changes;
  if (moved === 0) raw.prepare(`INSERT INTO sqlite_sequence (name, seq) VALUES ('_tierdb_runs', ?)`).run(runId);
  return true;
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

/** Per kind of `kinds`, the newest run that reached an end (`ok`, `failed`, `aborted` or `crashed`), oldest first. */
export function lastEndedRuns(raw: Database.Database, kinds: readonly RunKind[]): Pick<RunRow, 'id' | 'kind' | 'status' | 'started_at_ms' | 'ended_at_ms' | 'error'>[] {
  if (kinds.length === 0) return [];
  return raw
    .prepare(
      `SELECT id, kind, status, started_at_ms, ended_at_ms, error FROM _tierdb_runs r
       WHERE kind IN (${kinds.map(() => '?').join(', ')})
         AND id = (SELECT max(id) FROM _tierdb_runs WHERE kind = r.kind AND status != 'running' AND ended_at_ms IS NOT NULL)
       ORDER BY id`,
    )
    .all(...kinds) as Pick<RunRow, 'id' | 'kind' | 'status' | 'started_at_ms' | 'ended_at_ms' | 'error'>[];
}
