/**
 * store.delete and store.update on real SQLite, Parquet and DuckDB: a change
 * reaches every row the filter selects, hot or cold, at once and exactly; the
 * bridge (query, stream, sql) answers as a never-archived SQLite copy with the
 * same change applied; compaction, retention, restore and validate respect
 * the delete markers; bad input is refused naming the problem, nothing changed.
 */
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { validateColdFiles } from '../src/archive/validateColdFiles.js';
import { absoluteColdPath } from '../src/cold/coldLayout.js';
import { DuckDbEngine, sqlString } from '../src/cold/DuckDbEngine.js';
import { markerCounts, markerTotal } from '../src/manifest/deleteMarkers.js';
import { INLINE_MARKED_FILES, INLINE_MARKS_PER_FILE } from '../src/query/coldMarks.js';
import { listFiles } from '../src/manifest/manifestFiles.js';
import { wechatPreset } from '../src/presets/wechat/wechatPreset.js';
import { openTierStore, type TierStore } from '../src/store/openTierStore.js';
import { DAY_S, NOW_MS, NOW_S, seedTaskQueue } from './archiveFixtures.js';
import { tempDir, testConfig } from './helpers.js';

const ROWS = 3000;
const DAYS = 60;
const ENV = { HOT_DAYS_TASK: '7' };
const stores: TierStore[] = [];
const oracles: Database.Database[] = [];

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const o of oracles.splice(0)) o.close();
});

async function open(dir: string, env: Record<string, string> = ENV): Promise<TierStore> {
  const store = await openTierStore({ config: testConfig(dir, env), preset: wechatPreset });
  stores.push(store);
  return store;
}

/** A seeded store after archiving (most rows cold), and a never-archived SQLite copy of it. */
async function archived(): Promise<{ dir: string; store: TierStore; oracle: Database.Database }> {
  const dir = tempDir();
  await seedTaskQueue(dir, ROWS, DAYS);
  copyFileSync(path.join(dir, 'hot.db'), path.join(dir, 'oracle.db'));
  const oracle = new Database(path.join(dir, 'oracle.db'));
  oracle.defaultSafeIntegers(true);
  oracles.push(oracle);
  const store = await open(dir);
  await store.archiver.run({ now: NOW_MS });
  expect(listFiles(store.hot.raw, 'task_queue', ['live']).length).toBeGreaterThan(40);
  return { dir, store, oracle };
}

function oracleRows(oracle: Database.Database): Record<string, unknown>[] {
  return oracle.prepare('SELECT * FROM task_queue ORDER BY id').all() as Record<string, unknown>[];
}

async function expectEqualsOracle(store: TierStore, oracle: Database.Database): Promise<void> {
  const want = oracleRows(oracle);
  expect(await store.bridge.query('task_queue', { orderBy: [{ id: 'asc' }] })).toEqual(want);
  const streamed: Record<string, unknown>[] = [];
  for await (const row of store.bridge.stream('task_queue', { orderBy: [{ id: 'asc' }] }, { batchSize: 500 })) streamed.push(row);
  expect(streamed).toEqual(want);
  const grouped = await store.bridge.sql('SELECT status, count(*) AS n, sum(priority) AS p FROM task_queue GROUP BY 1 ORDER BY 1');
  const wantGrouped = oracle.prepare('SELECT status, count(*) AS n, sum(priority) AS p FROM task_queue GROUP BY 1 ORDER BY 1').all();
  expect(grouped).toEqual(wantGrouped);
}

const COLD_BEFORE = NOW_S - 20 * DAY_S;

describe('store.delete', () => {
  it('deletes hot and cold rows the filter selects, at once; the bridge equals the oracle with the same DELETE', async () => {
    const { store, oracle } = await archived();
    const where = { priority: 3, created_at: { lt: COLD_BEFORE + 15 * DAY_S } };
    const result = await store.delete('task_queue', { where });
    const gone = oracle.prepare('DELETE FROM task_queue WHERE priority = 3 AND created_at < ?').run(COLD_BEFORE + 15 * DAY_S).changes;
    expect(result.hot + result.cold).toBe(gone);
    expect(result.cold).toBeGreaterThan(0);
    expect(result.hot).toBeGreaterThan(0);
    await expectEqualsOracle(store, oracle);
    expect(await store.bridge.query('task_queue', { where })).toEqual([]);
    // Deleting again finds nothing.
    expect(await store.delete('task_queue', { where })).toEqual({ hot: 0, cold: 0 });
    const engine = await DuckDbEngine.create({ memoryLimit: '256MB', threads: 1 });
    try {
      expect((await validateColdFiles(store.hot.raw, engine, store.cold)).duplicateKeys).toEqual([]);
    } finally {
      engine.close();
    }
  });

  it('compaction applies the markers (the rows leave the files) and drops them; retention and restore never bring a deleted row back', async () => {
    const { store, oracle } = await archived();
    await store.delete('task_queue', { where: { status: 'failed', created_at: { lt: COLD_BEFORE } } });
    oracle.prepare(`DELETE FROM task_queue WHERE status = 'failed' AND created_at < ?`).run(COLD_BEFORE);
    expect(markerTotal(store.hot.raw, 'task_queue')).toBeGreaterThan(0);
    const restored = await store.maintenance.restore({ table: 'task_queue', since: new Date((COLD_BEFORE - 10 * DAY_S) * 1000).toISOString(), until: new Date((COLD_BEFORE - 5 * DAY_S) * 1000).toISOString() });
    expect(restored.rowsRestored).toBeGreaterThan(0);
    await expectEqualsOracle(store, oracle);
    const report = await store.maintenance.compact({ minFiles: 2 });
    expect(report.tables[0]!.rowsOut).toBeGreaterThan(0);
    expect(markerTotal(store.hot.raw, 'task_queue')).toBe(0);
    await expectEqualsOracle(store, oracle);
    // The deleted rows are physically gone from the live files.
    const live = listFiles(store.hot.raw, 'task_queue', ['live']);
    const engine = await DuckDbEngine.create({ memoryLimit: '256MB', threads: 1 });
    try {
      const files = live.map((f) => `'${path.join(store.config.coldDir, f.path)}'`).join(', ');
      const rows = (await engine.connection.runAndReadAll(`SELECT count(*) FROM read_parquet([${files}]) WHERE status = 'failed' AND created_at < ${COLD_BEFORE}`)).getRowsJS();
      expect(Number(rows[0]![0])).toBe(0);
    } finally {
      engine.close();
    }
  });

  it('files with a few markers (filtered inline) and files with many (anti-joined by position, or by key) read exactly, alone and together', async () => {
    const { dir, store, oracle } = await archived();
    const cold = (await store.bridge.query('task_queue', { where: { created_at: { lt: COLD_BEFORE } }, orderBy: [{ created_at: 'asc' }] })) as { id: bigint; created_at: bigint }[];
    const byDay = new Map<number, bigint[]>();
    for (const r of cold) {
      const day = Math.floor(Number(r.created_at) / DAY_S);
      byDay.set(day, [...(byDay.get(day) ?? []), r.id]);
    }
    const days = [...byDay.keys()];
    // One whole day (more than INLINE_MARKS_PER_FILE rows), and one row in each of more than INLINE_MARKED_FILES others.
    const many = byDay.get(days[0]!)!;
    expect(many.length).toBeGreaterThan(INLINE_MARKS_PER_FILE);
    const few = days.slice(1, INLINE_MARKED_FILES + 6).map((d) => byDay.get(d)![0]!);
    const ids = [...many, ...few];
    expect(await store.delete('task_queue', { where: { id: { in: ids } } })).toEqual({ hot: 0, cold: ids.length });
    const del = oracle.prepare('DELETE FROM task_queue WHERE id = ?');
    for (const id of ids) del.run(id);
    const counts = [...markerCounts(store.hot.raw, 'task_queue').values()];
    expect(counts.filter((n) => n > INLINE_MARKS_PER_FILE).length).toBe(1);
    expect(counts.filter((n) => n <= INLINE_MARKS_PER_FILE).length).toBeGreaterThan(INLINE_MARKED_FILES);
    // Every marker knows its row's position, and the row there holds its key (the anti-join reads by position).
    const marks = store.hot.raw.prepare('SELECT path, key, pos FROM _tierdb_deletes').all() as { path: string; key: number; pos: number | null }[];
    expect(marks.filter((m) => m.pos === null)).toEqual([]);
    const engine = await DuckDbEngine.create({ memoryLimit: '256MB', threads: 1 });
    try {
      for (const m of marks) {
        const file = sqlString(absoluteColdPath(path.join(dir, 'cold'), m.path));
        const at = await engine.connection.runAndReadAll(`SELECT id FROM read_parquet(${file}, file_row_number = true) WHERE file_row_number = ${m.pos}`);
        expect(at.getRows()).toEqual([[BigInt(m.key)]]);
      }
    } finally {
      engine.close();
    }
    const eachDayAlone = async () => {
      // Each day alone: a statement whose only marked file is one of the few, or the many.
      for (const d of days.slice(0, 4)) {
        const range = { created_at: { gte: d * DAY_S, lt: (d + 1) * DAY_S } };
        const want = oracle.prepare('SELECT * FROM task_queue WHERE created_at >= ? AND created_at < ? ORDER BY id').all(d * DAY_S, (d + 1) * DAY_S);
        expect(await store.bridge.query('task_queue', { where: range, orderBy: [{ id: 'asc' }] })).toEqual(want);
      }
    };
    await expectEqualsOracle(store, oracle);
    await eachDayAlone();
    // Markers without a position (made before migration 0007, or by a drain) send every anti-joined file back to (file, key).
    store.hot.raw.prepare('UPDATE _tierdb_deletes SET pos = NULL WHERE id = (SELECT min(id) FROM _tierdb_deletes)').run();
    await expectEqualsOracle(store, oracle);
    await eachDayAlone();
  });

  it('a deleted cold key appended again is a new row: visible, and still visible once archived into another file', async () => {
    const { store, oracle } = await archived();
    const [victim] = await store.bridge.query('task_queue', { where: { created_at: { lt: COLD_BEFORE } }, limit: 1 });
    expect(await store.delete('task_queue', { where: { id: victim!.id as bigint } })).toEqual({ hot: 0, cold: 1 });
    const again = { ...victim!, payload: 'second life' };
    const appended = await store.hot.append('task_queue', [again]);
    expect(appended.inserted).toBe(1);
    oracle.prepare('UPDATE task_queue SET payload = ? WHERE id = ?').run('second life', victim!.id);
    await expectEqualsOracle(store, oracle);
    await store.archiver.run({ now: NOW_MS });
    await expectEqualsOracle(store, oracle);
    await store.maintenance.compact({ minFiles: 2 });
    await expectEqualsOracle(store, oracle);
  });

  it('refuses an empty filter, a filter selecting every row, unknown columns and values the column cannot hold; nothing changes', async () => {
    const { store, oracle } = await archived();
    await expect(store.delete('task_queue', {})).rejects.toThrow(/no where filter given.*all: true/);
    await expect(store.delete('task_queue', { where: {} })).rejects.toThrow(/no where filter/);
    await expect(store.delete('task_queue', { where: { created_at: { gte: 0 } } })).rejects.toThrow(/selects every row.*all: true/);
    await expect(store.delete('task_queue', { where: { nope: 1 } })).rejects.toThrow(/unknown column "nope"/);
    await expect(store.delete('task_queue', { where: { priority: 'high' } })).rejects.toThrow(/priority/);
    await expect(store.delete('task_queue', { where: { priority: { between: 1 } } as never })).rejects.toThrow(/unknown operator "between"/);
    await expect(store.delete('nope', { where: { id: 1 } })).rejects.toThrow(/not registered/);
    await expect(store.update('task_queue', { where: { priority: 1 }, set: { nope: 1 } })).rejects.toThrow(/unknown column\(s\) nope/);
    await expect(store.update('task_queue', { where: { priority: 1 }, set: { priority: 'x' } })).rejects.toThrow(/priority/);
    await expect(store.update('task_queue', { where: { priority: 1 }, set: { id: 5n } })).rejects.toThrow(/key column id cannot be changed/);
    await expect(store.update('task_queue', { where: { priority: 1 }, set: {} })).rejects.toThrow(/set names no column/);
    expect(markerTotal(store.hot.raw)).toBe(0);
    await expectEqualsOracle(store, oracle);
    // With all: true the whole table goes.
    const all = await store.delete('task_queue', { where: {}, all: true });
    expect(all.hot + all.cold).toBe(ROWS);
    expect(await store.bridge.query('task_queue')).toEqual([]);
  });
});

describe('store.update', () => {
  it('updates hot rows in place and cold rows into hot rows with the new values, their cold copies masked', async () => {
    const { store, oracle } = await archived();
    const where = { priority: 2, status: 'failed' };
    const result = await store.update('task_queue', { where, set: { status: 'retried', attempts: 9n } });
    const changed = oracle.prepare(`UPDATE task_queue SET status = 'retried', attempts = 9 WHERE priority = 2 AND status = 'failed'`).run().changes;
    expect(result.hot + result.cold).toBe(changed);
    expect(result.cold).toBeGreaterThan(0);
    await expectEqualsOracle(store, oracle);
    const engine = await DuckDbEngine.create({ memoryLimit: '256MB', threads: 1 });
    try {
      expect((await validateColdFiles(store.hot.raw, engine, store.cold)).duplicateKeys).toEqual([]);
    } finally {
      engine.close();
    }
    // The updated rows keep their old time: the next archive moves them out again, still exact.
    await store.archiver.run({ now: NOW_MS });
    await expectEqualsOracle(store, oracle);
    await store.maintenance.compact({ minFiles: 2 });
    expect(markerTotal(store.hot.raw, 'task_queue')).toBe(0);
    await expectEqualsOracle(store, oracle);
  });
});
