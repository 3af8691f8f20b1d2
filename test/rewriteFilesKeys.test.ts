/**
 * Compaction checksums keys inside DuckDB for INTEGER and TEXT keys and in JS
 * for the others (REAL): either way the merged file's footer and manifest row
 * must be what the archiver, validate and rebuild compute from its rows
 * (keyChecksum over String(key) in file order, SQLite's key order for the
 * range), and the bridge must answer as before.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { validateColdFiles } from '../src/archive/validateColdFiles.js';
import { DuckDbEngine } from '../src/cold/DuckDbEngine.js';
import { listFiles } from '../src/manifest/manifestFiles.js';
import { verifyColdFile } from '../src/maintenance/verifyColdFile.js';
import { defineRegistry } from '../src/registry/defineRegistry.js';
import { openTierStore } from '../src/store/openTierStore.js';
import { DAY_S, NOW_MS, NOW_S } from './archiveFixtures.js';
import { tempDir, testConfig } from './helpers.js';

/** Text keys whose UTF-16 order differs from their UTF-8 byte order (U+E000.. vs astral), digits, NUL-free odd bytes. */
const TEXT_KEYS = ['a', 'B', 'é', '\uE000', '\uFFFD', '😀', '𝄞x', '10', '9', 'a b', 'z\n', 'Ω', '中文', ''];

function seed(dataDir: string): void {
  const raw = new Database(path.join(dataDir, 'hot.db'));
  raw.exec(`
    CREATE TABLE notes (k TEXT PRIMARY KEY, t INTEGER NOT NULL, v TEXT, b BLOB) WITHOUT ROWID;
    CREATE TABLE points (k REAL PRIMARY KEY, t INTEGER NOT NULL, v TEXT);
    CREATE TABLE counts (k INTEGER PRIMARY KEY AUTOINCREMENT, t INTEGER NOT NULL, v REAL);
  `);
  const note = raw.prepare('INSERT INTO notes VALUES (?, ?, ?, ?)');
  const point = raw.prepare('INSERT INTO points VALUES (?, ?, ?)');
  const count = raw.prepare('INSERT INTO counts (k, t, v) VALUES (?, ?, ?)');
  raw.transaction(() => {
    for (let day = 30; day >= 1; day--) {
      for (const [i, base] of TEXT_KEYS.entries()) {
        // The same time for several keys in a day: the key decides their order.
        note.run(`${base}${day}`, NOW_S - day * DAY_S + (i % 3), `note ${i}`, Buffer.from([i, day]));
      }
      for (let i = 0; i < 5; i++) point.run(day * 10 + i / 4 + 0.5, NOW_S - day * DAY_S + i, `p${i}`);
      for (let i = 0; i < 5; i++) count.run(BigInt(-1e15) + BigInt(day * 1000 + i) * (i % 2 === 0 ? 1n : -1n), NOW_S - day * DAY_S + (i % 2), i / 3);
    }
  })();
  raw.close();
}

describe('compaction key checksums', () => {
  it('TEXT, REAL and INTEGER keys: merged files verify as the archiver would write them; answers unchanged', async () => {
    const dir = tempDir();
    seed(dir);
    const registry = defineRegistry([
      { table: 'notes', timeColumn: 't', timeUnit: 'unix_s', hotDays: 3 },
      { table: 'points', timeColumn: 't', timeUnit: 'unix_s', hotDays: 3 },
      { table: 'counts', timeColumn: 't', timeUnit: 'unix_s', hotDays: 3, appAssignsKeys: true },
    ]);
    const store = await openTierStore({ config: testConfig(dir), registry, migrations: false });
    onTestFinished(() => store.close());
    const tables = ['notes', 'points', 'counts'];
    const all = async (t: string) => store.bridge.query(t, { orderBy: [{ k: 'asc' }] });
    const before = Object.fromEntries(await Promise.all(tables.map(async (t) => [t, await all(t)] as const)));
    await store.archiver.run({ now: NOW_MS });
    const report = await store.maintenance.compact({ minFiles: 2 });
    for (const t of report.tables) {
      expect(t.error).toBeUndefined();
      expect(t.filesAfter).toBeLessThan(t.filesBefore);
    }

    const engine = await DuckDbEngine.create({ memoryLimit: '256MB', threads: 1 });
    onTestFinished(() => engine.close());
    const resolved = new Map(tables.map((t) => [t, store.table(t)]));
    let merged = 0;
    for (const t of tables) {
      for (const f of listFiles(store.hot.raw, t, ['live'])) {
        const info = await store.cold.stat(f.path);
        const verdict = await verifyColdFile(engine, store.cold, info!, resolved, f);
        expect(verdict.ok ? verdict.witnessProblem : verdict.problem).toBeUndefined();
        if (!verdict.ok) continue;
        // The manifest row says what the file's own rows say.
        expect(f.checksum).toBe(verdict.file.footer.keyChecksum);
        expect(f.min_key).toEqual(typeof verdict.file.minKey === 'bigint' ? Number(verdict.file.minKey) : verdict.file.minKey);
        expect(f.max_key).toEqual(typeof verdict.file.maxKey === 'bigint' ? Number(verdict.file.maxKey) : verdict.file.maxKey);
        if (f.path.includes('part-2-')) merged++;
      }
    }
    expect(merged).toBeGreaterThanOrEqual(3);
    expect((await validateColdFiles(store.hot.raw, engine, store.cold)).problems).toEqual([]);
    for (const t of tables) expect(await all(t)).toEqual(before[t]);
  });
});
