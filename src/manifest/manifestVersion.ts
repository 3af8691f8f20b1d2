/**
 * `manifest_version` in `_tierdb_meta`: bumped in the same transaction as
 * every manifest change, so caches keyed on it are never stale. `drain_bumps`
 * counts the bumps that changed no row's place: a file listed with none of its
 * rows cold yet (pending, or live with `drained_rows` 0) and a drain step
 * moving a file's prefix over rows equal to their hot copies (advanceDrain) —
 * so a change (store.delete/update) can tell those from a change of what is
 * cold without scanning again (readLayoutVersion).
 */
import type Database from 'better-sqlite3';
import { prepareCached } from '../hot/prepareCached.js';

/** Inside the transaction that changes the manifest. */
export function bumpManifestVersion(raw: Database.Database): void {
  prepareCached(
    raw,
    `INSERT INTO _tierdb_meta (key, value) VALUES ('manifest_version', '1')
     ON CONFLICT(key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)`,
  ).run();
}

/** The current version (0 before the first manifest change). */
export function readManifestVersion(raw: Database.Database): number {
  const value = prepareCached(raw, `SELECT value FROM _tierdb_meta WHERE key = 'manifest_version'`).pluck().get() as string | undefined;
  return value === undefined ? 0 : Number(value);
}

/** Beside a bumpManifestVersion that changed no row's place (see the file comment). */
export function countDrainBump(raw: Database.Database): void {
  prepareCached(
    raw,
    `INSERT INTO _tierdb_meta (key, value) VALUES ('drain_bumps', '1')
     ON CONFLICT(key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)`,
  ).run();
}

/**
 * `manifest_version` and the version without drain bumps (which moves with every
 * other manifest change: a file retired or swapped, a marker added, a file listed
 * with rows cold), in the caller's snapshot.
 */
export function readLayoutVersion(raw: Database.Database): { manifestVersion: number; layoutVersion: number } {
  const row = prepareCached(
    raw,
    `SELECT (SELECT value FROM _tierdb_meta WHERE key = 'manifest_version'), (SELECT value FROM _tierdb_meta WHERE key = 'drain_bumps')`,
  )
    .raw(true)
    .get() as [string | null, string | null];
  const manifestVersion = row[0] === null ? 0 : Number(row[0]);
  return { manifestVersion, layoutVersion: manifestVersion - (row[1] === null ? 0 : Number(row[1])) };
}
