/**
 * Making erased values physically gone from SQLite files: the rows deleted
 * with `secure_delete` on (their bytes overwritten), then `VACUUM` (every page
 * rewritten, so no residue of rows deleted earlier without it — rows the
 * archiver moved out — survives in free pages or cell gaps), then
 * `wal_checkpoint(TRUNCATE)` (the WAL, which held older page images, cut to
 * zero bytes).
 */
import Database from 'better-sqlite3';
import { listBackups } from '../archive/backupHotFile.js';
import { sqlIdent } from '../cold/DuckDbEngine.js';
import { fileSha256 } from '../cold/fileSha256.js';
import type { ScrubbedBackup } from '../manifest/erasureReceipts.js';
import { registerIsoInstant } from '../query/isoInstantMs.js';
import type { Condition } from '../query/normalizeQuery.js';
import { renderWhere } from '../query/renderFilter.js';
import { registerInList, withInLists } from '../query/sqliteInList.js';

const CHECKPOINT_TRIES = 50;

/** VACUUM, then checkpoint the WAL to zero bytes (retried while readers hold it). Returns whether the WAL was truncated. */
export async function vacuumAndTruncateWal(db: Database.Database): Promise<boolean> {
  db.exec('VACUUM');
  for (let i = 0; i < CHECKPOINT_TRIES; i++) {
    // Numbers or BigInts, as the connection's safeIntegers setting has them (a backup's is on).
    const [r] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number | bigint; log: number | bigint }[];
    if (!r || (Number(r.busy) === 0 && Number(r.log) <= 0)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/** DELETE … WHERE <conditions> with secure_delete on; returns the rows deleted. */
export function secureDelete(db: Database.Database, table: string, conditions: readonly Condition[]): number {
  registerIsoInstant(db);
  registerInList(db);
  const where = renderWhere(conditions, 'sqlite');
  const previous = db.pragma('secure_delete', { simple: true });
  db.pragma('secure_delete = ON');
  try {
    return withInLists(where.params, (bound) => db.prepare(`DELETE FROM ${sqlIdent(table)}${where.sql}`).run(...bound).changes);
  } finally {
    db.pragma(`secure_delete = ${Number(previous) === 1 ? 'ON' : 'OFF'}`);
  }
}

/**
 * Each backup rewritten without the matching rows: deleted with secure_delete,
 * vacuumed, its WAL truncated. A backup without the table is vacuumed too (it
 * may hold residue of earlier deletes). Backups stay restorable; a restored one
 * lists cold files that an erase may have replaced (rebuild-manifest mends that).
 */
export async function scrubBackups(dataDir: string, table: string, conditions: readonly Condition[]): Promise<ScrubbedBackup[]> {
  const out: ScrubbedBackup[] = [];
  for (const file of listBackups(dataDir)) {
    const db = new Database(file, { fileMustExist: true });
    let rowsErased = 0;
    try {
      db.defaultSafeIntegers(true);
      const exists = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).pluck().get(table) !== undefined;
      if (exists) rowsErased = secureDelete(db, table, conditions);
      await vacuumAndTruncateWal(db);
    } finally {
      db.close();
    }
    out.push({ path: file, rowsErased, sha256: await fileSha256(file) });
  }
  return out;
}
