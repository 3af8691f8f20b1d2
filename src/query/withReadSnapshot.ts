/**
 * Runs synchronous reads under one SQLite read snapshot (WAL: writers go on).
 * `fn` must not await: the whole snapshot is one synchronous block, so no
 * other code can use the connection in between.
 */
import type Database from 'better-sqlite3';
import { prepareCached } from '../hot/prepareCached.js';

export function withReadSnapshot<T>(db: Database.Database, fn: () => T): T {
  if (db.inTransaction) return fn();
  prepareCached(db, 'BEGIN').run();
  try {
    const result = fn();
    prepareCached(db, 'COMMIT').run();
    return result;
  } catch (error) {
    if (db.inTransaction) prepareCached(db, 'ROLLBACK').run();
    throw error;
  }
}
