/**
 * Creates a DuckDB temp table and fills it through the appender in data
 * chunks (no SQL text per row, no sqlite_scan).
 */
import { DuckDBBlobValue, DuckDBDataChunk, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { DUCKDB_TYPES, type ColdType } from '../cold/columnTypes.js';
import { sqlIdent } from '../cold/DuckDbEngine.js';

export const VECTOR_SIZE = 2048;

function toDuckValue(v: unknown, type: ColdType): DuckDBValue {
  if (v === null || v === undefined) return null;
  if (type === 'BLOB') return v instanceof DuckDBBlobValue ? v : new DuckDBBlobValue(v as Uint8Array);
  return v as DuckDBValue;
}

export async function createTempTable(con: DuckDBConnection, table: string, columns: readonly string[], types: readonly ColdType[]): Promise<void> {
  const decl = columns.map((c, i) => `${sqlIdent(c)} ${types[i]}`).join(', ');
  await con.run(`CREATE TEMP TABLE ${sqlIdent(table)} (${decl})`);
}

/** Rows (arrays in column order, values already of the column's type) as one DuckDB data chunk (at most VECTOR_SIZE rows). */
export function toDataChunk(types: readonly ColdType[], rows: readonly (readonly unknown[])[], offset = 0, count = rows.length - offset): DuckDBDataChunk {
  const chunk = DuckDBDataChunk.create(types.map((t) => DUCKDB_TYPES[t]), count);
  for (let c = 0; c < types.length; c++) {
    const values = new Array<DuckDBValue>(count);
    const type = types[c]!;
    for (let r = 0; r < count; r++) values[r] = toDuckValue(rows[offset + r]![c], type);
    chunk.setColumnValues(c, values);
  }
  return chunk;
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
