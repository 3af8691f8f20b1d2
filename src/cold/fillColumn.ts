/**
 * Writes one column of values into a DuckDB data chunk's vector, straight
 * through the C API's bindings: BIGINT and DOUBLE as one typed array copied
 * in, VARCHAR and BLOB one assign call per value, the NULLs as one validity
 * mask. node-api's `setColumnValues` does the same work through a vector
 * wrapper that keeps an item cache and a dirty flag per value and sets each
 * validity bit with BigInt arithmetic: about twice the time (bench, 200,000 demo
 * messages in 2,048-row chunks: 1,040 ms against 515 ms), on the archive
 * worker's critical path. Those four are every cold type (columnTypes.ts).
 *
 * The bindings package is node-api's own, pinned to the same version in
 * package.json.
 */
import bindings from '@duckdb/node-bindings';
import type { DuckDBDataChunk, DuckDBType } from '@duckdb/node-api';
import { DuckDBBlobValue, DuckDBTypeId } from './duckdbApi.js';

function badValue(column: number, type: DuckDBType, row: number, value: unknown): Error {
  const shown = typeof value === 'bigint' ? `${value}n` : typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : String(value);
  return new TypeError(`column ${column} (${String(type)}), row ${row}: cannot hold ${typeof value} value ${shown}`);
}

/**
 * Column `column` of `source[0..rows)` (rows as arrays of values, e.g. better-sqlite3's raw rows) into the
 * same column of `chunk` (typed `type`), a new or reset chunk. Throws (a TypeError naming the column and
 * row) on a value its type cannot hold, a bigint outside 64 bits included.
 */
export function fillColumn(chunk: DuckDBDataChunk, column: number, type: DuckDBType, source: readonly (readonly unknown[])[], rows: number): void {
  const id = type.typeId;
  if (id !== DuckDBTypeId.BIGINT && id !== DuckDBTypeId.DOUBLE && id !== DuckDBTypeId.VARCHAR && id !== DuckDBTypeId.BLOB) {
    throw new TypeError(`column ${column}: ${String(type)} is not a cold type (BIGINT, DOUBLE, VARCHAR, BLOB)`);
  }
  const vector = bindings.data_chunk_get_vector(chunk.chunk, column);
  // One bit per row, 64-bit words as DuckDB keeps them (little-endian: two 32-bit words each).
  let mask: Uint32Array | undefined;
  const setNull = (r: number): void => {
    mask ??= new Uint32Array(Math.ceil(rows / 64) * 2).fill(0xffffffff);
    mask[r >>> 5]! &= ~(1 << (r & 31));
  };
  if (id === DuckDBTypeId.BIGINT) {
    const items = new BigInt64Array(rows);
    for (let r = 0; r < rows; r++) {
      const v = source[r]![column];
      if (v === null || v === undefined) setNull(r);
      else if (typeof v === 'bigint' && BigInt.asIntN(64, v) === v) items[r] = v;
      else throw badValue(column, type, r, v);
    }
    bindings.copy_data_to_vector(vector, 0, items.buffer, 0, items.byteLength);
  } else if (id === DuckDBTypeId.DOUBLE) {
    const items = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      const v = source[r]![column];
      if (v === null || v === undefined) setNull(r);
      else if (typeof v === 'number') items[r] = v;
      else throw badValue(column, type, r, v);
    }
    bindings.copy_data_to_vector(vector, 0, items.buffer, 0, items.byteLength);
  } else if (id === DuckDBTypeId.VARCHAR) {
    for (let r = 0; r < rows; r++) {
      const v = source[r]![column];
      if (v === null || v === undefined) setNull(r);
      else if (typeof v === 'string') bindings.vector_assign_string_element(vector, r, v);
      else throw badValue(column, type, r, v);
    }
  } else {
    for (let r = 0; r < rows; r++) {
      const v = source[r]![column];
      if (v === null || v === undefined) setNull(r);
      else if (v instanceof DuckDBBlobValue) bindings.vector_assign_string_element_len(vector, r, v.bytes);
      else if (v instanceof Uint8Array) bindings.vector_assign_string_element_len(vector, r, v);
      else throw badValue(column, type, r, v);
    }
  }
  // Without a NULL the mask is left as it is: all valid in a new chunk and in a reset one (DataChunkPool
  // resets each chunk it takes back; test/DataChunkPool.test.ts fills NULLs, then none, into one chunk).
  if (mask) {
    bindings.vector_ensure_validity_writable(vector);
    bindings.copy_data_to_vector_validity(vector, 0, mask.buffer as ArrayBuffer, 0, mask.byteLength);
  }
}
