/**
 * A table's hot rows, read for bridge.sql's copy into DuckDB, as DuckDB data
 * chunks rather than JS arrays: rows are turned into a chunk every
 * VECTOR_SIZE rows while SQLite iterates, so JS holds one chunk's rows at a
 * time and the copy waits in DuckDB's compact vectors (a 1M-row table as JS
 * arrays took several GB). Types are decided as decideColumnTypes decides
 * them for the whole read: an untyped column by its first non-NULL value
 * (rows wait until every untyped column has one), every value checked and
 * brought to its column's type (a MixedTypeError as before).
 */
import type Database from 'better-sqlite3';
import type { DuckDBDataChunk } from '@duckdb/node-api';
import type { ColdType } from '../cold/columnTypes.js';
import { toDataChunk, VECTOR_SIZE } from './appendRows.js';
import { decideColumnTypes } from './decideColumnTypes.js';
import type { TableShape } from './tableShape.js';

export interface HotChunks {
  readonly types: ColdType[];
  /** Emptied by appendChunks. */
  readonly chunks: DuckDBDataChunk[];
  readonly rows: number;
}

/** Runs `stmt` (the shape's columns, in order) to the end; call it inside the read snapshot. */
export function readHotChunks(stmt: Database.Statement, shape: TableShape): HotChunks {
  const undecided = new Set<number>();
  shape.columns.forEach((c, i) => {
    if (c.type === undefined) undecided.add(i);
  });
  let types: ColdType[] | undefined = undecided.size === 0 ? decideColumnTypes(shape, []) : undefined;
  const chunks: DuckDBDataChunk[] = [];
  let pending: unknown[][] = [];
  let rows = 0;
  const flush = (): void => {
    types = decideColumnTypes(shape, pending, true, types);
    for (let offset = 0; offset < pending.length; offset += VECTOR_SIZE) {
      chunks.push(toDataChunk(types, pending, offset, Math.min(VECTOR_SIZE, pending.length - offset)));
    }
    pending = [];
  };
  for (const row of stmt.raw(true).safeIntegers(true).iterate() as IterableIterator<unknown[]>) {
    pending.push(row);
    rows++;
    if (types === undefined) {
      for (const i of undecided) if (row[i] !== null && row[i] !== undefined) undecided.delete(i);
      if (undecided.size > 0) continue;
      types = decideColumnTypes(shape, pending);
    }
    if (pending.length === VECTOR_SIZE) flush();
  }
  if (types === undefined) types = decideColumnTypes(shape, pending);
  if (pending.length > 0) flush();
  return { types, chunks, rows };
}
