/**
 * The DuckDB half of `bridge.stream`: the same union as runUnifiedQuery (hot
 * rows through the appender, exactly the listed cold files with the filter
 * pushed down, hot keys shadowing cold rows, DuckDB ordering and cutting the
 * union), but as one statement whose result DuckDB streams chunk by chunk
 * (`connection.stream`), so the cold part is never held in JS memory. DuckDB
 * bounds its own memory (DUCKDB_MEMORY_LIMIT) and spills a large sort to disk.
 * The cold result cache is neither read nor filled.
 */
import type { ColdFilesForRead } from './openColdFiles.js';
import type { DuckDBConnection } from '@duckdb/node-api';
import { JSDuckDBValueConverter } from '../cold/duckdbApi.js';
import type { ColdType } from '../cold/columnTypes.js';
import { sqlIdent } from '../cold/DuckDbEngine.js';
import { ArgumentError } from '../errors.js';
import { appendRows, createTempTable } from './appendRows.js';
import { loadColdMarks } from './coldMarks.js';
import { coldRelation } from './coldRelation.js';
import type { QueryPlan } from './planQuery.js';
import type { Row } from './QueryOptions.js';
import { renderOrder, renderWhere } from './renderFilter.js';
import { coldFetchLimit } from './runUnifiedQuery.js';
import { toColdFileError } from './toColdFileError.js';
import { toDuckParams } from './toDuckParams.js';
import { arraysToObjects } from './toRowObjects.js';

export interface StreamOptions {
  /**
   * Rows read and turned into objects at a time (default 2048, one DuckDB
   * vector); the stream holds at most about batchSize + 2048 result rows in JS memory.
   */
  batchSize?: number;
  /**
   * When given, the stream first counts the rows it will yield (one extra
   * pass, under the same snapshot) and passes the count here before the first
   * row, e.g. for a progress bar.
   */
  onTotal?: (rows: number) => void;
}

export const DEFAULT_STREAM_BATCH = 2048;

export function streamBatchSize(options: StreamOptions): number {
  const n = options.batchSize ?? DEFAULT_STREAM_BATCH;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
    throw new ArgumentError(`stream batchSize must be a whole number >= 1; got ${String(options.batchSize)}`);
  }
  return n;
}

/** The union of the plan's hot rows and cold files, in the query's order, as batches of row objects. */
export async function* streamUnifiedQuery(
  con: DuckDBConnection,
  plan: QueryPlan,
  types: readonly ColdType[],
  coldFiles: ColdFilesForRead,
  options: StreamOptions,
): AsyncGenerator<Row[], void, undefined> {
  const batchSize = streamBatchSize(options);
  const { shape, query } = plan;
  const names = shape.names;
  await createTempTable(con, '__hot', names, types);
  await appendRows(con, '__hot', types, plan.hotRows);
  // DuckDB holds them now; the plan's copy is not needed for the rest of the stream.
  plan.hotRows.length = 0;

  let shadow = '';
  if (plan.overlapKeys.length > 0) {
    const keyType = types[shape.keyIndex]!;
    await createTempTable(con, '__shadow', ['k'], [keyType]);
    await appendRows(con, '__shadow', [keyType], plan.overlapKeys.map((k) => [k]));
    shadow = ` WHERE ${sqlIdent(shape.keyColumn)} NOT IN (SELECT k FROM __shadow)`;
  }
  const where = renderWhere(query.conditions, 'duckdb');
  const fetch = coldFetchLimit(plan);
  const marks = await loadColdMarks(con, '__marks', coldFiles, plan.marks, shape.keyColumn);
  const cold =
    `SELECT * FROM ${coldRelation(coldFiles, names, types, marks)} AS c${where.sql}` +
    (fetch === undefined ? '' : `${renderOrder(query.order)} LIMIT ${fetch}`);
  const sql =
    `SELECT ${query.columns.map(sqlIdent).join(', ')} FROM (SELECT * FROM __hot UNION ALL SELECT * FROM (${cold}) AS cc${shadow}) AS u` +
    `${renderOrder(query.order)}${query.limit === undefined ? '' : ` LIMIT ${query.limit}`}${query.offset > 0 ? ` OFFSET ${query.offset}` : ''}`;
  const params = toDuckParams(where.params, false);

  try {
    if (options.onTotal) {
      const counted = await con.runAndReadAll(`SELECT count(*) AS n FROM (${sql}) AS counted`, params.values, params.types);
      options.onTotal(Number(counted.getRowsJS()[0]![0]));
    }
    const result = await con.stream(sql, params.values, params.types);
    const columns = result.deduplicatedColumnNames();
    let pending: unknown[][] = [];
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      for (const row of chunk.convertRows(JSDuckDBValueConverter)) pending.push(row);
      let start = 0;
      while (pending.length - start >= batchSize) {
        yield arraysToObjects(columns, pending.slice(start, start + batchSize));
        start += batchSize;
      }
      pending = pending.slice(start);
    }
    if (pending.length > 0) yield arraysToObjects(columns, pending);
  } catch (error) {
    throw toColdFileError(error, coldFiles);
  }
}
