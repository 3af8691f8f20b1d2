/**
 * Where this store's cold tier lives, recorded in `_tierdb_meta.cold_location`:
 * `local` (the folder beside the hot file, wherever the data folder is moved)
 * or the `s3://bucket/prefix` URL. A store opened with another cold tier than
 * the one its manifest names is refused (its paths would name files that are
 * not there, and new files would land in a second tree). `tierdb migrate-cold`
 * changes it in the transaction that switches the tree.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { ColdStore } from '../cold/ColdStore.js';

/** How a cold store is recorded: `local`, or its URL. */
export function coldLocationOf(cold: ColdStore): string {
  return cold.kind === 'local' ? 'local' : cold.location;
}

export function readColdLocation(raw: Database.Database): string | undefined {
  return (raw.prepare(`SELECT value FROM _tierdb_meta WHERE key = 'cold_location'`).pluck().get() as string | undefined) ?? undefined;
}

/** Inside the transaction that switches the tree (or at the first writable open). */
export function writeColdLocation(raw: Database.Database, location: string): void {
  raw.prepare(`INSERT INTO _tierdb_meta (key, value) VALUES ('cold_location', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`).run(location);
}

/**
 * The cold location a hot file records, read before the store is opened (so
 * `tierdb migrate-cold` can open a store whose switch already happened with
 * its new tree); undefined when the file or the record is not there.
 */
export function peekColdLocation(hotPath: string): string | undefined {
  if (!existsSync(hotPath)) return undefined;
  const db = new Database(hotPath, { readonly: true, fileMustExist: true });
  try {
    const meta = db.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = '_tierdb_meta'`).get();
    return meta === undefined ? undefined : readColdLocation(db);
  } finally {
    db.close();
  }
}
