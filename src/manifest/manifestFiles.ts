/**
 * The manifest (`_tierdb_files`): a cold file exists for readers only while it
 * has a `live` row. Every statement on the table lives here; each change bumps
 * `manifest_version` in the same transaction (the caller's).
 */
import { dropMarkersOfRetired, dropOrphanMarkers } from './deleteMarkers.js';
import type Database from 'better-sqlite3';
import { ManifestChangedError } from '../errors.js';
import { prepareCached } from '../hot/prepareCached.js';
import type { FileState, ManifestFile, NewManifestFile } from './ManifestFile.js';
import { bumpManifestVersion, countDrainBump } from './manifestVersion.js';
import { NOT_ICEBERG_REFERENCED } from './icebergState.js';

export type { FileState, ManifestFile, NewManifestFile } from './ManifestFile.js';

/** A row as a manifest rebuild writes it: a new row, retired or not. */
export type ManifestFileInput = NewManifestFile & { retired_at_ms: number | null };

const INSERT_FILE = `INSERT INTO _tierdb_files (table_name, path, partition, rows, min_time_ms, max_time_ms, min_key, max_key, bytes, hot_bytes,
     checksum, file_sha256, schema_json, state, run_id, created_at_ms, visible_after_ms, retired_at_ms, drained_rows)
   VALUES (@table_name, @path, @partition, @rows, @min_time_ms, @max_time_ms, @min_key, @max_key, @bytes, @hot_bytes,
     @checksum, @file_sha256, @schema_json, @state, @run_id, @created_at_ms, @visible_after_ms, @retired_at_ms, @drained_rows)`;

export function insertManifestFile(raw: Database.Database, f: NewManifestFile): number {
  const result = prepareCached(raw, INSERT_FILE).run({ drained_rows: null, ...f, retired_at_ms: null });
  bumpManifestVersion(raw);
  // None of its rows is cold yet (invisible, or all still hot until drained): no row changed place.
  if (f.state === 'pending' || f.drained_rows === 0) countDrainBump(raw);
  return Number(result.lastInsertRowid);
}

/**
 * A manifest rebuild's swap for one table, inside the caller's transaction:
 * every row of the table goes except those in `keepIds`, and `rows` come in
 * (live, or retired with `retired_at_ms` so recovery unlinks the file later);
 * delete markers of files no longer live go. The caller bumps `manifest_version` once for the whole swap.
 */
export function replaceTableFiles(raw: Database.Database, table: string, keepIds: readonly number[], rows: readonly ManifestFileInput[]): void {
  raw
    .prepare(`DELETE FROM _tierdb_files WHERE table_name = ? AND id NOT IN (SELECT value FROM json_each(?))`)
    .run(table, JSON.stringify(keepIds));
  const insert = raw.prepare(INSERT_FILE);
  for (const row of rows) insert.run({ drained_rows: null, ...row });
  // A marker of a file that is no longer live has nothing left to hide.
  dropOrphanMarkers(raw);
}

/** A pending (grace) file becomes visible, its rows still hot until drained (`drained_rows` 0, see drainFile). */
export function markFileLive(raw: Database.Database, id: number): void {
  raw.prepare(`UPDATE _tierdb_files SET state = 'live', drained_rows = 0 WHERE id = ?`).run(id);
  bumpManifestVersion(raw);
  countDrainBump(raw);
}

/**
 * Inside a drain transaction: a live file's drained prefix moves from `from`
 * to `to` rows (NULL once it covers the whole file). Throws when the row is
 * not at `from` any more (no drain of the file may run twice at once).
 */
export function advanceDrain(raw: Database.Database, id: number, from: number, to: number, rows: number): void {
  const changed = prepareCached(raw, `UPDATE _tierdb_files SET drained_rows = ? WHERE id = ? AND state = 'live' AND drained_rows = ?`).run(to >= rows ? null : to, id, from).changes;
  if (changed !== 1) throw new ManifestChangedError(`manifest file ${id} is not live and drained to row ${from}: its drain moved or it was retired meanwhile`);
  bumpManifestVersion(raw);
  countDrainBump(raw);
}

/** Live files whose rows are still being drained from the hot table (after a crash, or a grace file just made live). */
export function drainingFiles(raw: Database.Database, table?: string): ManifestFile[] {
  const sql = `SELECT * FROM _tierdb_files WHERE state = 'live' AND drained_rows IS NOT NULL${table === undefined ? '' : ' AND table_name = ?'} ORDER BY table_name, min_time_ms, id`;
  return raw.prepare(sql).all(...(table === undefined ? [] : [table])) as ManifestFile[];
}

/** A file's row goes (the file itself is the caller's to unlink). */
export function deleteManifestFile(raw: Database.Database, id: number): void {
  raw.prepare('DELETE FROM _tierdb_files WHERE id = ?').run(id);
  bumpManifestVersion(raw);
}

export function listFiles(raw: Database.Database, table: string | undefined, states: readonly FileState[]): ManifestFile[] {
  const placeholders = states.map(() => '?').join(', ');
  const sql = `SELECT * FROM _tierdb_files WHERE state IN (${placeholders})${table === undefined ? '' : ' AND table_name = ?'} ORDER BY table_name, min_time_ms, id`;
  return raw.prepare(sql).all(...states, ...(table === undefined ? [] : [table])) as ManifestFile[];
}

/**
 * Retired files whose retirement is older than `beforeMs` — no running query
 * can still list them — and that no kept Iceberg snapshot lists (an Iceberg
 * reader may still read them: they go once that snapshot expires).
 */
export function retiredFilesBefore(raw: Database.Database, beforeMs: number): ManifestFile[] {
  return raw.prepare(`SELECT * FROM _tierdb_files WHERE state = 'retired' AND retired_at_ms <= ? AND ${NOT_ICEBERG_REFERENCED}`).all(beforeMs) as ManifestFile[];
}

/** Every path the manifest knows, in any state. */
export function allManifestPaths(raw: Database.Database): Set<string> {
  return new Set(raw.prepare('SELECT path FROM _tierdb_files').pluck().all() as string[]);
}

export function manifestFileCount(raw: Database.Database, table?: string): number {
  return (
    table === undefined
      ? raw.prepare('SELECT count(*) FROM _tierdb_files').pluck().get()
      : raw.prepare('SELECT count(*) FROM _tierdb_files WHERE table_name = ?').pluck().get(table)
  ) as number;
}

/** A live file as the query planner reads it: exact (bigint) numbers and keys. */
export interface LiveFileRow {
  path: string;
  /** Rows of the file that are cold (the rest are still hot); null: all of them. */
  drained_rows: bigint | null;
  rows: bigint;
  bytes: bigint;
  file_sha256: string | null;
  min_time_ms: bigint | number;
  max_time_ms: bigint | number;
  min_key: unknown;
  max_key: unknown;
  schema_json: string;
}

/** A table's live files in time order, on a (cached) statement of `db`. */
export function liveFileRows(db: Database.Database, table: string): LiveFileRow[] {
  return prepareCached(
    db,
    `SELECT path, rows, bytes, file_sha256, min_time_ms, max_time_ms, min_key, max_key, schema_json, drained_rows
     FROM _tierdb_files WHERE table_name = ? AND state = 'live' ORDER BY min_time_ms, id`,
  )
    .safeIntegers(true)
    .all(table) as LiveFileRow[];
}

/** The key range of every live and pending file of a table (bigint for INTEGER keys). */
export function fileKeyRanges(db: Database.Database, table: string): { path: string; min: unknown; max: unknown }[] {
  return prepareCached(
    db,
    `SELECT path, min_key AS min, max_key AS max FROM _tierdb_files WHERE table_name = ? AND state IN ('live', 'pending') ORDER BY id`,
  )
    .safeIntegers(true)
    .all(table) as { path: string; min: unknown; max: unknown }[];
}

/** Totals of a table's live files, and how many wait in their grace period. */
export interface ColdTotals {
  files: number;
  /** Rows that are cold: a draining file counts only its drained prefix (the rest are still hot). */
  rows: number;
  bytes: number;
  oldest: string | null;
  newest: string | null;
  hotBytes: number | null;
  pendingFiles: number;
  /** Live files whose rows are still being drained from the hot table. */
  drainingFiles: number;
}

export function coldTotals(raw: Database.Database, table: string): ColdTotals {
  const row = raw
    .prepare(
      `SELECT count(*) AS files, coalesce(sum(coalesce(drained_rows, rows)), 0) AS rows, coalesce(sum(bytes), 0) AS bytes,
              min(partition) AS oldest, max(partition) AS newest, sum(hot_bytes) AS hotBytes, count(drained_rows) AS drainingFiles
         FROM _tierdb_files WHERE table_name = ? AND state = 'live'`,
    )
    .get(table) as Omit<ColdTotals, 'pendingFiles'>;
  const pendingFiles = raw.prepare(`SELECT count(*) FROM _tierdb_files WHERE table_name = ? AND state = 'pending'`).pluck().get(table) as number;
  return { ...row, pendingFiles };
}

/**
 * One manifest swap, inside the caller's transaction: the `retire` files (all
 * still live, or the swap throws ManifestChangedError and the transaction
 * rolls back) become `retired` at `nowMs`, the new rows go in live, and the
 * version is bumped once. The retired files' delete markers go with them:
 * `marksAppliedThrough` is the newest marker id the new files' rows account
 * for (see dropMarkersOfRetired; a later marker on an input refuses the swap). A reader sees the old set or the new set, never both.
 */
export function swapManifestFiles(
  raw: Database.Database,
  retire: readonly number[],
  insert: readonly NewManifestFile[],
  nowMs: number,
  marksAppliedThrough: number,
): number[] {
  dropMarkersOfRetired(raw, retire, marksAppliedThrough);
  if (retire.length > 0) {
    const draining = prepareCached(raw, `SELECT path FROM _tierdb_files WHERE id IN (SELECT value FROM json_each(?)) AND drained_rows IS NOT NULL LIMIT 1`).pluck().get(JSON.stringify(retire)) as string | undefined;
    // Its undrained rows are still hot: a rewrite of it would show them twice. Drains are finished before any maintenance job.
    if (draining !== undefined) throw new ManifestChangedError(`${draining} is still being drained from the hot table; nothing was swapped (the next run retries)`);
  }
  const retireStmt = prepareCached(raw, `UPDATE _tierdb_files SET state = 'retired', retired_at_ms = ? WHERE id = ? AND state = 'live'`);
  for (const id of retire) {
    if (retireStmt.run(nowMs, id).changes !== 1) {
      throw new ManifestChangedError(`manifest file ${id} is no longer live: another change retired it meanwhile; nothing was swapped`);
    }
  }
  const ids = insert.map((f) => insertManifestFile(raw, f));
  bumpManifestVersion(raw);
  return ids;
}

/** A table's live files as maintenance reads them (exact keys and times: safeIntegers). */
export function liveFilesExact(raw: Database.Database, table: string): ManifestFile[] {
  return raw
    .prepare(`SELECT * FROM _tierdb_files WHERE table_name = ? AND state = 'live' ORDER BY min_time_ms, id`)
    .safeIntegers(true)
    .all(table)
    .map((r) => {
      const row = r as Record<string, unknown>;
      // Counts and sizes as numbers; keys stay exact (bigint or text).
      for (const k of ['id', 'rows', 'min_time_ms', 'max_time_ms', 'bytes', 'hot_bytes', 'run_id', 'created_at_ms', 'visible_after_ms', 'retired_at_ms', 'drained_rows']) {
        if (typeof row[k] === 'bigint') row[k] = Number(row[k]);
      }
      return row as unknown as ManifestFile;
    });
}
