/**
 * An archive run SIGKILLed between two drain transactions leaves a live file
 * whose rows are partly cold (its drained prefix) and partly still hot. Then
 * the app deletes one undrained row and changes another through plain SQLite.
 * Every reader must read each row exactly once, never the deleted one, and the
 * changed one with its new value: bridge.query (full plan and hot-only fast
 * path), bridge.sql (DuckDB and SQLite), validate, stats, store.delete,
 * rebuild-manifest (the old manifest row says how far the drain got) and the
 * Iceberg publish.
 */
import Database from 'better-sqlite3';
import { cpSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateColdFiles } from '../src/archive/validateColdFiles.js';
import { DuckDbEngine } from '../src/cold/DuckDbEngine.js';
import { publishIcebergTable } from '../src/iceberg/publishIcebergTable.js';
import { collectStats } from '../src/stats/collectStats.js';
import { openTierStore, type TierStore } from '../src/store/openTierStore.js';
import { DAY_S, NOW_MS, NOW_S, expectExactlyOnce, readTierState, runCli, seedTaskQueue } from './archiveFixtures.js';
import { TemplateFolders } from './templateFolders.js';
import { tempDir, testConfig } from './helpers.js';
import { expectIcebirdEqualsBridge, serveFolder } from './icebergFixtures.js';

const ENV = { ARCHIVE_BATCH_SIZE: '400', HOT_DAYS_TASK: '7', LOG_LEVEL: 'silent', ARCHIVE_QUERY_CACHE_ENABLED: 'false' };
const NOW_ISO = new Date(NOW_MS).toISOString();
const ARCHIVE = (dir: string) => ['--data-dir', dir, 'archive', '--table', 'task_queue', '--now', NOW_ISO];

interface KilledMidDrain {
  dir: string;
  /** Rows that exist (the seeded ones minus the deleted one). */
  total: number;
  file: { id: number; path: string; rows: number; drained_rows: number; min_time_ms: number; max_time_ms: number };
  /** An undrained row the app deleted, and one it changed (status 'changed-after-commit'). */
  gone: number;
  changed: number;
}

/**
 * The killed state is built once per file into a template (seeded, killed, the two rows changed) and each test gets a
 * copy of its folder (the hot file as the app left it, closed; the cold tree with the killed run's files).
 */
let template: Promise<KilledMidDrain> | undefined;
const folders = new TemplateFolders();
afterAll(() => {
  template = undefined;
  folders.removeAll();
});

/** A data folder whose archive run was killed right after its first drain transaction, then an undrained row deleted and another changed. */
async function killedMidDrain(): Promise<KilledMidDrain> {
  template ??= buildKilledMidDrain();
  const t = await template;
  const dir = tempDir();
  cpSync(t.dir, dir, { recursive: true });
  return { ...t, dir, file: { ...t.file } };
}

/** Seeds, kills the archive right after its first drain transaction, then deletes and changes an undrained row. */
async function buildKilledMidDrain(): Promise<KilledMidDrain> {
  const dir = folders.make('tierdb-drain-template-');
  const seeded = await seedTaskQueue(dir, 1200, 10, ENV);
  const crashed = await runCli(ARCHIVE(dir), { ...ENV, TIERDB_FAILPOINT: 'after-drain', TIERDB_FAILPOINT_HIT: '1' });
  expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
  const db = new Database(path.join(dir, 'hot.db'));
  try {
    db.pragma('busy_timeout = 5000');
    const draining = db
      .prepare(`SELECT id, path, rows, drained_rows, min_time_ms, max_time_ms FROM _tierdb_files WHERE state = 'live' AND drained_rows IS NOT NULL`)
      .all() as KilledMidDrain['file'][];
    expect(draining).toHaveLength(1);
    const file = draining[0]!;
    expect(file.drained_rows).toBeGreaterThan(0);
    expect(file.drained_rows).toBeLessThan(file.rows - 2);
    const undrained = db
      .prepare(`SELECT id FROM task_queue WHERE created_at BETWEEN ? AND ? ORDER BY created_at, id`)
      .pluck()
      .all(file.min_time_ms / 1000, file.max_time_ms / 1000) as number[];
    expect(undrained).toHaveLength(file.rows - file.drained_rows);
    const [gone, changed] = [undrained.at(-1)!, undrained.at(-2)!];
    db.prepare('DELETE FROM task_queue WHERE id = ?').run(gone);
    db.prepare(`UPDATE task_queue SET status = 'changed-after-commit' WHERE id = ?`).run(changed);
    return { dir, total: seeded - 1, file, gone, changed };
  } finally {
    db.close();
  }
}

/** The bridge's answers: every row once, the deleted one absent, the changed one new; returns the ids. */
async function expectBridgeExact(store: TierStore, k: KilledMidDrain): Promise<void> {
  const all = await store.bridge.query('task_queue', { columns: ['id', 'status'] });
  const ids = all.map((r) => Number(r.id));
  expect(new Set(ids).size, 'a row read twice by bridge.query').toBe(ids.length);
  expect(ids.length).toBe(k.total);
  expect(ids).not.toContain(k.gone);
  expect(all.find((r) => Number(r.id) === k.changed)?.status).toBe('changed-after-commit');
  // The draining file's own time range: its drained rows from the file, the rest hot, each once.
  const lo = k.file.min_time_ms / 1000;
  const hi = k.file.max_time_ms / 1000;
  const inFile = await store.bridge.query('task_queue', { where: { created_at: { gte: lo, lte: hi } }, columns: ['id'] });
  expect(inFile.length).toBe(k.file.rows - 1);
  expect(new Set(inFile.map((r) => r.id)).size).toBe(inFile.length);
  const sqlCount = (await store.bridge.sql('SELECT count(*) AS n, count(DISTINCT id) AS d FROM task_queue WHERE created_at BETWEEN ? AND ?', [lo, hi])) as unknown;
  expect(sqlCount).toEqual([{ n: BigInt(k.file.rows - 1), d: BigInt(k.file.rows - 1) }]);
  expect((await store.bridge.sql('SELECT count(*) AS n FROM task_queue')) as unknown).toEqual([{ n: BigInt(k.total) }]);
  expect((await store.bridge.sql('SELECT status FROM task_queue WHERE id = ?', [k.changed])) as unknown).toEqual([{ status: 'changed-after-commit' }]);
}

describe('a run killed mid-drain, then the app changes undrained rows', () => {
  it('every reader path reads each row once: bridge.query and its hot-only fast path, bridge.sql on DuckDB and on SQLite, validate, stats', async () => {
    const k = await killedMidDrain();
    expectExactlyOnce(await readTierState(k.dir), k.total);
    const store = await openTierStore({ config: testConfig(k.dir, ENV) });
    try {
      await expectBridgeExact(store, k);
      // Newer than every listed file: the hot-only fast path and bridge.sql on SQLite answer from SQLite alone.
      const maxCold = store.hot.raw.prepare(`SELECT max(max_time_ms) FROM _tierdb_files WHERE state = 'live'`).pluck().get() as number;
      const since = Math.floor(maxCold / 1000) + 1;
      const oracle = store.hot.raw.prepare('SELECT count(*) FROM task_queue WHERE created_at >= ?').pluck().get(since) as number;
      expect(oracle).toBeGreaterThan(0);
      for (let i = 0; i < 3; i++) expect((await store.bridge.query('task_queue', { where: { created_at: { gte: since } }, columns: ['id'] })).length).toBe(oracle);
      expect((await store.bridge.sql('SELECT count(*) AS n FROM task_queue WHERE created_at >= ?', [since])) as unknown).toEqual([{ n: BigInt(oracle) }]);

      const engine = await DuckDbEngine.create({ memoryLimit: '256MB', threads: 1 });
      try {
        const report = await validateColdFiles(store.hot.raw, engine, store.cold, { table: 'task_queue' });
        expect(report.problems).toEqual([]);
        expect(report.duplicateKeys, 'undrained rows are hot, not duplicates').toEqual([]);
      } finally {
        engine.close();
      }
      const stats = (await collectStats(store)).tables.find((t) => t.table === 'task_queue')!;
      expect(stats.cold.drainingFiles).toBe(1);
      expect(stats.hot.rows + stats.cold.rows, 'hot + cold rows in stats').toBe(k.total);
    } finally {
      await store.close();
    }
  });

  it('store.delete and update while drain steps keep moving the manifest version: no re-scan each time, the rows drained meanwhile still changed', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const total = await seedTaskQueue(dir, 12_000, 10, ENV);
    // Small drain transactions: the manifest version moves every few milliseconds while the run drains.
    const store = await openTierStore({ config: testConfig(dir, { ...ENV, ARCHIVE_LOCK_TARGET_MS: '1' }) });
    try {
      const pick = (sql: string, ...args: unknown[]) => store.hot.raw.prepare(sql).pluck().all(...args) as number[];
      // Rows the run moves (some drained while the change is under way) and rows that stay hot.
      const ids = [
        ...pick(`SELECT id FROM task_queue WHERE created_at < ? ORDER BY id DESC LIMIT 30`, NOW_S - 8 * DAY_S),
        ...pick(`SELECT id FROM task_queue WHERE created_at > ? ORDER BY id LIMIT 30`, NOW_S - 2 * DAY_S),
      ];
      let drainsDuring = 0;
      const run = store.archiver.run({ tables: ['task_queue'], now: new Date(NOW_MS) });
      let running = true;
      void run.finally(() => (running = false));
      const version = () => Number(store.hot.raw.prepare(`SELECT value FROM _tierdb_meta WHERE key = 'manifest_version'`).pluck().get() ?? 0);
      for (const [i, id] of ids.entries()) {
        const before = version();
        const r = i % 2 === 0 ? await store.delete('task_queue', { where: { id } }) : await store.update('task_queue', { where: { id }, set: { status: 'updated-during-drain' } });
        expect(r.hot + r.cold, `row ${id} changed once`).toBe(1);
        if (running && version() > before + 1) drainsDuring++;
      }
      const report = await run;
      expect(report.tables[0]!.rowsMoved).toBeGreaterThan(0);
      expect(drainsDuring, 'changes that ran while drain steps moved the manifest version').toBeGreaterThan(3);
      for (const [i, id] of ids.entries()) {
        const rows = await store.bridge.query('task_queue', { where: { id }, columns: ['status'] });
        if (i % 2 === 0) expect(rows, `deleted row ${id}`).toEqual([]);
        else expect(rows.map((r) => r.status), `updated row ${id}`).toEqual(['updated-during-drain']);
      }
      expect((await store.bridge.sql('SELECT count(*) AS n FROM task_queue')) as unknown).toEqual([{ n: BigInt(total - ids.length / 2) }]);
    } finally {
      await store.close();
    }
    expectExactlyOnce(await readTierState(dir), total - 30);
  });

  it('rebuild-manifest after the kill: the rebuilt manifest keeps the drain where it was — the deleted row stays gone, no row twice — and the next run finishes it', async () => {
    const k = await killedMidDrain();
    const check = async (): Promise<void> => {
      expectExactlyOnce(await readTierState(k.dir), k.total);
      const store = await openTierStore({ config: testConfig(k.dir, ENV) });
      try {
        await expectBridgeExact(store, k);
      } finally {
        await store.close();
      }
    };
    const rebuilt = await runCli(['--data-dir', k.dir, 'rebuild-manifest', '--json'], ENV);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    const db = new Database(path.join(k.dir, 'hot.db'), { readonly: true });
    const after = db.prepare(`SELECT rows, drained_rows FROM _tierdb_files WHERE path = ? AND state = 'live'`).get(k.file.path) as { rows: number; drained_rows: number | null } | undefined;
    db.close();
    expect(after).toEqual({ rows: k.file.rows, drained_rows: k.file.drained_rows });
    await check();
    const finished = await runCli(ARCHIVE(k.dir), ENV);
    expect(finished.code, finished.stderr).toBe(0);
    await check();
  });

  it('rebuild-manifest that must rewrite the draining file (a drained key written hot again): the new file holds only its cold rows', async () => {
    const k = await killedMidDrain();
    // The app writes a drained row's key again, straight into SQLite: the hot row wins, so the file loses that key.
    const db = new Database(path.join(k.dir, 'hot.db'));
    db.pragma('busy_timeout = 5000');
    const drainedKeys = (await readTierState(k.dir)).coldKeys;
    // A drained key of the draining file: cold, not hot, inside the file's time range.
    const [lo, hi] = [k.file.min_time_ms / 1000, k.file.max_time_ms / 1000];
    const store0 = await openTierStore({ config: testConfig(k.dir, ENV) });
    const fileRows = (await store0.bridge.query('task_queue', { where: { created_at: { gte: lo, lte: hi } }, columns: ['id', 'created_at'] })) as { id: bigint; created_at: bigint }[];
    await store0.close();
    const hotNow = new Set((db.prepare('SELECT id FROM task_queue').pluck().safeIntegers(true).all() as bigint[]).map(String));
    const reinsert = fileRows.find((r) => !hotNow.has(String(r.id)) && drainedKeys.includes(r.id))!;
    expect(reinsert, 'a drained row of the draining file').toBeDefined();
    db.prepare(`INSERT INTO task_queue (id, task_type, status, priority, msg_id, payload, attempts, created_at) VALUES (?, 'forward', 'written-again', 0, 1, '{}', 0, ?)`).run(reinsert.id, reinsert.created_at);
    db.close();

    const rebuilt = await runCli(['--data-dir', k.dir, 'rebuild-manifest', '--json'], ENV);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    const check = async (): Promise<void> => {
      expectExactlyOnce(await readTierState(k.dir), k.total);
      const store = await openTierStore({ config: testConfig(k.dir, ENV) });
      try {
        const all = await store.bridge.query('task_queue', { columns: ['id', 'status'] });
        expect(new Set(all.map((r) => r.id)).size).toBe(all.length);
        expect(all.length).toBe(k.total);
        expect(all.map((r) => Number(r.id))).not.toContain(k.gone);
        expect(all.find((r) => Number(r.id) === k.changed)?.status).toBe('changed-after-commit');
        expect(all.find((r) => r.id === reinsert.id)?.status).toBe('written-again');
      } finally {
        await store.close();
      }
    };
    const hot = new Database(path.join(k.dir, 'hot.db'), { readonly: true });
    const listed = hot.prepare(`SELECT path, drained_rows FROM _tierdb_files WHERE state = 'live' AND min_time_ms = ?`).all(k.file.min_time_ms) as { path: string; drained_rows: number | null }[];
    hot.close();
    expect(listed).toHaveLength(1);
    expect(listed[0]!.path, 'the draining file was rewritten').not.toBe(k.file.path);
    expect(listed[0]!.drained_rows).toBeNull();
    await check();
    const finished = await runCli(ARCHIVE(k.dir), ENV);
    expect(finished.code, finished.stderr).toBe(0);
    await check();
  });

  it('rebuild-manifest after the kill and the loss of every manifest row: nothing lost, nothing twice; only the row the app deleted before its drain comes back (the documented rule)', async () => {
    const k = await killedMidDrain();
    const db = new Database(path.join(k.dir, 'hot.db'));
    db.prepare('DELETE FROM _tierdb_files').run();
    db.close();
    const rebuilt = await runCli(['--data-dir', k.dir, 'rebuild-manifest', '--json'], ENV);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    // Without the file's row the drained prefix is unknown: hot rows win, every other row of the file is listed cold.
    expectExactlyOnce(await readTierState(k.dir), k.total + 1);
    const store = await openTierStore({ config: testConfig(k.dir, ENV) });
    try {
      const all = await store.bridge.query('task_queue', { columns: ['id', 'status'] });
      expect(new Set(all.map((r) => r.id)).size).toBe(all.length);
      expect(all.length).toBe(k.total + 1);
      expect(all.find((r) => Number(r.id) === k.changed)?.status).toBe('changed-after-commit');
      expect(all.map((r) => Number(r.id))).toContain(k.gone);
    } finally {
      await store.close();
    }
  });

  it('Iceberg publish after the kill: never of a draining file; the maintenance run finishes the drain first; icebird reads each cold row once, never the deleted one', { timeout: 120_000 }, async () => {
    const k = await killedMidDrain();
    const { url } = await serveFolder(path.join(k.dir, 'cold'));
    const store = await openTierStore({ config: testConfig(k.dir, { ...ENV, ICEBERG_LOCATION: url }) });
    try {
      // A draining file is never handed to an Iceberg reader, even by a publish outside a maintenance run (which finishes drains first).
      await expect(
        publishIcebergTable({ raw: store.hot.raw, cold: store.cold, config: store.config, logger: store.logger, engine: undefined as never, runId: 0, runToken: 'x' } as never, store.table('task_queue')),
      ).rejects.toThrow(/still being drained/);
      const report = await store.maintenance.publishIceberg({ tables: ['task_queue'] });
      expect(report.tables.map((t) => [t.table, t.status, t.error])).toEqual([['task_queue', 'published', undefined]]);
      expect(store.hot.raw.prepare(`SELECT count(*) FROM _tierdb_files WHERE drained_rows IS NOT NULL`).pluck().get()).toBe(0);
      const rows = await expectIcebirdEqualsBridge(store, 'task_queue', `${url}/task_queue/_iceberg`);
      const hot = store.hot.raw.prepare('SELECT count(*) FROM task_queue').pluck().get() as number;
      expect(rows + hot).toBe(k.total);
      await expectBridgeExact(store, k);
    } finally {
      await store.close();
    }
  });
});
