/**
 * store.erase: after it, the erased values are nowhere — not in any byte of
 * the hot file, its WAL or a backup, and not in any value of any decompressed
 * cold file left in the tree — and every other row is still there exactly
 * once. Masked copies (rows deleted or updated earlier, still in their files)
 * are erased too. The receipt names files and checksums, never the values.
 */
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DuckDbEngine, sqlString } from '../src/cold/DuckDbEngine.js';
import { listErasures } from '../src/manifest/erasureReceipts.js';
import { markerTotal } from '../src/manifest/deleteMarkers.js';
import { listFiles } from '../src/manifest/manifestFiles.js';
import { wechatPreset } from '../src/presets/wechat/wechatPreset.js';
import { openTierStore, type TierStore } from '../src/store/openTierStore.js';
import { DAY_S, NOW_MS, NOW_S, seedTaskQueue } from './archiveFixtures.js';
import { tempDir, testConfig } from './helpers.js';

const ROWS = 3000;
const DAYS = 60;
const ENV = { HOT_DAYS_TASK: '7', ARCHIVE_BACKUP_ENABLED: 'true', ARCHIVE_BACKUP_KEEP: '2', TIERDB_ERASE_GRACE_SECONDS: '0' };
const SECRET = 'Zq9-ERASE-ME';
const stores: TierStore[] = [];
const closers: (() => void)[] = [];

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const c of closers.splice(0)) c();
});

async function open(dir: string): Promise<TierStore> {
  const store = await openTierStore({ config: testConfig(dir, ENV), preset: wechatPreset });
  stores.push(store);
  return store;
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** Every byte of every SQLite file (hot file, WAL, backups) holding `needle`, by file. */
function sqliteFilesHolding(dir: string, needle: string): string[] {
  const files = [...walk(dir).filter((f) => /\.db(-wal|-journal)?$/.test(f))];
  return files.filter((f) => readFileSync(f).includes(Buffer.from(needle, 'utf8')));
}

/** Every value of every Parquet file anywhere under the data folder, decompressed by DuckDB, holding `needle`. */
async function parquetFilesHolding(dir: string, needle: string): Promise<string[]> {
  const files = walk(dir).filter((f) => /\.parquet(\.tmp)?$/.test(f) && statSync(f).size > 0);
  const engine = await DuckDbEngine.create({ memoryLimit: '256MB', threads: 1 });
  try {
    const out: string[] = [];
    for (const f of files) {
      const rows = (await engine.connection.runAndReadAll(`SELECT count(*) FROM read_parquet(${sqlString(f)}) AS t WHERE CAST(to_json(t) AS VARCHAR) LIKE ${sqlString(`%${needle}%`)}`)).getRowsJS();
      if (Number(rows[0]![0]) > 0) out.push(f);
    }
    return out;
  } finally {
    engine.close();
  }
}

describe('store.erase', () => {
  it('leaves no byte of the erased values in the hot file, its WAL, the backups or any cold file; every other row exactly once', async () => {
    const dir = tempDir();
    await seedTaskQueue(dir, ROWS, DAYS);
    // Victims on every tenth day-ish: one in 40 rows, across hot and cold.
    const seed = new Database(path.join(dir, 'hot.db'));
    seed.prepare(`UPDATE task_queue SET task_type = 'victim', payload = '${SECRET}-' || id WHERE id % 40 = 0`).run();
    seed.close();
    copyFileSync(path.join(dir, 'hot.db'), path.join(dir, 'oracle.sqlite'));
    const oracle = new Database(path.join(dir, 'oracle.sqlite'));
    oracle.defaultSafeIntegers(true);
    closers.push(() => oracle.close());

    const store = await open(dir);
    await store.archiver.run({ now: NOW_MS });
    expect(readdirSync(path.join(dir, 'backups')).length).toBeGreaterThan(0);
    expect(sqliteFilesHolding(dir, SECRET).length).toBeGreaterThan(0);
    // Masked copies: a victim updated (its old values stay in its file) and one deleted, both cold.
    const coldVictims = await store.bridge.query('task_queue', { where: { task_type: 'victim', created_at: { lt: NOW_S - 20 * DAY_S } }, orderBy: [{ id: 'asc' }], limit: 2 });
    expect(coldVictims.length).toBe(2);
    await store.update('task_queue', { where: { id: coldVictims[0]!.id as bigint }, set: { attempts: 42n } });
    await store.delete('task_queue', { where: { id: coldVictims[1]!.id as bigint } });
    oracle.prepare('DELETE FROM task_queue WHERE id = ?').run(coldVictims[1]!.id);
    oracle.prepare('UPDATE task_queue SET attempts = 42 WHERE id = ?').run(coldVictims[0]!.id);
    expect(markerTotal(store.hot.raw, 'task_queue')).toBe(2);

    const dry = await store.erase('task_queue', { where: { task_type: 'victim' }, dryRun: true });
    expect(dry.status).toBe('dry-run');
    const receipt = await store.erase('task_queue', { where: { task_type: 'victim' } });
    const gone = oracle.prepare(`DELETE FROM task_queue WHERE task_type = 'victim'`).run().changes;
    expect(receipt.hotRows + receipt.coldRows).toBe(gone);
    expect(dry.hotRows + dry.coldRows).toBe(gone);
    expect(receipt.hotRows).toBeGreaterThan(0);
    expect(receipt.coldRows).toBeGreaterThan(0);
    expect(receipt.status).toBe('complete');
    expect(receipt.walTruncated).toBe(true);
    expect(receipt.files.length).toBeGreaterThan(1);
    for (const f of receipt.files) {
      expect(f.oldSha256).toMatch(/^[0-9a-f]{64}$/);
      if (f.newPath !== null) expect(f.newSha256).toMatch(/^[0-9a-f]{64}$/);
      expect(existsSync(path.join(store.config.coldDir, f.oldPath))).toBe(false);
    }
    // The affected day files (small) were merged as compaction merges them: fewer, live outputs.
    const outputs = new Set(receipt.files.map((f) => f.newPath).filter((p) => p !== null));
    expect(outputs.size).toBeLessThan(receipt.files.length / 4);
    const live = new Set(listFiles(store.hot.raw, 'task_queue', ['live']).map((f) => f.path));
    for (const p of outputs) expect(live.has(p!)).toBe(true);
    // The masked copies went too: both victims' files counted them.
    expect(receipt.files.reduce((n, f) => n + f.rowsErased, 0)).toBe(receipt.coldRows + 2);
    expect(receipt.backups.length).toBeGreaterThan(0);
    expect(receipt.backups.reduce((n, b) => n + b.rowsErased, 0)).toBeGreaterThan(0);
    expect(markerTotal(store.hot.raw, 'task_queue')).toBe(0);

    // The receipt, printed and stored, names no erased value (the predicate's values are digests).
    const stored = listErasures(store.hot.raw);
    expect(stored.length).toBe(1);
    expect(stored[0]!.status).toBe('complete');
    expect(JSON.stringify(receipt)).not.toContain('victim');
    expect(JSON.stringify(stored)).not.toContain('victim');
    expect(JSON.stringify(receipt.predicate)).toMatch(/sha256:[0-9a-f]{64}/);

    // Every other row exactly once, as the oracle holds it.
    const want = oracle.prepare('SELECT * FROM task_queue ORDER BY id').all();
    expect(await store.bridge.query('task_queue', { orderBy: [{ id: 'asc' }] })).toEqual(want);
    await store.close();

    // No byte anywhere: the SQLite files (hot, WAL, backups; the oracle copy is not the store's) and every Parquet value.
    const leaking = sqliteFilesHolding(dir, SECRET).filter((f) => !f.includes('oracle.sqlite'));
    expect(leaking).toEqual([]);
    expect(sqliteFilesHolding(dir, 'victim').filter((f) => !f.includes('oracle.sqlite'))).toEqual([]);
    expect(await parquetFilesHolding(dir, SECRET)).toEqual([]);
    expect(await parquetFilesHolding(dir, 'victim')).toEqual([]);
  });

  it('a grace file (rows still hot, file pending) holding a matching row goes too; a later run writes the rest again', async () => {
    const dir = tempDir();
    await seedTaskQueue(dir, 600, 30);
    const seed = new Database(path.join(dir, 'hot.db'));
    seed.prepare(`UPDATE task_queue SET task_type = 'victim', payload = '${SECRET}-' || id WHERE id % 40 = 0`).run();
    seed.close();
    const env = { ...ENV, ARCHIVE_GRACE_HOURS: '48' };
    const store = await openTierStore({ config: testConfig(dir, env), preset: wechatPreset });
    stores.push(store);
    await store.archiver.run({ now: NOW_MS });
    expect(listFiles(store.hot.raw, 'task_queue', ['pending']).length).toBeGreaterThan(0);
    expect(await parquetFilesHolding(path.join(dir, 'cold'), SECRET)).not.toEqual([]);
    const receipt = await store.erase('task_queue', { where: { task_type: 'victim' } });
    expect(receipt.hotRows).toBe(15);
    expect(receipt.coldRows).toBe(0);
    expect(await parquetFilesHolding(path.join(dir, 'cold'), SECRET)).toEqual([]);
    // Two days later the grace files are written again, without the erased rows; nothing lost.
    await store.archiver.run({ now: NOW_MS + 2 * 86_400_000 });
    await store.archiver.run({ now: NOW_MS + 5 * 86_400_000 });
    const [row] = await store.bridge.sql(`SELECT count(*) AS n, count(*) FILTER (WHERE task_type = 'victim') AS v FROM task_queue`);
    expect(Number(row!.n)).toBe(585);
    expect(Number(row!.v)).toBe(0);
    expect(listFiles(store.hot.raw, 'task_queue', ['live']).length).toBeGreaterThan(0);
  });

  it('refuses an empty filter and unknown columns; a dry run changes nothing', async () => {
    const dir = tempDir();
    await seedTaskQueue(dir, 500, 30);
    const store = await open(dir);
    await store.archiver.run({ now: NOW_MS });
    const files = listFiles(store.hot.raw, 'task_queue', ['live']).map((f) => f.path);
    await expect(store.erase('task_queue', {})).rejects.toThrow(/no where filter/);
    await expect(store.erase('task_queue', { where: { nope: 1 } })).rejects.toThrow(/unknown column "nope"/);
    await expect(store.erase('task_queue', { where: { created_at: { gte: 0 } } })).rejects.toThrow(/selects every row/);
    const dry = await store.erase('task_queue', { where: { status: 'failed' }, dryRun: true });
    expect(dry.coldRows).toBeGreaterThan(0);
    expect(listFiles(store.hot.raw, 'task_queue', ['live']).map((f) => f.path)).toEqual(files);
    expect(listErasures(store.hot.raw)).toEqual([]);
  });
});
