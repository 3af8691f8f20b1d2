import type Database from 'better-sqlite3';
import { sqlIdent } from '../cold/DuckDbEngine.js';

/** Average SQLite bytes per row (table + indexes), from dbstat; 0 when unknown. */
export function hotBytesPerRow(raw: Database.Database, table: string): number {
  try {
    const bytes = raw
      .prepare(`SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = ? OR name IN (SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = ?)`)
      .pluck()
      .get(table, table) as number;
    const rows = raw.prepare(`SELECT count(*) FROM ${sqlIdent(table)}`).pluck().get() as number;
    return rows > 0 ? bytes / rows : 0;
  } catch {
    return 0;
  }
}
