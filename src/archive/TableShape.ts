/**
 * One table's columns, key and time positions as they are in SQLite now, and
 * whether its keys can tier at all.
 */
import type Database from 'better-sqlite3';
import { sqlIdent } from '../cold/DuckDbEngine.js';
import { ArgumentError, RegistryError } from '../errors.js';
import { readColumns, type ColumnInfo, type ResolvedTable } from '../registry/resolveRegistry.js';

/** One table's columns, key and time positions as they are in SQLite now. */
export interface TableShape {
  t: ResolvedTable;
  columns: ColumnInfo[];
  names: string[];
  keyIndex: number;
  timeIndex: number;
  selectList: string;
  key: string;
  time: string;
  from: string;
}

export function readTableShape(raw: Database.Database, t: ResolvedTable): TableShape {
  const columns = readColumns(raw, t.table);
  if (!columns) throw new ArgumentError(`table ${t.table} no longer exists in the hot database`);
  const names = columns.map((c) => c.name);
  const keyIndex = names.indexOf(t.keyColumn);
  const timeIndex = names.indexOf(t.timeColumn);
  if (keyIndex < 0 || timeIndex < 0) throw new ArgumentError(`table ${t.table} lost its key or time column`);
  return {
    t,
    columns,
    names,
    keyIndex,
    timeIndex,
    selectList: names.map(sqlIdent).join(', '),
    key: sqlIdent(t.keyColumn),
    time: sqlIdent(t.timeColumn),
    from: sqlIdent(t.table),
  };
}

/**
 * An INTEGER PRIMARY KEY without AUTOINCREMENT is a rowid: SQLite gives a new
 * row max(rowid)+1, so once the newest rows are cold (or the app deletes
 * them) it hands an archived key out again. Such a table tiers only when the
 * registry says the app assigns every key itself.
 */
export function assertKeysNotReusable(raw: Database.Database, s: TableShape): void {
  if (s.t.appAssignsKeys) return;
  const keyCol = s.columns[s.keyIndex]!;
  if (keyCol.declaredType.toUpperCase() !== 'INTEGER' || keyCol.pk !== 1 || s.columns.filter((c) => c.pk > 0).length !== 1) return;
  const ddl = (raw.prepare(`SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?`).pluck().get(s.t.table) as string | undefined) ?? '';
  if (/AUTOINCREMENT/i.test(ddl) || /WITHOUT\s+ROWID/i.test(ddl)) return;
  throw new RegistryError(
    `${s.t.table}.${s.t.keyColumn} is an INTEGER PRIMARY KEY without AUTOINCREMENT: SQLite would hand an archived ${s.t.keyColumn} ` +
      `out again to a new row, and the bridge would then show one row for two. Nothing of ${s.t.table} moves. ` +
      `If the app sets every ${s.t.keyColumn} itself, add \`appAssignsKeys: true\` to its registry entry; ` +
      `otherwise declare the key INTEGER PRIMARY KEY AUTOINCREMENT (a table rebuild)`,
  );
}
