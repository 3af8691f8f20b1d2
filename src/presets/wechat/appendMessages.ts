import type Database from 'better-sqlite3';
import type { ColdKeyIndex } from '../../cold/ColdKeyIndex.js';
import { coldKeyCandidates, coldKeyId, type ColdKey } from '../../cold/coldKeyCandidates.js';
import { ArgumentError, TierError } from '../../errors.js';
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

/** Keys already read from cold files, and which files they were read from. */
interface ColdChecked {
  files: Set<string>;
  found: Set<string>;
}

/** Thrown inside the transaction when the manifest names a file not yet read: roll back, read it, retry. */
class ColdFilesChanged extends Error {
  constructor(readonly candidates: Map<string, ColdKey[]>) {
    super('cold files changed');
  }
}

/** SQLite's disk-full error, named with the file; other errors unchanged. */
function toDiskFullError(error: unknown, raw: Database.Database, rowCount: number): unknown {
  if ((error as { code?: unknown }).code !== 'SQLITE_FULL') return error;
  return new TierError(
    'TIERDB_DISK_FULL',
    `the disk holding the hot database ${raw.name} is full: none of the ${rowCount} rows of this call were stored. Free space and append them again`,
    { cause: error },
  );
}

/**
 * Inserts in one IMMEDIATE transaction (so no archiver commit can slip in
 * between the manifest check and the inserts). Keys in `cold.found` count as
 * duplicates; a candidate file not in `cold.files` aborts with ColdFilesChanged.
 */
function insert(
  raw: Database.Database,
  { result, valid }: Validated,
  candidatesOf: (keys: ColdKey[]) => Map<string, ColdKey[]>,
  cold: ColdChecked,
  alsoInTransaction: ((result: AppendResult) => void) | undefined,
): AppendResult {
  const stmt = insertStatement(raw);
  const keys = valid.map((v) => v[0] as bigint);
  const attempt = { inserted: 0, duplicates: 0 };
  try {
    raw.transaction(() => {
      const candidates = candidatesOf(keys);
      for (const file of candidates.keys()) if (!cold.files.has(file)) throw new ColdFilesChanged(candidates);
      for (const values of valid) {
        if (cold.found.size > 0 && cold.found.has(coldKeyId(values[0]))) attempt.duplicates++;
        else if (stmt.run(values).changes === 1) attempt.inserted++;
        else attempt.duplicates++;
      }
      result.inserted = attempt.inserted;
      result.duplicates = attempt.duplicates;
      alsoInTransaction?.(result);
    }).immediate();
  } catch (error) {
    result.inserted = 0;
    result.duplicates = 0;
    throw toDiskFullError(error, raw, valid.length + result.rejected.length);
  }
  return result;
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
  const validated = validate(rows);
  try {
    return insert(raw, validated, (keys) => coldKeyCandidates(raw, TABLE, keys), { files: new Set(), found: new Set() }, alsoInTransaction);
  } catch (error) {
    if (!(error instanceof ColdFilesChanged)) throw error;
    const keys = [...new Set([...error.candidates.values()].flat())];
    throw new TierError(
      'TIERDB_COLD_CHECK_NEEDED',
      `${keys.length} msg_id(s) (first: ${String(keys[0])}) fall inside the key range of cold file(s) ${[...error.candidates.keys()].join(', ')}, ` +
        'which a bare SQLite handle cannot read to dedupe them; nothing was inserted. Append through an open store (store.hot.appendMessages, ingestJsonl(store, ...))',
    );
  }
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
  const validated = validate(rows);
  const candidatesOf = (keys: ColdKey[]) => coldKeys.candidates(raw, TABLE, KEY, keys);
  const cold: ColdChecked = { files: new Set(), found: new Set() };
  let toRead = candidatesOf(validated.valid.map((v) => v[0] as bigint));
  for (;;) {
    if (toRead.size > 0) {
      for (const id of await coldKeys.findKeys(KEY, toRead)) cold.found.add(id);
      for (const file of toRead.keys()) cold.files.add(file);
    }
    try {
      return insert(raw, validated, candidatesOf, cold, alsoInTransaction);
    } catch (error) {
      if (!(error instanceof ColdFilesChanged)) throw error;
      toRead = new Map([...error.candidates].filter(([file]) => !cold.files.has(file)));
    }
  }
}
