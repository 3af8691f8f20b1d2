import type Database from 'better-sqlite3';
import { MESSAGE_COLUMNS, normalizeMessage, type MessageValues } from './messageRow.js';

export interface RejectedRow {
  /** Position of the row in the input. */
  index: number;
  reason: string;
}

export interface AppendResult {
  inserted: number;
  duplicates: number;
  rejected: RejectedRow[];
}

const statements = new WeakMap<Database.Database, Database.Statement>();

function insertStatement(raw: Database.Database): Database.Statement {
  let stmt = statements.get(raw);
  if (!stmt) {
    const cols = MESSAGE_COLUMNS.map((c) => `"${c}"`).join(', ');
    stmt = raw.prepare(
      `INSERT INTO messages (${cols}) VALUES (${MESSAGE_COLUMNS.map(() => '?').join(', ')}) ON CONFLICT(msg_id) DO NOTHING`,
    );
    statements.set(raw, stmt);
  }
  return stmt;
}

/**
 * Validates every row, then inserts the valid ones in one transaction with
 * dedupe on `msg_id` (a row whose msg_id is already stored, or appeared
 * earlier in the same call, counts as a duplicate and the stored row is kept).
 * Every input position ends up in exactly one of inserted, duplicates or
 * rejected — holes in a sparse array are rejected too. `alsoInTransaction`
 * runs inside the same transaction after the inserts (the JSONL ingest stores
 * its checkpoint there, so rows and offset commit together); if it throws,
 * nothing is inserted.
 */
export function appendMessages(
  raw: Database.Database,
  rows: readonly unknown[],
  alsoInTransaction?: (result: AppendResult) => void,
): AppendResult {
  const result: AppendResult = { inserted: 0, duplicates: 0, rejected: [] };
  const valid: MessageValues[] = [];
  for (let index = 0; index < rows.length; index++) {
    const normalized = normalizeMessage(rows[index]);
    if (normalized.ok) valid.push(normalized.values);
    else result.rejected.push({ index, reason: normalized.reason });
  }
  const stmt = insertStatement(raw);
  raw.transaction(() => {
    for (const values of valid) {
      if (stmt.run(values).changes === 1) result.inserted++;
      else result.duplicates++;
    }
    alsoInTransaction?.(result);
  })();
  return result;
}
