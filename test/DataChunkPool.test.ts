/**
 * The archiver reuses its DuckDB data chunks (src/cold/DataChunkPool.ts): a
 * chunk that held values, NULLs and more rows goes back into the pool and is
 * filled again for the next chunk. Nothing of its earlier use may reach the
 * next: no stale value where a NULL is now, no stale NULL where a value is,
 * no row past the new row count. Real DuckDB: each filled chunk goes through
 * an appender into a table and is read back.
 */
import { DuckDBBlobValue, DuckDBInstance, BIGINT, BLOB, DOUBLE, VARCHAR, type DuckDBValue } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { DataChunkPool } from '../src/cold/DataChunkPool.js';
import { filledDataChunk } from '../src/cold/ParquetChunkWriter.js';

type Pattern = (i: number) => DuckDBValue[];

/** Each use differs from the one before it: all NULL, all set, mixed, long strings, fewer rows. */
const bytes = (i: number): DuckDBBlobValue => new DuckDBBlobValue(Uint8Array.from([i & 255, 0, (i >> 8) & 255]));
const USES: [rows: number, pattern: Pattern][] = [
  [2048, () => [null, null, null, null]],
  [2048, (i) => [`s${i}`, BigInt(i), i + 0.5, bytes(i)]],
  [7, (i) => [`short ${i}`, BigInt(-i), -i, bytes(-i)]],
  [1500, (i) => (i % 3 === 0 ? [null, BigInt(i), null, bytes(i)] : [`x${i}`, null, i * 2, null])],
  [2048, (i) => [`a longer string, number ${i}, past the inline length `.repeat(2), 2n ** 62n + BigInt(i), i / 7, bytes(i * 7)]],
  [3, () => [null, null, null, null]],
  [2048, (i) => (i % 2 === 0 ? [`even ${i}`, null, i, null] : [null, BigInt(i), null, bytes(i)])],
];
/** Values as compared: a BLOB by its bytes. */
const comparable = (v: unknown): unknown => (v instanceof DuckDBBlobValue ? Buffer.from(v.bytes).toString('hex') : v);

describe('DataChunkPool', () => {
  it('a reused data chunk carries nothing of its earlier uses: values, NULLs and row counts are the new ones', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const con = await instance.connect();
    try {
      await con.run('CREATE TABLE t (a VARCHAR, b BIGINT, c DOUBLE, d BLOB)');
      const types = [VARCHAR, BIGINT, DOUBLE, BLOB];
      const pool = new DataChunkPool();
      const seen = new Set<unknown>();
      const expected: unknown[][] = [];
      for (let round = 0; round < 2; round++) {
        for (const [rows, pattern] of USES) {
          const values = Array.from({ length: rows }, (_, i) => pattern(i));
          const chunk = filledDataChunk(types, values, rows, pool);
          seen.add(chunk);
          const appender = await con.createAppender('t');
          appender.appendDataChunk(chunk);
          appender.flushSync();
          appender.closeSync();
          pool.release(chunk);
          for (const v of values) expected.push(v);
        }
      }
      // One chunk served every use (each was released before the next was taken).
      expect(seen.size).toBe(1);
      const got = (await con.runAndReadAll('SELECT a, b, c, d FROM t ORDER BY rowid')).getRows();
      expect(got.length).toBe(expected.length);
      const differing = got.findIndex((row, i) => row.some((v, c) => comparable(v) !== comparable(expected[i]![c])));
      expect(differing === -1 ? undefined : { row: differing, got: got[differing], expected: expected[differing] }).toBeUndefined();
    } finally {
      con.closeSync();
      instance.closeSync();
    }
  });
});
