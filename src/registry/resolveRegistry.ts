/**
 * Binds registry entries to the real SQLite tables: columns, declared types and
 * the key are read with PRAGMA table_info, so tables created outside drizzle work.
 */
import type Database from 'better-sqlite3';
import { RegistryError } from '../errors.js';
import type { Registry, RegistryEntry } from './defineRegistry.js';

export interface ColumnInfo {
  readonly name: string;
  /** The declared type as written in CREATE TABLE (may be empty). */
  readonly declaredType: string;
  readonly notNull: boolean;
  /** 1-based position in the primary key, 0 when not part of it. */
  readonly pk: number;
}

export interface ResolvedTable extends RegistryEntry {
  readonly columns: readonly ColumnInfo[];
  /** The key column: the registry's `primaryKey` or the table's single-column primary key. */
  readonly keyColumn: string;
}

/** Reads one table's columns from SQLite; undefined when the table does not exist. */
export function readColumns(raw: Database.Database, table: string): ColumnInfo[] | undefined {
  const rows = raw.prepare(`SELECT name, type, "notnull" AS not_null, pk FROM pragma_table_info(?)`).all(table) as {
    name: string;
    type: string;
    not_null: number;
    pk: number;
  }[];
  if (rows.length === 0) return undefined;
  return rows.map((r) => ({ name: r.name, declaredType: r.type, notNull: r.not_null === 1, pk: r.pk }));
}

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/**
 * True when SQLite itself keeps `column` unique: it is the whole PRIMARY KEY,
 * or a UNIQUE index covers exactly that column (partial indexes do not count:
 * rows outside their WHERE may repeat).
 */
function keyIsUnique(raw: Database.Database, table: string, column: string, columns: readonly ColumnInfo[]): boolean {
  const pk = columns.filter((c) => c.pk > 0);
  if (pk.length === 1 && pk[0]!.name === column) return true;
  const indexes = raw.prepare(`SELECT name, "unique" AS is_unique, partial FROM pragma_index_list(?)`).all(table) as {
    name: string;
    is_unique: number;
    partial: number;
  }[];
  return indexes.some((index) => {
    if (index.is_unique !== 1 || index.partial !== 0) return false;
    const cols = raw.prepare('SELECT name FROM pragma_index_info(?)').pluck().all(index.name) as (string | null)[];
    return cols.length === 1 && cols[0] === column;
  });
}

export function resolveEntry(raw: Database.Database, entry: RegistryEntry): ResolvedTable {
  const columns = readColumns(raw, entry.table);
  if (!columns) throw new RegistryError(`registry names table ${entry.table}, which does not exist in the hot database`);
  const names = new Set(columns.map((c) => c.name));
  if (!names.has(entry.timeColumn)) {
    throw new RegistryError(
      `registry entry ${entry.table}: time column ${entry.timeColumn} does not exist (columns: ${[...names].join(', ')})`,
    );
  }
  let keyColumn: string;
  if (entry.primaryKey !== undefined) {
    if (!names.has(entry.primaryKey)) {
      throw new RegistryError(`registry entry ${entry.table}: primaryKey ${entry.primaryKey} does not exist (columns: ${[...names].join(', ')})`);
    }
    keyColumn = entry.primaryKey;
  } else {
    const pkCols = columns.filter((c) => c.pk > 0);
    if (pkCols.length === 1) keyColumn = pkCols[0]!.name;
    else if (pkCols.length > 1) {
      throw new RegistryError(
        `registry entry ${entry.table}: composite primary key (${pkCols.map((c) => c.name).join(', ')}); name one unique column as primaryKey`,
      );
    } else {
      // rowid is no key: VACUUM may renumber it, and it is not a column a reader sees.
      throw new RegistryError(`registry entry ${entry.table}: the table has no primary key; name a unique column as primaryKey`);
    }
  }
  if (!keyIsUnique(raw, entry.table, keyColumn, columns)) {
    throw new RegistryError(
      `registry entry ${entry.table}: primaryKey ${keyColumn} is not unique in SQLite (no PRIMARY KEY or UNIQUE index on exactly that column; ` +
        'partial indexes do not count), so a hot row could hide a cold row with the same key. ' +
        `Fix: CREATE UNIQUE INDEX ${quote(`${entry.table}_${keyColumn}_key`)} ON ${quote(entry.table)} (${quote(keyColumn)}), or name a unique column as primaryKey`,
    );
  }
  return Object.freeze({ ...entry, columns: Object.freeze(columns), keyColumn });
}

/** Resolves every entry; the first missing table or column throws a RegistryError naming it. */
export function resolveRegistry(raw: Database.Database, registry: Registry): readonly ResolvedTable[] {
  return Object.freeze(registry.map((e) => resolveEntry(raw, e)));
}
