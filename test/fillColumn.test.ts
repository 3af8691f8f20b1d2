/**
 * fillColumn writes values straight into DuckDB vectors: a value its column's type
 * cannot hold must be refused, never wrapped or reinterpreted (a BigInt64Array would
 * silently keep only the low 64 bits of a larger bigint).
 */
import { BIGINT, BLOB, DOUBLE, DuckDBDataChunk, DuckDBInstance, VARCHAR } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { fillColumn } from '../src/cold/fillColumn.js';

/** Rows holding `values` in column `c` (fillColumn reads one column of row arrays). */
const at = (c: number, values: unknown[]): unknown[][] => values.map((v) => Object.assign(new Array<unknown>(c + 1).fill(null), { [c]: v }));

describe('fillColumn', () => {
  it('refuses a value the type cannot hold, naming column and row; writes the others exactly', async () => {
    const chunk = DuckDBDataChunk.create([BIGINT, DOUBLE, VARCHAR, BLOB], 3);
    expect(() => fillColumn(chunk, 0, BIGINT, at(0, [1n, 2n ** 63n, 3n]), 3)).toThrow(/column 0 \(BIGINT\), row 1: cannot hold bigint value 9223372036854775808n/);
    expect(() => fillColumn(chunk, 0, BIGINT, at(0, [1n, 2, 3n]), 3)).toThrow(/column 0 \(BIGINT\), row 1: cannot hold number/);
    expect(() => fillColumn(chunk, 1, DOUBLE, at(1, [0.5, null, 7n]), 3)).toThrow(/column 1 \(DOUBLE\), row 2: cannot hold bigint/);
    expect(() => fillColumn(chunk, 2, VARCHAR, at(2, ['a', 5, null]), 3)).toThrow(/column 2 \(VARCHAR\), row 1: cannot hold number/);
    expect(() => fillColumn(chunk, 3, BLOB, at(3, ['text']), 1)).toThrow(/column 3 \(BLOB\), row 0: cannot hold string/);

    fillColumn(chunk, 0, BIGINT, at(0, [-(2n ** 63n), null, 2n ** 63n - 1n]), 3);
    fillColumn(chunk, 1, DOUBLE, at(1, [0.1, Number.MAX_VALUE, null]), 3);
    fillColumn(chunk, 2, VARCHAR, at(2, [null, '', 'ünïcödé, longer than twelve bytes']), 3);
    fillColumn(chunk, 3, BLOB, at(3, [Uint8Array.from([0, 255]), null, new Uint8Array(0)]), 3);
    chunk.rowCount = 3;
    const instance = await DuckDBInstance.create(':memory:');
    const con = await instance.connect();
    try {
      await con.run('CREATE TABLE t (a BIGINT, b DOUBLE, c VARCHAR, d BLOB)');
      const appender = await con.createAppender('t');
      appender.appendDataChunk(chunk);
      appender.flushSync();
      appender.closeSync();
      const rows = (await con.runAndReadAll('SELECT a, b, c, hex(d) FROM t ORDER BY rowid')).getRowsJS();
      expect(rows).toEqual([
        [-(2n ** 63n), 0.1, null, '00FF'],
        [null, Number.MAX_VALUE, '', null],
        [2n ** 63n - 1n, null, 'ünïcödé, longer than twelve bytes', ''],
      ]);
    } finally {
      con.closeSync();
      instance.closeSync();
    }
  });
});
