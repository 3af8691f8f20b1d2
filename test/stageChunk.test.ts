/**
 * The archiver stages each chunk into DuckDB data chunks of 2,048 rows as it
 * reads them (src/archive/stageChunk.ts), so a column's type and a value of the
 * wrong storage class are found a sub-batch at a time. These tests put the
 * decisive values past the first sub-batch: an untyped column NULL for 3,000
 * rows and then 64-bit integers, a NUMERIC one NULL and then REAL; and columns with values of the wrong class in the third sub-batch. Real SQLite, Parquet and DuckDB.
 */
import { describe, expect, it } from 'vitest';
import { defineRegistry } from '../src/registry/defineRegistry.js';
import { openTierStore } from '../src/store/openTierStore.js';
import { listFiles } from '../src/manifest/manifestFiles.js';
import { NOW_MS } from './archiveFixtures.js';
import { tempDir, testConfig } from './helpers.js';

const DAY_S = 86_400;
const NOW_S = Math.floor(NOW_MS / 1000);
const ROWS = 5000;
const BIG = 2n ** 62n;

async function storeWith(dir: string, fill: (insert: (id: number, ts: number, a: unknown, b: unknown) => void) => void) {
  const config = testConfig(dir, { ARCHIVE_BATCH_SIZE: '20000', LOG_LEVEL: 'silent' });
  const setup = await openTierStore({ config, registry: [], migrations: false });
  setup.hot.raw.exec('CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL, a, b NUMERIC, label TEXT); CREATE INDEX t_ts ON t (ts)');
  const ins = setup.hot.raw.prepare('INSERT INTO t (id, ts, a, b, label) VALUES (?, ?, ?, ?, ?)');
  setup.hot.raw.transaction(() => fill((id, ts, a, b) => ins.run(id, ts, a, b, `row ${id}`)))();
  await setup.close();
  const registry = defineRegistry([{ table: 't', timeColumn: 'ts', timeUnit: 'unix_s', hotDays: 7 }]);
  return openTierStore({ config, registry, migrations: false });
}

/** Day 30 before now: one partition, rows in id order by time. */
const DAY = NOW_S - 30 * DAY_S;

describe('stageChunk: types decided and mismatches found past the first 2,048 rows', () => {
  it('an untyped column NULL for 3,000 rows and then 64-bit integers, a NUMERIC one NULL and then REAL: one file, BIGINT and DOUBLE, every value exact', async () => {
    const dir = tempDir();
    const store = await storeWith(dir, (insert) => {
      for (let i = 1; i <= ROWS; i++) insert(i, DAY + i, i > 3000 ? BIG + BigInt(i) : null, i > 2500 ? i + 0.5 : null);
    });
    try {
      const report = await store.archiver.run({ now: NOW_MS });
      const t = report.tables[0]!;
      expect(t.refused).toEqual([]);
      expect(t.rowsMoved).toBe(ROWS);
      const files = listFiles(store.hot.raw, 't', ['live']);
      expect(files).toHaveLength(1);
      expect(JSON.parse(files[0]!.schema_json)).toEqual([
        { name: 'id', type: 'BIGINT' },
        { name: 'ts', type: 'BIGINT' },
        { name: 'a', type: 'BIGINT' },
        { name: 'b', type: 'DOUBLE' },
        { name: 'label', type: 'VARCHAR' },
      ]);
      const rows = await store.bridge.sql('SELECT id, a, b, label FROM t ORDER BY id');
      expect(rows).toHaveLength(ROWS);
      for (const [index, row] of rows.entries()) {
        const i = index + 1;
        expect(BigInt(row.id as bigint)).toBe(BigInt(i));
        expect(row.a === null ? null : BigInt(row.a as bigint)).toBe(i > 3000 ? BIG + BigInt(i) : null);
        expect(row.b).toBe(i > 2500 ? i + 0.5 : null);
        expect(row.label).toBe(`row ${i}`);
      }
    } finally {
      await store.close();
    }
  });

  it('a value of the wrong class in the third sub-batch refuses its whole chunk, naming the first bad row in row order; the rows stay hot and the next day moves', async () => {
    const dir = tempDir();
    const store = await storeWith(dir, (insert) => {
      // Column a is decided INTEGER by row 1; row 4,150 holds TEXT in a. Column b (REAL from row 1) holds
      // TEXT at row 4,120: the earlier row of the same sub-batch (rows 4,097-5,000), in a later column, is the one named.
      for (let i = 1; i <= ROWS; i++) insert(i, DAY + i, i === 4150 ? 'oops' : BigInt(i), i === 4120 ? 'not a number' : i + 0.25);
      insert(ROWS + 1, DAY + DAY_S, 1n, 1.5);
    });
    try {
      const report = await store.archiver.run({ now: NOW_MS });
      const t = report.tables[0]!;
      expect(t.refused).toHaveLength(1);
      const reason = t.refused[0]!.reason;
      expect(reason).toContain('t.b holds TEXT value "not a number" at id=4120');
      expect(reason).toContain('but the column holds REAL');
      expect(t.rowsMoved).toBe(1);
      expect(store.hot.raw.prepare('SELECT count(*) FROM t WHERE ts < ?').pluck().get(DAY + DAY_S)).toBe(ROWS);
      const all = await store.bridge.sql('SELECT count(*) AS n, count(DISTINCT id) AS d FROM t');
      expect(Number(all[0]!.n)).toBe(ROWS + 1);
      expect(Number(all[0]!.d)).toBe(ROWS + 1);
    } finally {
      await store.close();
    }
  });
});
