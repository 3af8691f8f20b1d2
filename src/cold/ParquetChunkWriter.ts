/**
 * Writes one chunk of SQLite rows to a zstd Parquet file through DuckDB (data
 * chunks into a scratch table, then COPY), and reads a file back to verify it.
 */
import type { DuckDBConnection, DuckDBType } from '@duckdb/node-api';
import { DuckDBBlobValue, DuckDBDataChunk } from './duckdbApi.js';
import { createHash } from 'node:crypto';
import { ColdFileError } from '../errors.js';
import { DUCKDB_TYPES, type ColdType } from './columnTypes.js';
import { fillColumn } from './fillColumn.js';
import type { DataChunkPool } from './DataChunkPool.js';
import { duckdbVersion, fingerprintSql, fingerprintText, footerFingerprint, ROW_FINGERPRINT_KEY } from './rowFingerprint.js';
import { sqlIdent, sqlString, type DuckDbEngine, readColdParquet } from './DuckDbEngine.js';

/** Rows per DuckDB data chunk (DuckDB's STANDARD_VECTOR_SIZE). */
export const VECTOR_SIZE = 2048;
const DEFAULT_SCRATCH = '_tierdb_chunk';

export interface ChunkToWrite {
  columns: readonly string[];
  types: readonly ColdType[];
  /**
   * The rows, as DuckDB data chunks typed `types` (`toDataChunks`). Handed over: each is taken out of
   * the array as it is appended and released to `pool` (reset, kept for reuse; reset only without a pool).
   */
  dataChunks: DuckDBDataChunk[];
  pool?: DataChunkPool | undefined;
  zstdLevel: number;
  /** Key/value footer metadata (table, partition, rows, key range, schema...). */
  metadata: Record<string, string>;
  /** `{col: id, …}`: Parquet field ids (the table's Iceberg field ids, see parquetFieldIds); none when absent. */
  fieldIds?: string | undefined;
  /** Write on this connection of the engine's instance, with its own scratch table (default: the engine's own, `_tierdb_chunk`). */
  lane?: { connection: DuckDBConnection; scratch: string } | undefined;
}

/** Order-sensitive checksum over the key column, as text. */
export function keyChecksum(keys: Iterable<unknown>): string {
  const hash = createHash('sha256');
  // The same bytes as one update per key, handed over 4,096 keys at a time (about twice as fast).
  let batch: string[] = [];
  for (const k of keys) {
    batch.push(`${String(k)}\n`);
    if (batch.length === 4096) {
      hash.update(batch.join(''));
      batch = [];
    }
  }
  if (batch.length > 0) hash.update(batch.join(''));
  return hash.digest('hex');
}

/**
 * A data chunk of `rows` rows typed `types` (from `pool` when given), holding `source[0..rows)` (rows as
 * arrays of values; BLOBs as bytes or DuckDBBlobValue), written straight into its vectors (fillColumn).
 * Throws fillColumn's TypeError on a value a column's type cannot hold (the chunk goes back to `pool`).
 * Setting its row count again at the end drops any vector wrapper node-api made for it (a wrapper's
 * item cache would keep a chunk's worth of JS strings alive until it is appended).
 */
export function filledDataChunk(types: readonly DuckDBType[], source: readonly (readonly unknown[])[], rows: number, pool?: DataChunkPool): DuckDBDataChunk {
  const chunk = pool ? pool.acquire(types, rows) : DuckDBDataChunk.create(types, rows);
  try {
    for (let c = 0; c < types.length; c++) fillColumn(chunk, c, types[c]!, source, rows);
  } catch (error) {
    if (pool) pool.release(chunk);
    throw error;
  }
  chunk.rowCount = rows;
  return chunk;
}

/** Rows as better-sqlite3 returns them, as data chunks of `VECTOR_SIZE` rows typed `types` (the archiver stages its own: stageChunk). */
export function toDataChunks(types: readonly ColdType[], rows: readonly unknown[][]): DuckDBDataChunk[] {
  const duckTypes = types.map((t) => DUCKDB_TYPES[t]);
  const out: DuckDBDataChunk[] = [];
  for (let offset = 0; offset < rows.length; offset += VECTOR_SIZE) {
    const count = Math.min(VECTOR_SIZE, rows.length - offset);
    out.push(filledDataChunk(duckTypes, rows.slice(offset, offset + count), count));
  }
  return out;
}

/** The rows into a scratch table (appended data chunk by data chunk), their fingerprint, then the COPY (compression, on DuckDB's threads). */
export async function writeParquetChunk(engine: DuckDbEngine, file: string, chunk: ChunkToWrite): Promise<void> {
  const con = chunk.lane?.connection ?? engine.connection;
  const SCRATCH = chunk.lane?.scratch ?? DEFAULT_SCRATCH;
  const cols = chunk.columns.map((c, i) => `${sqlIdent(c)} ${chunk.types[i]}`).join(', ');
  await con.run(`CREATE OR REPLACE TABLE ${SCRATCH} (${cols})`);
  let dropped = false;
  try {
    const appender = await con.createAppender(SCRATCH);
    try {
      // The appender copies each: its vectors' strings are let go now, not when V8 collects the wrapper.
      for (let dataChunk = chunk.dataChunks.shift(); dataChunk; dataChunk = chunk.dataChunks.shift()) {
        appender.appendDataChunk(dataChunk);
        if (chunk.pool) chunk.pool.release(dataChunk);
        else dataChunk.reset();
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
    // The rows' fingerprint goes in the footer: a later rewrite of the file adds it instead of decoding every value again.
    const [fp] = (await con.runAndReadAll(fingerprintSql(chunk.columns, SCRATCH))).getRowsJS();
    const metadata = { ...chunk.metadata, [ROW_FINGERPRINT_KEY]: footerFingerprint(await duckdbVersion(con), fingerprintText(fp![0], fp![1])) };
    const kv = Object.entries(metadata)
      .map(([k, v]) => `${sqlIdent(k)}: ${sqlString(v)}`)
      .join(', ');
    // The scratch table goes in the COPY's own round trip (one fewer per file); a failed COPY
    // stops there, and the finally drops it.
    const copy = con.run(
      `COPY ${SCRATCH} TO ${sqlString(file)} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL ${chunk.zstdLevel}, ROW_GROUP_SIZE 122880${kv === '' ? '' : `, KV_METADATA {${kv}}`}${chunk.fieldIds ? `, FIELD_IDS ${chunk.fieldIds}` : ''}); DROP TABLE ${SCRATCH}`,
    );
    await copy;
    dropped = true;
  } finally {
    if (!dropped) await con.run(`DROP TABLE IF EXISTS ${SCRATCH}`);
  }
}

/** Reads a file's row count and key checksum back; throws ColdFileError naming the file when unreadable. */
export async function readBackKeys(engine: DuckDbEngine, file: string, keyColumn: string): Promise<{ rows: number; checksum: string }> {
  return readBackKeysOn(engine.connection, file, keyColumn);
}

/** readBackKeys on a given connection (a side one of the engine's instance, beside the next chunk's COPY). */
export async function readBackKeysOn(con: DuckDBConnection, file: string, keyColumn: string): Promise<{ rows: number; checksum: string }> {
  try {
    const reader = await con.runAndReadAll(`SELECT ${sqlIdent(keyColumn)} FROM ${readColdParquet(file)}`);
    const keys = reader.getColumns()[0] ?? [];
    return { rows: keys.length, checksum: keyChecksum(keys) };
  } catch (cause) {
    throw new ColdFileError(file, `cannot read cold file ${file}: ${(cause as Error).message}`, { cause });
  }
}

/** Reads a file's footer key/value metadata. */
export async function readFooterMetadata(engine: DuckDbEngine, file: string): Promise<Record<string, string>> {
  try {
    const reader = await engine.connection.runAndReadAll(
      `SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata(${sqlString(file)})`,
    );
    return Object.fromEntries(reader.getRows().map(([k, v]) => [String(k), String(v)]));
  } catch (cause) {
    throw new ColdFileError(file, `cannot read the footer of cold file ${file}: ${(cause as Error).message}`, { cause });
  }
}

/**
 * Reads every row of a cold file as better-sqlite3 would return it
 * (bigint, number, string, Buffer, null), in file order.
 */
export async function readParquetRows(engine: DuckDbEngine, file: string, columns: readonly string[]): Promise<unknown[][]> {
  return readParquetRowsOn(engine.connection, file, columns);
}

/** readParquetRows on a given connection (a second one of the engine's instance, beside a COPY under way). */
export async function readParquetRowsOn(con: DuckDBConnection, file: string, columns: readonly string[]): Promise<unknown[][]> {
  try {
    const reader = await con.runAndReadAll(
      `SELECT ${columns.map(sqlIdent).join(', ')} FROM ${readColdParquet(file)}`,
    );
    return reader.getRows().map((row) => row.map((v) => (v instanceof DuckDBBlobValue ? Buffer.from(v.bytes) : v)));
  } catch (cause) {
    throw new ColdFileError(file, `cannot read cold file ${file}: ${(cause as Error).message}`, { cause });
  }
}
