/**
 * A table whose own columns are named like the cold tree's Hive folders
 * (`year=/month=/day=`): DuckDB's hive-partitioning auto-detection would add
 * columns of those names from the file paths and they would shadow the
 * table's. Every read of a cold file turns it off, so the values read back —
 * through bridge.query, bridge.sql, after compaction — are the values written.
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defineRegistry } from '../src/registry/defineRegistry.js';
import { openTierStore } from '../src/store/openTierStore.js';
import { tempDir, testConfig } from './helpers.js';

const DAY_S = 86_400;
const NOW_S = Date.UTC(2026, 5, 30) / 1000;
const ROWS = 240;

describe('a table with columns named year, month and day', () => {
  it('reads back its own values from cold files, not the folder names, before and after compaction', async () => {
    const dataDir = tempDir();
    const raw = new Database(path.join(dataDir, 'hot.db'));
    raw.exec('CREATE TABLE readings (id INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL, year INTEGER, month TEXT, day TEXT)');
    const insert = raw.prepare('INSERT INTO readings (id, ts, year, month, day) VALUES (?, ?, ?, ?, ?)');
    const rows: { id: bigint; ts: bigint; year: bigint | null; month: string | null; day: string | null }[] = [];
    raw.transaction(() => {
      for (let i = 1; i <= ROWS; i++) {
        // 12 days of rows, the last two hot; values no folder name could produce (and some NULLs).
        const row = { id: BigInt(i), ts: BigInt(NOW_S - 12 * DAY_S + i * Math.floor((12 * DAY_S) / ROWS)), year: i % 7 === 0 ? null : BigInt(1990 + (i % 5)), month: `m-${i % 4}`, day: i % 9 === 0 ? null : `d-${i}` };
        insert.run(row.id, row.ts, row.year, row.month, row.day);
        rows.push(row);
      }
    })();
    raw.close();
    const store = await openTierStore({
      config: testConfig(dataDir, { ARCHIVE_BATCH_SIZE: '50' }),
      registry: defineRegistry([{ table: 'readings', timeColumn: 'ts', timeUnit: 'unix_s', hotDays: 2 }]),
      migrations: false,
    });
    try {
      const report = await store.archiver.run({ now: NOW_S * 1000 });
      expect(report.tables[0]!.error).toBeUndefined();
      expect(report.tables[0]!.rowsMoved).toBeGreaterThan(ROWS / 2);
      expect(report.tables[0]!.files).toBeGreaterThan(2);

      const check = async (): Promise<void> => {
        expect(await store.bridge.query('readings', { orderBy: [{ id: 'asc' }] })).toStrictEqual(rows);
        expect(await store.bridge.query('readings', { where: { day: 'd-10' } })).toStrictEqual(rows.filter((r) => r.day === 'd-10'));
        expect(await store.bridge.query('readings', { where: { year: 1991n, month: 'm-1' }, orderBy: [{ id: 'asc' }] })).toStrictEqual(
          rows.filter((r) => r.year === 1991n && r.month === 'm-1'),
        );
        const byYear = await store.bridge.sql('SELECT year, count(*) AS n, min(day) AS first_day FROM readings GROUP BY year ORDER BY year NULLS FIRST');
        const expected = [...new Set(rows.map((r) => r.year))]
          .sort((a, b) => (a === null ? -1 : b === null ? 1 : Number(a - b)))
          .map((year) => {
            const of = rows.filter((r) => r.year === year);
            const days = of.map((r) => r.day).filter((d): d is string => d !== null).sort();
            return { year, n: BigInt(of.length), first_day: days[0] ?? null };
          });
        expect(byYear).toStrictEqual(expected);
      };
      await check();
      // A delete of a cold row (positional markers), then compaction: the merged files hold the table's values too.
      await store.delete('readings', { where: { id: 20n } });
      rows.splice(rows.findIndex((r) => r.id === 20n), 1);
      await check();
      const compacted = await store.maintenance.compact({ tables: ['readings'], minFiles: 2 });
      expect(compacted.tables[0]!.error).toBeUndefined();
      expect(compacted.tables[0]!.groups.some((g) => g.output)).toBe(true);
      await check();
    } finally {
      await store.close();
    }
  });
});
