/**
 * The retention ledger (`_tierdb_retention`): what each retention run removed
 * from a table's cold tier, written in the same transaction as the swap.
 */
import type Database from 'better-sqlite3';

export interface RetentionEntry {
  table: string;
  runId: number;
  cutoffMs: number;
  /** Files retired (whole, or rewritten without the old rows). */
  files: number;
  rows: number;
  bytes: number;
  minTimeMs: number | null;
  maxTimeMs: number | null;
  paths: readonly string[];
  atMs: number;
}

export function insertRetentionEntry(raw: Database.Database, e: RetentionEntry): void {
  raw
    .prepare(
      `INSERT INTO _tierdb_retention (table_name, run_id, cutoff_ms, files, rows, bytes, min_time_ms, max_time_ms, paths_json, at_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(e.table, e.runId, e.cutoffMs, e.files, e.rows, e.bytes, e.minTimeMs, e.maxTimeMs, JSON.stringify(e.paths), e.atMs);
}

/** The ledger, newest first (optionally one table's). */
export function listRetentionEntries(raw: Database.Database, table?: string): RetentionEntry[] {
  const rows = raw
    .prepare(`SELECT * FROM _tierdb_retention${table === undefined ? '' : ' WHERE table_name = ?'} ORDER BY id DESC`)
    .all(...(table === undefined ? [] : [table])) as Record<string, unknown>[];
  return rows.map((r) => ({
    table: r.table_name as string,
    runId: r.run_id as number,
    cutoffMs: r.cutoff_ms as number,
    files: r.files as number,
    rows: r.rows as number,
    bytes: r.bytes as number,
    minTimeMs: r.min_time_ms as number | null,
    maxTimeMs: r.max_time_ms as number | null,
    paths: JSON.parse(r.paths_json as string) as string[],
    atMs: r.at_ms as number,
  }));
}
