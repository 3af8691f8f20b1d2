/** The store's identity in `_tierdb_meta` (see src/store/coldTreeIdentity.ts). */
import type Database from 'better-sqlite3';

export function readStoreId(raw: Database.Database): string | undefined {
  return (raw.prepare(`SELECT value FROM _tierdb_meta WHERE key = 'store_id'`).pluck().get() as string | undefined) ?? undefined;
}

/** Records `storeId` unless the store already has one; returns the id the store has now. */
export function claimStoreId(raw: Database.Database, storeId: string): string {
  raw.prepare(`INSERT INTO _tierdb_meta (key, value) VALUES ('store_id', ?) ON CONFLICT(key) DO NOTHING`).run(storeId);
  return readStoreId(raw)!;
}
