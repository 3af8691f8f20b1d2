/**
 * The key column tierdb would use for a table, found by tierdb's own checks:
 * each candidate (the single-column PRIMARY KEY, then the columns of full
 * single-column UNIQUE indexes) goes through `resolveEntry`, and the rowid
 * rule through `assertKeysNotReusable`, so init never suggests a key the
 * store would refuse.
 */
import type Database from 'better-sqlite3';
import { assertKeysNotReusable, readTableShape } from '../archive/TableShape.js';
import { sqlIdent } from '../cold/DuckDbEngine.js';
import { defineRegistry, type Registry } from '../registry/defineRegistry.js';
import { resolveEntry, type ColumnInfo } from '../registry/resolveRegistry.js';

export interface KeyFinding {
  column: string;
  /** `primary key`, `UNIQUE constraint` or `unique index <name>`. */
  source: string;
  /**
   * The key is an INTEGER PRIMARY KEY without AUTOINCREMENT (a rowid): tierdb
   * moves the table only with `appAssignsKeys: true`, which is right only when
   * the app sets every key itself.
   */
  needsAppAssignsKeys: boolean;
  /** Rows whose key is NULL (possible outside INTEGER PRIMARY KEY): they stay hot. */
  nullKeys: number;
  /** needsAppAssignsKeys only: the keys run 1..rows with no gap, which suggests SQLite assigned them. */
  dense?: boolean;
}

export type KeyResult = { key: KeyFinding } | { problem: string };

interface KeyCandidate {
  column: string;
  source: string;
}

function keyCandidates(raw: Database.Database, table: string, columns: readonly ColumnInfo[]): KeyCandidate[] {
  const found: KeyCandidate[] = [];
  const pk = columns.filter((c) => c.pk > 0);
  if (pk.length === 1) found.push({ column: pk[0]!.name, source: 'primary key' });
  const indexes = raw.prepare(`SELECT name, "unique" AS is_unique, partial, origin FROM pragma_index_list(?) ORDER BY seq`).all(table) as {
    name: string;
    is_unique: number;
    partial: number;
    origin: string;
  }[];
  for (const index of indexes) {
    if (index.is_unique !== 1 || index.partial !== 0 || index.origin === 'pk') continue;
    const cols = raw.prepare('SELECT name FROM pragma_index_info(?)').pluck().all(index.name) as (string | null)[];
    const column = cols[0];
    if (cols.length !== 1 || typeof column !== 'string' || found.some((f) => f.column === column)) continue;
    found.push({ column, source: index.origin === 'u' ? 'UNIQUE constraint' : `unique index ${index.name}` });
  }
  // NOT NULL keys first: a NULL key keeps its row hot.
  const notNull = new Set(columns.filter((c) => c.notNull || c.pk > 0).map((c) => c.name));
  return found.sort((a, b) => Number(notNull.has(b.column)) - Number(notNull.has(a.column)));
}

/** A stand-in entry so tierdb's own checks can run on a column; the time column does not matter to them. */
function probeEntry(table: string, column: string, anyColumn: string): Registry[number] {
  return (defineRegistry([{ table, timeColumn: anyColumn, timeUnit: 'unix_s', hotDays: 0, primaryKey: column }]) as Registry)[0]!;
}

/** Finds the key column of `table`, or says why it has none tierdb can use. */
export function findKeyColumn(raw: Database.Database, table: string, columns: readonly ColumnInfo[], rows: number): KeyResult {
  const candidates = keyCandidates(raw, table, columns);
  const pk = columns.filter((c) => c.pk > 0);
  if (candidates.length === 0) {
    const why =
      pk.length > 1
        ? `composite primary key (${pk.map((c) => c.name).join(', ')}) and no single-column UNIQUE index`
        : 'no primary key and no single-column UNIQUE index (rowid is no key: VACUUM may renumber it)';
    return { problem: `${why}; add one (CREATE UNIQUE INDEX … ON ${table} (col)) and run init again` };
  }
  const problems: string[] = [];
  for (const candidate of candidates) {
    let resolved;
    try {
      resolved = resolveEntry(raw, probeEntry(table, candidate.column, columns[0]!.name));
    } catch (error) {
      problems.push(`${candidate.column}: ${(error as Error).message}`);
      continue;
    }
    let needsAppAssignsKeys = false;
    try {
      assertKeysNotReusable(raw, readTableShape(raw, resolved));
    } catch {
      needsAppAssignsKeys = true;
    }
    const key = sqlIdent(candidate.column);
    const from = sqlIdent(table);
    const nullKeys = needsAppAssignsKeys ? 0 : (raw.prepare(`SELECT count(*) FROM ${from} WHERE ${key} IS NULL`).pluck().get() as number);
    const finding: KeyFinding = { column: candidate.column, source: candidate.source, needsAppAssignsKeys, nullKeys };
    if (needsAppAssignsKeys && rows > 0) {
      const range = raw.prepare(`SELECT min(${key}) AS lo, max(${key}) AS hi FROM ${from}`).safeIntegers(true).get() as { lo: bigint; hi: bigint };
      finding.dense = range.lo === 1n && range.hi === BigInt(rows);
    }
    return { key: finding };
  }
  return { problem: problems.join('; ') };
}
