/**
 * `store.hot.append(table, rows, { onConflict })` for any registered table:
 * every row is checked against the table's declared columns (checkRowValues),
 * the valid ones are inserted in one IMMEDIATE transaction, deduped against
 * the hot table and the cold tier by the registry's key column
 * (coldCheckedInsert: the same path as appendMessages).
 */
import type Database from 'better-sqlite3';
import type { ColdKeyIndex } from '../cold/ColdKeyIndex.js';
import { coldKeyId, type ColdKey } from '../cold/coldKeyCandidates.js';
import { ArgumentError, ReadOnlyStoreError, RegistryError } from '../errors.js';
import type { AppendOptions, AppendResult, OnConflict, RejectedRow } from './AppendResult.js';
import { checkRowValues, toAppendColumn, type AppendTableShape } from './checkRowValues.js';
import { insertWithColdLookup, insertWithoutColdLookup } from './coldCheckedInsert.js';

const ON_CONFLICT: readonly OnConflict[] = ['ignore', 'error'];
const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** The table's insertable shape, read from SQLite at each call (so an added column is seen). */
export function readAppendShape(raw: Database.Database, table: string, keyColumn: string): AppendTableShape {
  const rows = raw.prepare('SELECT name, type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?)').all(table) as {
    name: string;
    type: string;
    notnull: number;
    dflt_value: unknown;
    pk: number;
    hidden: number;
  }[];
  if (rows.length === 0) throw new RegistryError(`table ${table} does not exist in the hot database`);
  const pk = rows.filter((r) => r.pk > 0);
  const keyIsRowid = pk.length === 1 && pk[0]!.name === keyColumn && pk[0]!.type.toUpperCase() === 'INTEGER';
  return { table, keyColumn, keyIsRowid, columns: new Map(rows.filter((r) => r.hidden !== 1).map((r) => [r.name, toAppendColumn(r)])) };
}

const statements = new WeakMap<Database.Database, Map<string, Database.Statement>>();

function insertStatement(raw: Database.Database, table: string, names: readonly string[], onConflict: OnConflict): Database.Statement {
  let cache = statements.get(raw);
  if (!cache) statements.set(raw, (cache = new Map()));
  const id = `${onConflict}\u0000${table}\u0000${names.join('\u0000')}`;
  let stmt = cache.get(id);
  if (!stmt) {
    const sql =
      names.length === 0
        ? `INSERT INTO ${quote(table)} DEFAULT VALUES`
        : `INSERT INTO ${quote(table)} (${names.map(quote).join(', ')}) VALUES (${names.map(() => '?').join(', ')})` +
          (onConflict === 'ignore' ? ' ON CONFLICT DO NOTHING' : '');
    if (cache.size >= 256) cache.clear();
    cache.set(id, (stmt = raw.prepare(sql)));
  }
  return stmt;
}

const UNIQUE_CODES = new Set(['SQLITE_CONSTRAINT_PRIMARYKEY', 'SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_ROWID']);

interface ValidRow {
  index: number;
  names: string[];
  values: unknown[];
  key: ColdKey | undefined;
}

export interface AppendRowsTarget {
  raw: Database.Database;
  /** Without it (a bare handle), a key inside a cold file's key range refuses the call. */
  coldKeys: ColdKeyIndex | undefined;
}

/**
 * Checks and inserts `rows` into `table`. Every input position ends up in
 * exactly one of inserted, duplicates (onConflict `ignore`) or rejected (with
 * its index and reason: a value that does not fit its column, a missing NOT
 * NULL column, an unknown column, a CHECK or foreign-key failure, and with
 * onConflict `error` (the default) a key already stored — hot, cold, or
 * earlier in the call); the other rows are inserted.
 */
export async function appendToTable(
  target: AppendRowsTarget,
  table: string,
  keyColumn: string,
  rows: readonly unknown[],
  options: AppendOptions = {},
): Promise<AppendResult> {
  const { raw, coldKeys } = target;
  if (!Array.isArray(rows)) throw new ArgumentError(`append(${JSON.stringify(table)}) expects an array of rows, got ${rows === null ? 'null' : typeof rows}`);
  const onConflict = options.onConflict ?? 'error';
  if (!ON_CONFLICT.includes(onConflict)) {
    throw new ArgumentError(`append: onConflict ${JSON.stringify(onConflict)} is invalid; expected ${ON_CONFLICT.map((o) => `'${o}'`).join(' or ')}`);
  }
  if (raw.readonly) throw new ReadOnlyStoreError(`the store is open read-only: cannot append to ${table}`);
  const shape = readAppendShape(raw, table, keyColumn);
  const rejected: RejectedRow[] = [];
  const valid: ValidRow[] = [];
  for (let index = 0; index < rows.length; index++) {
    const checked = checkRowValues(rows[index], shape);
    if (checked.ok) valid.push({ index, names: checked.names, values: checked.values, key: checked.key });
    else rejected.push({ index, reason: checked.reason });
  }
  const body = (coldFound: ReadonlySet<string>): AppendResult => {
    const result: AppendResult = { inserted: 0, duplicates: 0, rejected: [...rejected] };
    for (const row of valid) {
      if (row.key !== undefined && coldFound.size > 0 && coldFound.has(coldKeyId(row.key))) {
        if (onConflict === 'ignore') result.duplicates++;
        else result.rejected.push({ index: row.index, reason: `${keyColumn} ${String(row.key)} is already stored in the cold tier (onConflict: 'error')` });
        continue;
      }
      try {
        if (insertStatement(raw, table, row.names, onConflict).run(row.values).changes === 1) result.inserted++;
        else result.duplicates++;
      } catch (error) {
        const code = String((error as { code?: unknown }).code ?? '');
        if (UNIQUE_CODES.has(code)) {
          if (onConflict === 'ignore') result.duplicates++;
          else {
            const what = row.key !== undefined ? `${keyColumn} ${String(row.key)}` : 'a unique value';
            result.rejected.push({ index: row.index, reason: `${what} is already stored, hot or earlier in this call (onConflict: 'error'; ${(error as Error).message})` });
          }
          continue;
        }
        // CHECK, foreign key, NOT NULL from a trigger...: SQLite undid this one statement; the row is refused.
        if (code.startsWith('SQLITE_CONSTRAINT')) result.rejected.push({ index: row.index, reason: (error as Error).message });
        else throw error;
      }
    }
    result.rejected.sort((a, b) => a.index - b.index);
    return result;
  };
  const keys = valid.flatMap((r) => (r.key === undefined ? [] : [r.key]));
  const job = { raw, table, keyColumn, keys, rowCount: rows.length, body };
  if (valid.length === 0) return { inserted: 0, duplicates: 0, rejected };
  return coldKeys ? insertWithColdLookup(job, coldKeys) : insertWithoutColdLookup(job, `store.hot.append(${JSON.stringify(table)}, rows)`);
}
