/**
 * Erasure receipts (`_tierdb_erasures`): every statement on them. A receipt
 * holds what an erase did and proves — never the erased values (the
 * predicate's values are kept as sha256 digests).
 */
import type Database from 'better-sqlite3';

export interface ErasedFile {
  oldPath: string;
  oldSha256: string | null;
  /** The rewritten file; null when every row of the old one was erased. */
  newPath: string | null;
  newSha256: string | null;
  rowsErased: number;
}

export interface ScrubbedBackup {
  path: string;
  rowsErased: number;
  /** sha256 of the backup after the rewrite. */
  sha256: string;
}

export type ErasureStatus = 'committed' | 'complete';

export interface ErasureRow {
  id: number;
  table: string;
  runId: number;
  predicate: unknown;
  hotRows: number;
  coldRows: number;
  files: ErasedFile[];
  backups: ScrubbedBackup[];
  status: ErasureStatus;
  startedAtMs: number;
  endedAtMs: number | null;
}

/** Inside the erase's commit. */
export function insertErasure(raw: Database.Database, e: Omit<ErasureRow, 'id' | 'endedAtMs' | 'status'>): number {
  return Number(
    raw
      .prepare(
        `INSERT INTO _tierdb_erasures (table_name, run_id, predicate_json, hot_rows, cold_rows, files_json, backups_json, status, started_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'committed', ?)`,
      )
      .run(e.table, e.runId, JSON.stringify(e.predicate), e.hotRows, e.coldRows, JSON.stringify(e.files), JSON.stringify(e.backups), e.startedAtMs).lastInsertRowid,
  );
}

export function completeErasure(raw: Database.Database, id: number, endedAtMs: number): void {
  raw.prepare(`UPDATE _tierdb_erasures SET status = 'complete', ended_at_ms = ? WHERE id = ?`).run(endedAtMs, id);
}

function toRow(r: Record<string, unknown>): ErasureRow {
  return {
    id: Number(r.id),
    table: String(r.table_name),
    runId: Number(r.run_id),
    predicate: JSON.parse(String(r.predicate_json)),
    hotRows: Number(r.hot_rows),
    coldRows: Number(r.cold_rows),
    files: JSON.parse(String(r.files_json)) as ErasedFile[],
    backups: JSON.parse(String(r.backups_json)) as ScrubbedBackup[],
    status: r.status as ErasureStatus,
    startedAtMs: Number(r.started_at_ms),
    endedAtMs: r.ended_at_ms === null ? null : Number(r.ended_at_ms),
  };
}

export function listErasures(raw: Database.Database, status?: ErasureStatus): ErasureRow[] {
  const rows = (status === undefined
    ? raw.prepare(`SELECT * FROM _tierdb_erasures ORDER BY id`).safeIntegers(false).all()
    : raw.prepare(`SELECT * FROM _tierdb_erasures WHERE status = ? ORDER BY id`).safeIntegers(false).all(status)) as Record<string, unknown>[];
  return rows.map(toRow);
}
