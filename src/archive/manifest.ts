/**
 * The manifest (`_tierdb_files`): a cold file exists for readers only while it
 * has a `live` row. Every change bumps `manifest_version` in `_tierdb_meta`
 * in the same transaction, so caches keyed on it are never stale.
 */
import type Database from 'better-sqlite3';

export type FileState = 'pending' | 'live' | 'retired';

export interface ManifestFile {
  id: number;
  table_name: string;
  path: string;
  partition: string;
  rows: number;
  min_time_ms: number;
  max_time_ms: number;
  min_key: unknown;
  max_key: unknown;
  bytes: number;
  hot_bytes: number | null;
  checksum: string;
  /** sha256 of the whole file; null for files written before 0.2. */
  file_sha256: string | null;
  schema_json: string;
  state: FileState;
  run_id: number | null;
  created_at_ms: number;
  visible_after_ms: number | null;
  retired_at_ms: number | null;
}

export type NewManifestFile = Omit<ManifestFile, 'id' | 'retired_at_ms'>;

export function bumpManifestVersion(raw: Database.Database): void {
  raw
    .prepare(
      `INSERT INTO _tierdb_meta (key, value) VALUES ('manifest_version', '1')
       ON CONFLICT(key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)`,
    )
    .run();
}

export function manifestVersion(raw: Database.Database): number {
  const row = raw.prepare(`SELECT value FROM _tierdb_meta WHERE key = 'manifest_version'`).get() as { value: string } | undefined;
  return row ? Number(row.value) : 0;
}

export function insertManifestFile(raw: Database.Database, f: NewManifestFile): number {
  const result = raw
    .prepare(
      `INSERT INTO _tierdb_files (table_name, path, partition, rows, min_time_ms, max_time_ms, min_key, max_key, bytes, hot_bytes,
         checksum, file_sha256, schema_json, state, run_id, created_at_ms, visible_after_ms)
       VALUES (@table_name, @path, @partition, @rows, @min_time_ms, @max_time_ms, @min_key, @max_key, @bytes, @hot_bytes,
         @checksum, @file_sha256, @schema_json, @state, @run_id, @created_at_ms, @visible_after_ms)`,
    )
    .run(f);
  bumpManifestVersion(raw);
  return Number(result.lastInsertRowid);
}

export function listFiles(raw: Database.Database, table: string | undefined, states: readonly FileState[]): ManifestFile[] {
  const placeholders = states.map(() => '?').join(', ');
  const sql = `SELECT * FROM _tierdb_files WHERE state IN (${placeholders})${table === undefined ? '' : ' AND table_name = ?'} ORDER BY table_name, min_time_ms, id`;
  return raw.prepare(sql).all(...states, ...(table === undefined ? [] : [table])) as ManifestFile[];
}

export function allManifestPaths(raw: Database.Database): Set<string> {
  return new Set((raw.prepare('SELECT path FROM _tierdb_files').pluck().all() as string[]));
}
