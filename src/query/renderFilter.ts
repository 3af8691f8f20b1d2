/**
 * Renders normalized conditions and sort keys as SQL for SQLite (hot) or
 * DuckDB (cold), with `?` placeholders: values are always bound, never spliced.
 * Both dialects give the same answer: `like` is SQLite's, case-insensitive for
 * ASCII letters only, so DuckDB folds A–Z alone before a case-sensitive LIKE
 * (its ILIKE would fold all of Unicode); NULLs sort first ascending and last
 * descending, as in SQLite. Conditions on an `iso` time column compare
 * instants (see isoInstantMs). A long `in` list reaches SQLite as one parameter
 * (see sqliteInList).
 */
import { sqlIdent } from '../cold/DuckDbEngine.js';
import { isoInstantMs, isoInstantSql, isoTextWindow } from './isoInstantMs.js';
import type { Condition, SortKey } from './normalizeQuery.js';
import { InList, INLINE_IN_LIMIT } from './sqliteInList.js';

export type Dialect = 'sqlite' | 'duckdb';

const COMPARISON: Record<string, string> = { eq: '=', ne: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' };

const asciiLower = (sql: string) => `translate(CAST(${sql} AS VARCHAR), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')`;

export function renderWhere(conditions: readonly Condition[], dialect: Dialect): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  for (const c of conditions) {
    const col = sqlIdent(c.column);
    if (c.instant) {
      renderInstant(c, col, dialect, parts, params);
      continue;
    }
    switch (c.op) {
      case 'isNull':
        parts.push(`${col} IS NULL`);
        break;
      case 'notNull':
        parts.push(`${col} IS NOT NULL`);
        break;
      case 'in':
        if (c.values.length === 0) parts.push('1 = 0');
        else if (dialect === 'sqlite' && c.values.length > INLINE_IN_LIMIT) {
          parts.push(`${col} IN (SELECT value FROM tierdb_in(?))`);
          params.push(new InList(c.values));
        } else {
          parts.push(`${col} IN (${c.values.map(() => '?').join(', ')})`);
          params.push(...c.values);
        }
        break;
      case 'like':
        parts.push(dialect === 'sqlite' ? `${col} LIKE ?` : `${asciiLower(col)} LIKE ${asciiLower('?')}`);
        params.push(c.values[0]);
        break;
      default:
        parts.push(`${col} ${COMPARISON[c.op]} ?`);
        params.push(c.values[0]);
    }
  }
  return { sql: parts.length === 0 ? '' : ` WHERE ${parts.join(' AND ')}`, params };
}

/** A condition on an `iso` time column, as instants (see isoInstantMs). */
function renderInstant(c: Condition, col: string, dialect: Dialect, parts: string[], params: unknown[]): void {
  const ms = c.values.map((v) => isoInstantMs(v)!);
  if (c.op === 'in' && ms.length === 0) {
    parts.push('1 = 0');
    return;
  }
  const instant = isoInstantSql(col, dialect);
  if (c.op === 'ne') {
    parts.push(`${col} IS NOT NULL AND ${instant} ${dialect === 'sqlite' ? 'IS NOT' : 'IS DISTINCT FROM'} ?`);
    params.push(BigInt(ms[0]!));
    return;
  }
  const lower = c.op === 'eq' || c.op === 'in' || c.op === 'gt' || c.op === 'gte';
  const upper = c.op === 'eq' || c.op === 'in' || c.op === 'lt' || c.op === 'lte';
  const window = isoTextWindow(lower ? Math.min(...ms) : undefined, upper ? Math.max(...ms) : undefined);
  if (window.lo !== undefined) {
    parts.push(`${col} >= ?`);
    params.push(window.lo);
  }
  if (window.hi !== undefined) {
    parts.push(`${col} < ?`);
    params.push(window.hi);
  }
  if (c.op === 'in' && dialect === 'sqlite' && ms.length > INLINE_IN_LIMIT) {
    parts.push(`${instant} IN (SELECT value FROM tierdb_in(?))`);
    params.push(new InList(ms.map((v) => BigInt(v))));
  } else if (c.op === 'in') {
    parts.push(`${instant} IN (${ms.map(() => '?').join(', ')})`);
    params.push(...ms.map((v) => BigInt(v)));
  } else {
    parts.push(`${instant} ${COMPARISON[c.op]} ?`);
    params.push(BigInt(ms[0]!));
  }
}

export function renderOrder(order: readonly SortKey[]): string {
  if (order.length === 0) return '';
  return ` ORDER BY ${order.map((k) => `${sqlIdent(k.column)} ${k.desc ? 'DESC NULLS LAST' : 'ASC NULLS FIRST'}`).join(', ')}`;
}
