/**
 * `manifest_version` in `_tierdb_meta`: bumped in the same transaction as
 * every manifest change, so caches keyed on it are never stale.
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
