/**
 * Creates a DuckDB temp table and fills it through the appender in data
 * chunks (no SQL text per row, no sqlite_scan).
 */
import type { DuckDBConnection, DuckDBDataChunk } from '@duckdb/node-api';
import { DUCKDB_TYPES, type ColdType } from '../cold/columnTypes.js';
import { sqlIdent } from '../cold/DuckDbEngine.js';
import { filledDataChunk, VECTOR_SIZE } from '../cold/ParquetChunkWriter.js';

export { VECTOR_SIZE };

export async function createTempTable(con: DuckDBConnection, table: string, columns: readonly string[], types: readonly ColdType[]): Promise<void> {
  const decl = columns.map((c, i) => `${sqlIdent(c)} ${types[i]}`).join(', ');
  await con.run(`CREATE TEMP TABLE ${sqlIdent(table)} (${decl})`);
}

/** Rows (arrays in column order, values already of the column's type) as one DuckDB data chunk (at most VECTOR_SIZE rows). */
export function toDataChunk(types: readonly ColdType[], rows: readonly (readonly unknown[])[], offset = 0, count = rows.length - offset): DuckDBDataChunk {
  const source = offset === 0 && count === rows.length ? rows : rows.slice(offset, offset + count);
  return filledDataChunk(types.map((t) => DUCKDB_TYPES[t]), source, count);
}

/** Appends data chunks to an existing table; the array is emptied as they go in (their memory can go). */
export async function appendChunks(con: DuckDBConnection, table: string, chunks: DuckDBDataChunk[]): Promise<void> {
  if (chunks.length === 0) return;
  const appender = await con.createAppender(table);
  try {
    for (let chunk = chunks.shift(); chunk; chunk = chunks.shift()) appender.appendDataChunk(chunk);
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

/** Appends rows (arrays in column order, values already of the column's type) to an existing table. */
export async function appendRows(con: DuckDBConnection, table: string, types: readonly ColdType[], rows: readonly (readonly unknown[])[]): Promise<void> {
  if (rows.length === 0) return;
  const appender = await con.createAppender(table);
  try {
    for (let offset = 0; offset < rows.length; offset += VECTOR_SIZE) {
      appender.appendDataChunk(toDataChunk(types, rows, offset, Math.min(VECTOR_SIZE, rows.length - offset)));
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}
