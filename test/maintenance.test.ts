/**
 * store.maintenance on real SQLite, Parquet and DuckDB: compaction, retention
 * and restore each keep every row exactly once (or, for retention, exactly
 * gone), and the bridge answers as a never-archived oracle does.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../src/cold/DuckDbEngine.js';
import { duckdbVersion, fingerprintSql, fingerprintText, recordedFingerprint, ROW_FINGERPRINT_KEY } from '../src/cold/rowFingerprint.js';
import { validateColdFiles } from '../src/archive/validateColdFiles.js';
import { listFiles } from '../src/manifest/manifestFiles.js';
import { listRetentionEntries } from '../src/manifest/retentionLedger.js';
import { wechatPreset } from '../src/presets/wechat/wechatPreset.js';
import { openTierStore, type TierStore } from '../src/store/openTierStore.js';
import { DAY_S, expectExactlyOnce, NOW_MS, NOW_S, readTierState, seedTaskQueue } from './archiveFixtures.js';
import { tempDir, testConfig } from './helpers.js';

const ROWS = 3000;
const DAYS = 60;
const ENV = { HOT_DAYS_TASK: '7' };
const stores: TierStore[] = [];

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

async function open(dir: string, env: Record<string, string> = ENV): Promise<TierStore> {
  const store = await openTierStore({ config: testConfig(dir, env), preset: wechatPreset });
  stores.push(store);
  return store;
}

/** Every task_queue row as SQLite holds it before anything moves (the oracle), by id. */
function oracleRows(dir: string): Record<string, unknown>[] {
  const db = new Database(path.join(dir, 'hot.db'), { readonly: true });
  try {
    return db.prepare('SELECT * FROM task_queue ORDER BY id').safeIntegers(true).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

async function bridgeRows(store: TierStore): Promise<Record<string, unknown>[]> {
  return store.bridge.query('task_queue', { orderBy: [{ id: 'asc' }] });
}

async function archived(dir: string): Promise<{ store: TierStore; oracle: Record<string, unknown>[] }> {
  await seedTaskQueue(dir, ROWS, DAYS);
  const oracle = oracleRows(dir);
  const store = await open(dir);
  await store.archiver.run({ now: NOW_MS });
  return { store, oracle };
}

describe('compaction', () => {
  it('merges the small day files into few files, every row exactly once, answers equal the oracle, validate clean', async () => {
    const dir = tempDir();
    const { store, oracle } = await archived(dir);
    const before = listFiles(store.hot.raw, 'task_queue', ['live']);
    expect(before.length).toBeGreaterThan(40);
    const dry = await store.maintenance.compact({ dryRun: true, minFiles: 2 });
    expect(dry.tables[0]!.groups.length).toBeGreaterThan(0);
    expect(listFiles(store.hot.raw, 'task_queue', ['live']).length).toBe(before.length);

    const report = await store.maintenance.compact({ minFiles: 2 });
    const t = report.tables.find((x) => x.table === 'task_queue')!;
    const after = listFiles(store.hot.raw, 'task_queue', ['live']);
    expect(after.length).toBeLessThanOrEqual(2);
    expect(t.filesAfter).toBe(after.length);
    expect(t.rowsOut).toBe(before.reduce((n, f) => n + f.rows, 0));
    expect(t.duplicatesDropped).toBe(0);
    // Merged files live in the deepest Hive folder that holds their range; retired inputs stay on disk for running queries.
    for (const f of after) expect(f.path).toMatch(/^task_queue\/year=2026\/(month=\d\d\/)?part-/);
    const retired = listFiles(store.hot.raw, 'task_queue', ['retired']);
    expect(retired.length).toBe(before.length);
    for (const f of retired) expect(existsSync(path.join(dir, 'cold', f.path))).toBe(true);

    expect(await bridgeRows(store)).toEqual(oracle);
    const counts = await store.bridge.sql('SELECT status, count(*) AS n, sum(priority) AS p FROM task_queue GROUP BY 1 ORDER BY 1');
    const groups = new Map<string, { status: string; n: bigint; p: bigint }>();
    for (const r of oracle) {
      const g = groups.get(String(r.status)) ?? { status: String(r.status), n: 0n, p: 0n };
      g.n++;
      g.p += r.priority as bigint;
      groups.set(g.status, g);
    }
    expect(counts).toEqual([...groups.values()].sort((a, b) => (a.status < b.status ? -1 : 1)));
    const engine = await DuckDbEngine.create({ memoryLimit: '256MB', threads: 1 });
    try {
      const v = await validateColdFiles(store.hot.raw, engine, store.cold);
      expect(v.problems).toEqual([]);
      expect(v.duplicateKeys).toEqual([]);
    } finally {
      engine.close();
    }
    expectExactlyOnce(await readTierState(dir), ROWS);
    const run = store.hot.raw.prepare(`SELECT kind, status FROM _tierdb_runs WHERE id = ?`).get(report.runId) as { kind: string; status: string };
    expect(run).toEqual({ kind: 'compact', status: 'ok' });
  });

  it('a key in two cold files (re-archived after a backfill): the newest run wins, reported, exactly once', async () => {
    const dir = tempDir();
    const { store } = await archived(dir);
    const victim = store.hot.raw.prepare(`SELECT * FROM _tierdb_files WHERE table_name = 'task_queue' AND state = 'live' ORDER BY min_time_ms LIMIT 1`).get() as { min_time_ms: number };
    const id = BigInt(ROWS); // the oldest row: cold
    const [cold] = await store.bridge.query('task_queue', { where: { id } });
    expect(cold).toBeDefined();
    // Bypassing the append path's cold-key check, as a raw app write would: the key is hot and cold, then archived again.
    store.hot.raw.prepare(`INSERT INTO task_queue (id, task_type, status, priority, msg_id, payload, attempts, created_at) VALUES (?, 'forward', 'redone', 9, NULL, 'new', 0, ?)`).run(id, Math.floor(victim.min_time_ms / 1000));
    await store.archiver.run({ now: NOW_MS });
    const report = await store.maintenance.compact({ minFiles: 2 });
    expect(report.tables.find((x) => x.table === 'task_queue')!.duplicatesDropped).toBe(1);
    const rows = await store.bridge.query('task_queue', { where: { id } });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.status).toBe('redone');
    expectExactlyOnce(await readTierState(dir), ROWS);
  });
  it('row fingerprints in the footers: the archiver records them, a rewrite adds them, a footer that lies is not believed', async () => {
    const dir = tempDir();
    const { store, oracle } = await archived(dir);
    const live = listFiles(store.hot.raw, 'task_queue', ['live']);
    const local = (f: { path: string }) => path.join(dir, 'cold', f.path);
    const engine = await DuckDbEngine.create({ memoryLimit: '256MB', threads: 1 });
    const fromValues = async (files: string[], columns: string[]) => {
      const [row] = (await engine.connection.runAndReadAll(fingerprintSql(columns, `read_parquet([${files.map((f) => `'${f}'`).join(', ')}])`))).getRowsJS();
      return fingerprintText(row![0], row![1]);
    };
    try {
      const columns = (JSON.parse(live[0]!.schema_json) as { name: string }[]).map((c) => c.name);
      // Every archived file records the fingerprint of its values.
      expect(await recordedFingerprint(engine.connection, live.map(local))).toBe(await fromValues(live.map(local), columns));
      // One file's footer made to lie (its values unchanged, the manifest's sha256 updated as for a file another tool wrote).
      const victim = live.find((f) => f.rows > 10)!;
      const file = local(victim);
      await engine.connection.run(
        `COPY (SELECT * FROM read_parquet('${file}')) TO '${file}.lie' (FORMAT parquet, COMPRESSION zstd, KV_METADATA {'${ROW_FINGERPRINT_KEY}': 'duckdb ${await duckdbVersion(engine.connection)} ${victim.rows}:12345'})`,
      );
      renameSync(`${file}.lie`, file);
      store.hot.raw.prepare(`UPDATE _tierdb_files SET file_sha256 = ?, bytes = ? WHERE id = ?`).run(createHash('sha256').update(readFileSync(file)).digest('hex'), statSync(file).size, victim.id);
      expect(await recordedFingerprint(engine.connection, live.map(local))).not.toBe(await fromValues(live.map(local), columns));

      const report = await store.maintenance.compact({ minFiles: 2 });
      expect(report.tables.find((x) => x.table === 'task_queue')!.error).toBeUndefined();
      // The merged files' footers record their values' fingerprint (for the next rewrite).
      const after = listFiles(store.hot.raw, 'task_queue', ['live']);
      expect(after.length).toBeLessThan(live.length);
      for (const f of after) expect(await recordedFingerprint(engine.connection, [local(f)])).toBe(await fromValues([local(f)], columns));
    } finally {
      engine.close();
    }
    expect(await bridgeRows(store)).toEqual(oracle);
    expectExactlyOnce(await readTierState(dir), ROWS);
  });

  it('inputs whose rows are not in (time, key) order (written by another tool): the merged file is still sorted and verified', async () => {
    const dir = tempDir();
    const { store, oracle } = await archived(dir);
    const live = listFiles(store.hot.raw, 'task_queue', ['live']);
    // Day files' time ranges do not meet, so compaction reads them in time order without a sort; one of them is reversed here.
    const victim = live.find((f) => f.rows > 10)!;
    const file = path.join(dir, 'cold', victim.path);
    const engine = await DuckDbEngine.create({ memoryLimit: '256MB', threads: 1 });
    try {
      await engine.connection.run(`COPY (SELECT * FROM read_parquet('${file}') ORDER BY created_at DESC, id DESC) TO '${file}.rev' (FORMAT parquet, COMPRESSION zstd)`);
    } finally {
      engine.close();
    }
    renameSync(`${file}.rev`, file);
    store.hot.raw.prepare(`UPDATE _tierdb_files SET file_sha256 = ?, bytes = ? WHERE id = ?`).run(createHash('sha256').update(readFileSync(file)).digest('hex'), statSync(file).size, victim.id);

    const report = await store.maintenance.compact({ minFiles: 2 });
    const t = report.tables.find((x) => x.table === 'task_queue')!;
    expect(t.error).toBeUndefined();
    expect(t.rowsOut).toBe(live.reduce((n, f) => n + f.rows, 0));
    const check = await DuckDbEngine.create({ memoryLimit: '256MB', threads: 1 });
    try {
      for (const f of listFiles(store.hot.raw, 'task_queue', ['live'])) {
        const local = path.join(dir, 'cold', f.path);
        const [row] = (
          await check.connection.runAndReadAll(
            `SELECT count(*) FILTER (WHERE pt IS NOT NULL AND (created_at, id) < (pt, pi)) FROM (SELECT created_at, id, lag(created_at) OVER w AS pt, lag(id) OVER w AS pi FROM read_parquet('${local}', file_row_number = true) WINDOW w AS (ORDER BY file_row_number))`,
          )
        ).getRowsJS();
        expect([f.path, row![0]]).toEqual([f.path, 0n]);
      }
    } finally {
      check.close();
    }
    expect(await bridgeRows(store)).toEqual(oracle);
    expectExactlyOnce(await readTierState(dir), ROWS);
  });
});

describe('retention', () => {
  it('removes exactly the cold rows older than coldDays, rewrites the straddling file, records the ledger; hot rows untouched', async () => {
    const dir = tempDir();
    const { store, oracle } = await archived(dir);
    await store.maintenance.compact({ minFiles: 2 });
    await store.close();
    stores.length = 0;
    const kept = await open(dir, { ...ENV, COLD_DAYS_TASK_QUEUE: '30' });
    const cutoffS = Math.floor(Date.UTC(2026, 4, 16) / 1000); // UTC midnight of NOW − 30 days
    expect(kept.table('task_queue').coldDays).toBe(30);

    const dry = await kept.maintenance.applyRetention({ now: NOW_MS, dryRun: true });
    expect(dry.tables[0]!.cutoff).toBe(new Date(cutoffS * 1000).toISOString());
    expect(await bridgeRows(kept)).toEqual(oracle);

    const report = await kept.maintenance.applyRetention({ now: NOW_MS });
    const t = report.tables[0]!;
    const expected = oracle.filter((r) => Number(r.created_at) >= cutoffS);
    expect(t.rowsRemoved).toBe(oracle.length - expected.length);
    expect(t.filesRewritten).toBeGreaterThan(0);
    expect(await bridgeRows(kept)).toEqual(expected);
    const [entry] = listRetentionEntries(kept.hot.raw, 'task_queue');
    expect(entry).toMatchObject({ table: 'task_queue', runId: report.runId, cutoffMs: cutoffS * 1000, rows: t.rowsRemoved, files: t.paths.length });
    expect(entry!.maxTimeMs).toBeLessThan(cutoffS * 1000);
    // A second run has nothing left to do.
    expect((await kept.maintenance.applyRetention({ now: NOW_MS })).tables[0]!.rowsRemoved).toBe(0);
  });

  it('refuses coldDays below hotDays, and a bad COLD_DAYS value, naming them', async () => {
    const dir = tempDir();
    await seedTaskQueue(dir, 10, 2);
    await expect(open(dir, { ...ENV, COLD_DAYS_TASK_QUEUE: '3' })).rejects.toThrow(/coldDays 3 \(COLD_DAYS_TASK_QUEUE\) is less than hotDays 7/);
    await expect(open(dir, { ...ENV, COLD_DAYS_TASK_QUEUE: 'abc' })).rejects.toThrow(/COLD_DAYS_TASK_QUEUE="abc" is invalid/);
  });
});

describe('restore', () => {
  it('moves the rows of a range back into SQLite exactly once; a key that is hot already keeps its hot row', async () => {
    const dir = tempDir();
    const { store, oracle } = await archived(dir);
    const since = NOW_S - 40 * DAY_S;
    const until = NOW_S - 35 * DAY_S;
    const inRange = oracle.filter((r) => Number(r.created_at) >= since && Number(r.created_at) < until);
    expect(inRange.length).toBeGreaterThan(100);
    // One key of the range made hot again by hand, with another status: that row must win.
    const dupe = inRange[3]!;
    store.hot.raw.prepare(`INSERT INTO task_queue (id, task_type, status, priority, msg_id, payload, attempts, created_at) VALUES (?, ?, 'hot-version', ?, ?, ?, ?, ?)`).run(
      dupe.id, dupe.task_type, dupe.priority, dupe.msg_id, dupe.payload, dupe.attempts, dupe.created_at,
    );
    const dry = await store.maintenance.restore({ table: 'task_queue', since: new Date(since * 1000), until: new Date(until * 1000), dryRun: true });
    expect(dry).toMatchObject({ rowsFound: inRange.length, rowsRestored: inRange.length - 1, hotWins: 1 });

    const report = await store.maintenance.restore({ table: 'task_queue', since: new Date(since * 1000).toISOString(), until: new Date(until * 1000).toISOString(), now: NOW_MS });
    expect(report).toMatchObject({ rowsFound: inRange.length, rowsRestored: inRange.length - 1, hotWins: 1 });
    const hot = store.hot.raw.prepare('SELECT count(*) FROM task_queue WHERE created_at >= ? AND created_at < ?').pluck().get(since, until);
    expect(hot).toBe(inRange.length);
    const expected = oracle.map((r) => (r.id === dupe.id ? { ...r, status: 'hot-version' } : r));
    expect(await bridgeRows(store)).toEqual(expected);
    expectExactlyOnce(await readTierState(dir), ROWS);
    // The restored rows are older than hot_days: the next archive moves them out again, still exactly once.
    expect(report.olderThanHotDays).toBe(inRange.length);
    await store.archiver.run({ now: NOW_MS });
    expect(await bridgeRows(store)).toEqual(expected);
    expectExactlyOnce(await readTierState(dir), ROWS);
  });
});

describe('maintenance runs are notified', () => {
  it('compaction, retention and restore each end with a RunSummary of their kind; dry runs and a held lease notify nothing', async () => {
    const dir = tempDir();
    const { store } = await archived(dir);
    const seen: { kind: string; status: string; rows: number }[] = [];
    store.notifier.onRunEnd((s) => void seen.push({ kind: s.kind, status: s.status, rows: s.totals.rows }));
    await store.maintenance.compact({ dryRun: true, minFiles: 2 });
    expect(seen).toEqual([]);
    const compact = await store.maintenance.compact({ minFiles: 2 });
    const restore = await store.maintenance.restore({ table: 'task_queue', since: new Date((NOW_S - 20 * DAY_S) * 1000), until: new Date((NOW_S - 19 * DAY_S) * 1000), now: NOW_MS });
    expect(seen).toEqual([
      { kind: 'compact', status: 'ok', rows: compact.tables.reduce((n, t) => n + t.rowsOut, 0) },
      { kind: 'restore', status: 'ok', rows: restore.rowsRestored },
    ]);
  });
});

describe('bad input to maintenance', () => {
  it('target size 0 or abc, an unknown table, since after until, a time that is no time: clear errors, nothing changed', async () => {
    const dir = tempDir();
    const { store, oracle } = await archived(dir);
    const version = () => store.hot.raw.prepare(`SELECT value FROM _tierdb_meta WHERE key = 'manifest_version'`).pluck().get();
    const v0 = version();
    await expect(store.maintenance.compact({ targetSize: 0 })).rejects.toThrow(/target size 0 is invalid/);
    await expect(store.maintenance.compact({ targetSize: 'abc' })).rejects.toThrow(/target size "abc" is invalid/);
    await expect(store.maintenance.compact({ tables: ['nope'] })).rejects.toThrow(/table "nope" is not registered/);
    await expect(store.maintenance.restore({ table: 'nope', since: '2026-01-01', until: '2026-02-01' })).rejects.toThrow(/table "nope" is not registered/);
    await expect(store.maintenance.restore({ table: 'task_queue', since: '2026-03-01', until: '2026-02-01' })).rejects.toThrow(/since 2026-03-01T00:00:00.000Z is not before until 2026-02-01/);
    await expect(store.maintenance.restore({ table: 'task_queue', since: 'yesterday', until: '2026-02-01' })).rejects.toThrow(/since "yesterday" is not a time/);
    expect(version()).toBe(v0);
    expect(await bridgeRows(store)).toEqual(oracle);
  });
});
