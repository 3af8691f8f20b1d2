/**
 * Delete markers (`_tierdb_deletes`): every statement on them. A marker hides
 * one row of one live cold file — (path, key), never a key alone, so a key
 * deleted and later archived again into another file is not hidden there.
 *
 * Markers are written in the transaction that deletes or updates the rows
 * (with a manifest-version bump), read by every reader of the file under the
 * same snapshot as the manifest, applied by every rewrite of the file, and
 * dropped in the transaction that retires it (dropMarkersOfRetired).
 */
import type Database from 'better-sqlite3';
import { ManifestChangedError } from '../errors.js';
import { prepareCached } from '../hot/prepareCached.js';

/** `stale`: the archiver found the hot row changed or gone before it drained it: the file's copy is not the row. */
export type MarkerOp = 'delete' | 'update' | 'stale';

export interface Marker {
  readonly path: string;
  readonly key: unknown;
  /** The row's position in the file (`file_row_number`), when the change read it there. */
  readonly pos?: number;
}

/** The markers of some files: keys per manifest path, and the newest marker id when they were read. */
export interface FileMarkers {
  readonly byPath: ReadonlyMap<string, readonly unknown[]>;
  /** Per manifest path, the marked rows' positions, in `byPath`'s order; absent when one of its markers has none. */
  readonly positions: ReadonlyMap<string, readonly number[]>;
  /** Markers with a higher id were committed after this read (0: none ever). */
  readonly throughId: number;
  readonly count: number;
}

export const NO_MARKERS: FileMarkers = { byPath: new Map(), positions: new Map(), throughId: 0, count: 0 };

/**
 * Inside the change's transaction. Returns how many markers were new (a row
 * already masked is not masked twice). A marker hides every row of its file
 * with its key; its position lets readers hide that row by position instead,
 * which says the same only while the file holds the key once. So when a
 * second row of one file with the same key is marked (a file holding a key
 * twice), the marker's position is cleared: readers of that file go back to
 * hiding by key.
 */
export function insertMarkers(raw: Database.Database, table: string, markers: readonly Marker[], op: MarkerOp, manifestVersion: number, nowMs: number): number {
  const insert = prepareCached(
    raw,
    `INSERT INTO _tierdb_deletes (table_name, path, key, op, manifest_version, created_at_ms, pos) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (path, key) DO NOTHING`,
  );
  const unposition = prepareCached(raw, `UPDATE _tierdb_deletes SET pos = NULL WHERE path = ? AND key = ? AND pos IS NOT ?`);
  let added = 0;
  for (const m of markers) {
    const changes = insert.run(table, m.path, m.key, op, manifestVersion, nowMs, m.pos ?? null).changes;
    added += changes;
    if (changes === 0) unposition.run(m.path, m.key, m.pos ?? null);
  }
  return added;
}

/** How many markers each live file of a table has (files without any are absent). */
export function markerCounts(db: Database.Database, table: string): Map<string, number> {
  const rows = prepareCached(db, `SELECT path, count(*) AS n FROM _tierdb_deletes WHERE table_name = ? GROUP BY path`).raw(true).safeIntegers(false).all(table) as [string, number][];
  return new Map(rows);
}

/** The markers of `paths` (exact keys: bigint for INTEGER keys), read in the caller's snapshot. */
export function readMarkers(db: Database.Database, paths: readonly string[]): FileMarkers {
  const throughId = (prepareCached(db, `SELECT coalesce(max(id), 0) FROM _tierdb_deletes`).pluck().safeIntegers(false).get() as number) ?? 0;
  if (paths.length === 0 || throughId === 0) return { byPath: new Map(), positions: new Map(), throughId, count: 0 };
  const rows = prepareCached(db, `SELECT path, key, pos FROM _tierdb_deletes WHERE path IN (SELECT value FROM json_each(?)) AND id <= ? ORDER BY path, id`)
    .raw(true)
    .safeIntegers(true)
    .all(JSON.stringify(paths), throughId) as [string, unknown, bigint | null][];
  const byPath = new Map<string, unknown[]>();
  const positions = new Map<string, number[]>();
  const unpositioned = new Set<string>();
  for (const [p, k, pos] of rows) {
    let keys = byPath.get(p);
    if (!keys) byPath.set(p, (keys = []));
    keys.push(k);
    if (pos === null) unpositioned.add(p);
    else {
      let at = positions.get(p);
      if (!at) positions.set(p, (at = []));
      at.push(Number(pos));
    }
  }
  for (const p of unpositioned) positions.delete(p);
  return { byPath, positions, throughId, count: rows.length };
}

export function markerTotal(db: Database.Database, table?: string): number {
  return (
    table === undefined
      ? prepareCached(db, `SELECT count(*) FROM _tierdb_deletes`).pluck().safeIntegers(false).get()
      : prepareCached(db, `SELECT count(*) FROM _tierdb_deletes WHERE table_name = ?`).pluck().safeIntegers(false).get(table)
  ) as number;
}

/**
 * Inside the transaction that retires the files `ids`: their markers go with
 * them. `appliedThrough` is the `throughId` of the read whose rows the
 * replacement holds: a marker committed after it (a row deleted while the
 * rewrite ran) would be lost with the file, so the swap is refused
 * (ManifestChangedError; the transaction rolls back, the next run retries).
 * Pass Infinity when every row of the files goes (retention of whole files).
 */
export function dropMarkersOfRetired(raw: Database.Database, ids: readonly number[], appliedThrough: number): number {
  if (ids.length === 0) return 0;
  const list = JSON.stringify(ids);
  const paths = `SELECT path FROM _tierdb_files WHERE id IN (SELECT value FROM json_each(?))`;
  if (Number.isFinite(appliedThrough)) {
    const late = prepareCached(raw, `SELECT path FROM _tierdb_deletes WHERE path IN (${paths}) AND id > ? LIMIT 1`).pluck().get(list, appliedThrough) as string | undefined;
    if (late !== undefined) {
      throw new ManifestChangedError(`rows of ${late} were deleted or updated while it was being rewritten; nothing was swapped (the next run retries)`);
    }
  }
  return prepareCached(raw, `DELETE FROM _tierdb_deletes WHERE path IN (${paths})`).run(list).changes;
}

/** Markers whose file is no longer live (a manifest rebuilt or edited by hand): dropped, inside the caller's transaction. */
export function dropOrphanMarkers(raw: Database.Database): number {
  return prepareCached(raw, `DELETE FROM _tierdb_deletes WHERE path NOT IN (SELECT path FROM _tierdb_files WHERE state = 'live')`).run().changes;
}
