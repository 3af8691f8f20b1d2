import type Database from 'better-sqlite3';
import type { ColdKeyIndex } from '../../cold/ColdKeyIndex.js';
import { coldKeyId } from '../../cold/coldKeyCandidates.js';
import { ArgumentError } from '../../errors.js';
import type { AppendResult } from '../../hot/AppendResult.js';
import { insertWithColdLookup, insertWithoutColdLookup, type ColdCheckedInsert } from '../../hot/coldCheckedInsert.js';
import { MESSAGE_COLUMNS, normalizeMessage, type MessageValues } from './messageRow.js';

export type { AppendResult, RejectedRow } from '../../hot/AppendResult.js';

const TABLE = 'messages';
const KEY = 'msg_id';

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

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `a string (${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)})`;
  if (typeof value === 'object' && typeof (value as { length?: unknown }).length === 'number') {
    return `an array-like ${(value as object).constructor?.name ?? 'object'} of length ${(value as { length: number }).length}, not an array (use Array.from)`;
  }
  if (typeof value === 'object') return 'an object';
  if (value === undefined || typeof value === 'function') return typeof value === 'function' ? 'a function' : 'undefined';
  return `a ${typeof value} (${String(value)})`;
}

interface Validated {
  result: AppendResult;
  valid: MessageValues[];
}

function validate(rows: unknown): Validated {
  if (!Array.isArray(rows)) throw new ArgumentError(`appendMessages expects an array of rows, got ${describeValue(rows)}`);
  const result: AppendResult = { inserted: 0, duplicates: 0, rejected: [] };
  const valid: MessageValues[] = [];
  for (let index = 0; index < rows.length; index++) {
    const normalized = normalizeMessage(rows[index]);
    if (normalized.ok) valid.push(normalized.values);
    else result.rejected.push({ index, reason: normalized.reason });
  }
  return { result, valid };
}

/**
 * Inserts in one IMMEDIATE transaction (see coldCheckedInsert). Keys in
 * `coldFound` count as duplicates, like keys already hot.
 */
function insertBody(
  raw: Database.Database,
  { result, valid }: Validated,
  alsoInTransaction: ((result: AppendResult) => void) | undefined,
): (coldFound: ReadonlySet<string>) => AppendResult {
  const stmt = insertStatement(raw);
  return (coldFound) => {
    const attempt = { inserted: 0, duplicates: 0 };
    for (const values of valid) {
      if (coldFound.size > 0 && coldFound.has(coldKeyId(values[0]))) attempt.duplicates++;
      else if (stmt.run(values).changes === 1) attempt.inserted++;
      else attempt.duplicates++;
    }
    result.inserted = attempt.inserted;
    result.duplicates = attempt.duplicates;
    try {
      alsoInTransaction?.(result);
    } catch (error) {
      result.inserted = 0;
      result.duplicates = 0;
      throw error;
    }
    return result;
  };
}

function job(raw: Database.Database, validated: Validated, alsoInTransaction: ((result: AppendResult) => void) | undefined): ColdCheckedInsert<AppendResult> {
  return {
    raw,
    table: TABLE,
    keyColumn: KEY,
    keys: validated.valid.map((v) => v[0] as bigint),
    rowCount: validated.valid.length + validated.result.rejected.length,
    body: insertBody(raw, validated, alsoInTransaction),
  };
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
 *
 * A bare handle cannot read cold files: when some msg_id falls inside the key
 * range of a cold file of `messages`, nothing is inserted and a TierError says
 * to append through the store (`appendMessagesChecked` with its ColdKeyIndex).
 */
export function appendMessages(
  raw: Database.Database,
  rows: readonly unknown[],
  alsoInTransaction?: (result: AppendResult) => void,
): AppendResult {
  return insertWithoutColdLookup(job(raw, validate(rows), alsoInTransaction), 'store.hot.appendMessages, ingestJsonl(store, ...)');
}

/**
 * appendMessages that also dedupes against the cold tier: keys inside a live
 * or pending file's key range are looked up in those files (only their key
 * column); keys found cold count as duplicates, exactly like hot ones.
 * Without `coldKeys` it is appendMessages.
 */
export async function appendMessagesChecked(
  raw: Database.Database,
  rows: readonly unknown[],
  coldKeys: ColdKeyIndex | undefined,
  alsoInTransaction?: (result: AppendResult) => void,
): Promise<AppendResult> {
  if (!coldKeys) return appendMessages(raw, rows, alsoInTransaction);
  return insertWithColdLookup(job(raw, validate(rows), alsoInTransaction), coldKeys);
}
