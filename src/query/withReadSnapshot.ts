/**
 * Runs synchronous reads under one SQLite read snapshot (WAL: writers go on).
 * `fn` must not await: the whole snapshot is one synchronous block, so no
 * other code can use the connection in between.
 */
import type Database from 'better-sqlite3';

export function withReadSnapshot<T>(db: Database.Database, fn: () => T): T {
  if (db.inTransaction) return fn();
  db.exec('BEGIN');
  try {
    const result = fn();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
