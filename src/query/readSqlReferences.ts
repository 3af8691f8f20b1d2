/**
 * What one bridge.sql statement reads, from DuckDB's own parse
 * (`json_serialize_sql`, built into DuckDB): the registered tables it uses as
 * tables (a name inside a string literal is not one), and the identifiers it
 * uses, so bridge.sql can copy only the columns the statement can see.
 *
 * Every column counts when the statement reads whole rows: `*`, `t.*`,
 * `COLUMNS(…)`, a table or alias used as a value (`to_json(m)`), a NATURAL
 * join, DESCRIBE/SUMMARIZE, a PIVOT. When DuckDB cannot serialize the statement
 * (EXPLAIN, PIVOT/UNPIVOT statements) or it calls a table function that may read
 * a table by name (`query_table('messages')`), every registered name in the
 * text counts as a table, with every column. When in doubt: all columns.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { VARCHAR } from '../cold/duckdbApi.js';
import { referencedTables } from './referencedTables.js';

export interface SqlReferences {
  /** Registered table names the statement reads, as registered. */
  readonly tables: readonly string[];
  /** Lower-cased identifiers the statement uses, or 'all' when every column counts. */
  readonly columns: ReadonlySet<string> | 'all';
  /** The statement as DuckDB parsed it (one element of `json_serialize_sql`'s `statements`), when it could. */
  readonly statement?: SqlJson;
}

/** JSON as `json_serialize_sql` returns it. */
export type SqlJson = null | boolean | number | string | SqlJson[] | { [key: string]: SqlJson };
type Json = SqlJson;

/** Table references whose columns are all named in the parse (or that have none). */
const PLAIN_TABLE_REFS = new Set(['BASE_TABLE', 'JOIN', 'SUBQUERY', 'EMPTY_FROM', 'EMPTY', 'EXPRESSION_LIST']);
/** Table functions that read no table. */
const PURE_TABLE_FUNCTIONS = new Set(['range', 'generate_series', 'unnest']);

interface Walk {
  tables: Set<string>;
  relations: Set<string>;
  identifiers: Set<string>;
  lastParts: string[];
  allColumns: boolean;
  unknown: boolean;
}

function isObject(v: Json | undefined): v is { [key: string]: Json } {
  return v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v);
}

function visit(node: Json, w: Walk): void {
  if (typeof node === 'string') {
    w.identifiers.add(node.toLowerCase());
    return;
  }
  if (Array.isArray(node)) {
    for (const item of node) visit(item, w);
    return;
  }
  if (!isObject(node)) return;
  const type = typeof node.type === 'string' ? node.type : undefined;
  if (node.class === 'STAR') w.allColumns = true;
  if (node.class === 'COLUMN_REF' && Array.isArray(node.column_names)) {
    const last = node.column_names[node.column_names.length - 1];
    if (typeof last === 'string') w.lastParts.push(last.toLowerCase());
  }
  // Table references carry a query_location and no expression class.
  if (type !== undefined && !('class' in node) && 'query_location' in node) {
    if (typeof node.alias === 'string' && node.alias !== '') w.relations.add(node.alias.toLowerCase());
    if (type === 'BASE_TABLE' && typeof node.table_name === 'string') {
      w.tables.add(node.table_name.toLowerCase());
      w.relations.add(node.table_name.toLowerCase());
    } else if (type === 'SHOW_REF' || type === 'PIVOT') w.allColumns = true;
    else if (type === 'TABLE_FUNCTION') {
      const fn = isObject(node.function) ? node.function.function_name : undefined;
      if (typeof fn !== 'string' || !PURE_TABLE_FUNCTIONS.has(fn.toLowerCase())) w.unknown = true;
    } else if (!PLAIN_TABLE_REFS.has(type)) w.unknown = true;
    if (type === 'JOIN' && node.ref_type === 'NATURAL') w.allColumns = true;
  }
  if (isObject(node.cte_map) && Array.isArray(node.cte_map.map)) {
    for (const entry of node.cte_map.map) if (isObject(entry) && typeof entry.key === 'string') w.relations.add(entry.key.toLowerCase());
  }
  for (const value of Object.values(node)) visit(value, w);
}

export async function readSqlReferences(con: DuckDBConnection, sql: string, registered: readonly string[]): Promise<SqlReferences> {
  const fallback: SqlReferences = { tables: referencedTables(sql, registered), columns: 'all' };
  let parsed: Json;
  try {
    const reader = await con.runAndReadAll('SELECT json_serialize_sql(?::VARCHAR) AS j', [sql], [VARCHAR]);
    parsed = JSON.parse(String(reader.getRowsJS()[0]![0])) as Json;
  } catch {
    return fallback;
  }
  if (!isObject(parsed) || parsed.error !== false || !Array.isArray(parsed.statements) || parsed.statements.length !== 1) return fallback;
  const w: Walk = { tables: new Set(), relations: new Set(), identifiers: new Set(), lastParts: [], allColumns: false, unknown: false };
  visit(parsed.statements, w);
  if (w.unknown) return fallback;
  for (const name of registered) w.relations.add(name.toLowerCase());
  // A table or alias used as a value is the whole row (`SELECT m`, `to_json(m)`).
  if (w.lastParts.some((name) => w.relations.has(name))) w.allColumns = true;
  return {
    tables: registered.filter((name) => w.tables.has(name.toLowerCase())),
    columns: w.allColumns ? 'all' : w.identifiers,
    statement: parsed.statements[0],
  };
}
