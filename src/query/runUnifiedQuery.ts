/**
 * The DuckDB half of `bridge.query`: the planned hot rows go in through the
 * appender (`__hot`), the cold part is read from exactly the listed files with
 * the filter, order and limit pushed down (`__cold`, cached by manifest
 * version), cold rows whose key is hot are dropped (hot wins), and DuckDB
 * orders and cuts the union.
 */
import type { ColdFilesForRead } from './openColdFiles.js';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ColdType } from '../cold/columnTypes.js';
import { sqlIdent } from '../cold/DuckDbEngine.js';
import { appendRows, createTempTable } from './appendRows.js';
import { cacheKey, type ColdResultCache } from './ColdResultCache.js';
import { loadColdMarks } from './coldMarks.js';
import { coldRelation } from './coldRelation.js';
import type { QueryPlan } from './planQuery.js';
import type { Row } from './QueryOptions.js';
import { renderOrder, renderWhere } from './renderFilter.js';
import { toColdFileError } from './toColdFileError.js';
import { toDuckParams } from './toDuckParams.js';
import { arraysToObjects, readerToObjects } from './toRowObjects.js';

/** How many cold rows the union can need: all, or offset+limit plus one per row a hot key may shadow. */
export function coldFetchLimit(plan: QueryPlan): number | undefined {
  const { limit, offset } = plan.query;
  return limit === undefined ? undefined : offset + limit + plan.overlapKeys.length;
}

/** No hot row takes part: the answer is the cold files' alone. */
function coldOnly(plan: QueryPlan): boolean {
  return plan.hotRows.length === 0 && plan.overlapKeys.length === 0;
}

export function coldCacheKey(plan: QueryPlan, types: readonly ColdType[]): string {
  return cacheKey({
    v: plan.manifestVersion,
    table: plan.shape.table,
    columns: plan.shape.names.map((n, i) => `${n}:${types[i]}`),
    files: plan.coldFiles.map((f) => f.path),
    where: plan.query.conditions,
    order: plan.query.order,
    fetch: coldFetchLimit(plan) ?? null,
    // A cold-only answer is cached whole: projected, cut by offset and limit.
    final: coldOnly(plan) ? { columns: plan.query.columns, offset: plan.query.offset, limit: plan.query.limit ?? null } : null,
  });
}

/** One DuckDB statement straight over the listed files: no temp tables when hot has nothing to add. */
async function runColdOnly(con: DuckDBConnection, plan: QueryPlan, types: readonly ColdType[], coldFiles: ColdFilesForRead, cache: ColdResultCache): Promise<Row[]> {
  const { shape, query } = plan;
  const key = coldCacheKey(plan, types);
  const cached = cache.get(key);
  if (cached) return arraysToObjects(query.columns, cached);
  const where = renderWhere(query.conditions, 'duckdb');
  const params = toDuckParams(where.params, false);
  const marks = await loadColdMarks(con, '__marks', coldFiles, plan.marks, shape.keyColumn);
  const sql =
    `SELECT ${query.columns.map(sqlIdent).join(', ')} FROM ${coldRelation(coldFiles, shape.names, types, marks)} AS c` +
    `${where.sql}${renderOrder(query.order)}${query.limit === undefined ? '' : ` LIMIT ${query.limit}`}${query.offset > 0 ? ` OFFSET ${query.offset}` : ''}`;
  let rows: unknown[][];
  try {
    rows = (await con.runAndReadAll(sql, params.values, params.types)).getRowsJS();
  } catch (error) {
    throw toColdFileError(error, coldFiles);
  }
  cache.set(key, rows);
  return arraysToObjects(query.columns, rows);
}

export async function runUnifiedQuery(
  con: DuckDBConnection,
  plan: QueryPlan,
  types: readonly ColdType[],
  coldFiles: ColdFilesForRead,
  cache: ColdResultCache,
): Promise<Row[]> {
  if (coldOnly(plan)) return runColdOnly(con, plan, types, coldFiles, cache);
  const { shape, query } = plan;
  const names = shape.names;
  await createTempTable(con, '__hot', names, types);
  await appendRows(con, '__hot', types, plan.hotRows);

  const key = coldCacheKey(plan, types);
  const cached = cache.get(key);
  if (cached) {
    await createTempTable(con, '__cold', names, types);
    await appendRows(con, '__cold', types, cached);
  } else {
    const where = renderWhere(query.conditions, 'duckdb');
    const fetch = coldFetchLimit(plan);
    const params = toDuckParams(where.params, false);
    const marks = await loadColdMarks(con, '__marks', coldFiles, plan.marks, shape.keyColumn);
    const sql =
      `CREATE TEMP TABLE __cold AS SELECT * FROM ${coldRelation(coldFiles, names, types, marks)} AS c` +
      `${where.sql}${renderOrder(query.order)}${fetch === undefined ? '' : ` LIMIT ${fetch}`}`;
    try {
      await con.run(sql, params.values, params.types);
    } catch (error) {
      throw toColdFileError(error, coldFiles);
    }
    if (cache.enabled) {
      const reader = await con.runAndReadAll('SELECT * FROM __cold');
      if (cache.accepts(reader.currentRowCount)) cache.set(key, reader.getRowsJS());
    }
  }

  let shadow = '';
  if (plan.overlapKeys.length > 0) {
    await createTempTable(con, '__shadow', ['k'], [types[shape.keyIndex]!]);
    await appendRows(con, '__shadow', [types[shape.keyIndex]!], plan.overlapKeys.map((k) => [k]));
    shadow = ` WHERE ${sqlIdent(shape.keyColumn)} NOT IN (SELECT k FROM __shadow)`;
  }
  const projection = query.columns.map(sqlIdent).join(', ');
  const sql =
    `SELECT ${projection} FROM (SELECT * FROM __hot UNION ALL SELECT * FROM __cold${shadow}) AS u` +
    `${renderOrder(query.order)}${query.limit === undefined ? '' : ` LIMIT ${query.limit}`}${query.offset > 0 ? ` OFFSET ${query.offset}` : ''}`;
  return readerToObjects(await con.runAndReadAll(sql));
}
