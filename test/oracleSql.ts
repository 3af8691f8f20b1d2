/**
 * The oracle's side of the randomized tests: a bridge where-filter as SQLite
 * SQL over the never-archived copy, with the same meaning (SQLite's LIKE is
 * the bridge's LIKE; `in: []` matches nothing).
 */
import type Database from 'better-sqlite3';
import type { QueryOptions, Row, WhereOperators } from '../src/query/QueryOptions.js';

export function oracleWhere(where: Record<string, unknown> | undefined): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  for (const [col, spec] of Object.entries(where ?? {})) {
    for (const [op, v] of Object.entries(spec as WhereOperators)) {
      if (op === 'isNull') parts.push(`"${col}" IS ${v ? '' : 'NOT '}NULL`);
      else if (op === 'in') {
        const list = v as unknown[];
        parts.push(list.length === 0 ? '0' : `"${col}" IN (${list.map(() => '?').join(', ')})`);
        params.push(...list);
      } else {
        parts.push(`"${col}" ${{ eq: '=', ne: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=', like: 'LIKE' }[op]} ?`);
        params.push(v);
      }
    }
  }
  return { sql: parts.length ? ` WHERE ${parts.join(' AND ')}` : '', params };
}

/** A seeded generator in [0, 1): the same rounds on every run. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** The rows `bridge.query(table, q)` must return, from the oracle. */
export function oracleQuery(db: Database.Database, table: string, key: string, q: QueryOptions): Row[] {
  const where = oracleWhere(q.where as Record<string, unknown> | undefined);
  const params = [...where.params];
  const order = ((q.orderBy ?? []) as Record<string, string>[]).flatMap((o) => Object.entries(o));
  if (!order.some(([c]) => c === key)) order.push([key, 'asc']);
  let sql = `SELECT ${q.columns ? q.columns.map((c) => `"${c}"`).join(', ') : '*'} FROM ${table}${where.sql}`;
  sql += ` ORDER BY ${order.map(([c, d]) => `"${c}" ${d}`).join(', ')}`;
  if (q.limit !== undefined || q.offset !== undefined) {
    sql += ' LIMIT ? OFFSET ?';
    params.push(q.limit ?? -1, q.offset ?? 0);
  }
  return db.prepare(sql).safeIntegers(true).all(...params) as Row[];
}
