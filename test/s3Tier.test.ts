/**
 * The whole store with its cold tier in a bucket (TIERDB_COLD_URL on an s3rver
 * at 127.0.0.1): archive, compaction, restore and the bridge give the answers
 * of a never-archived oracle; queries read only cached copies of the planned
 * files (a cap smaller than one query's files, a corrupted cached copy); the
 * endpoint going away in the middle of a run loses nothing and the next run
 * completes; a slow upload's object is left alone by recovery until the safety
 * age has passed.
 */
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MIGRATE_FAILPOINTS, RECOVERY_FAILPOINTS, SWAP_FAILPOINTS } from '../src/archive/failpoint.js';
import { S3ColdStore } from '../src/cold/S3ColdStore.js';
import { DuckDbEngine, sqlString } from '../src/cold/DuckDbEngine.js';
import { wechatPreset } from '../src/presets/wechat/wechatPreset.js';
import { openTierStore, type TierStore } from '../src/store/openTierStore.js';
import { DAY_S, NOW_MS, NOW_S, expectExactlyOnce, readTierState, runCli, seedTaskQueue } from './archiveFixtures.js';
import { TemplateFolders } from './templateFolders.js';
import { tempDir, testConfig, waitPastRetiredGrace } from './helpers.js';
import { listTreeFiles } from './listTreeFiles.js';
import { startS3Server, TEST_BUCKET } from './s3Server.js';

const ENV = { HOT_DAYS_TASK: '7', ARCHIVE_BATCH_SIZE: '300', LOG_LEVEL: 'silent', ARCHIVE_QUERY_CACHE_ENABLED: 'false' };
const NOW_ISO = new Date(NOW_MS).toISOString();

const QUERIES = [
  `SELECT count(*) AS n, sum(id) AS ids, sum(priority) AS p FROM task_queue`,
  `SELECT status, count(*) AS n, min(created_at) AS lo, max(msg_id) AS hi FROM task_queue GROUP BY status ORDER BY status`,
  `SELECT id, msg_id, payload, created_at FROM task_queue WHERE created_at >= ${NOW_S - 12 * DAY_S} AND created_at < ${NOW_S - 11 * DAY_S} ORDER BY id`,
  `SELECT id, status FROM task_queue ORDER BY created_at DESC, id LIMIT 5 OFFSET 700`,
];

async function expectOracle(store: TierStore, oracle: Database.Database): Promise<void> {
  for (const sql of QUERIES) expect(await store.bridge.sql(sql), sql).toStrictEqual(oracle.prepare(sql).safeIntegers(true).all());
}

async function seededWithOracle(dir: string, env: Record<string, string>, rows = 3000): Promise<Database.Database> {
  await seedTaskQueue(dir, rows, 30, env);
  const oraclePath = path.join(dir, 'oracle.db');
  const db = new Database(path.join(dir, 'hot.db'), { readonly: true });
  await db.backup(oraclePath);
  db.close();
  return new Database(oraclePath, { readonly: true });
}

function s3Of(store: TierStore): S3ColdStore {
  expect(store.cold).toBeInstanceOf(S3ColdStore);
  return store.cold as S3ColdStore;
}

function listedFiles(dir: string): number {
  const db = new Database(path.join(dir, 'hot.db'), { readonly: true });
  try {
    return db.prepare(`SELECT count(*) FROM _tierdb_files`).pluck().get() as number;
  } finally {
    db.close();
  }
}

/**
 * A local store with live and retired files (seeded with its oracle.db beside it, archived, compacted), built once
 * for the file into a template: the migrate-cold tests each get a copy instead of seeding, archiving and compacting again.
 * Its retired files stay listed while younger than TIERDB_RETIRED_GRACE_SECONDS (600 s by default): a template older
 * than half of that is built again, so a copy always holds them as a freshly compacted store does.
 */
const LOCAL_TEMPLATE_MAX_AGE_MS = 300_000;
let localTemplate: Promise<{ dir: string; listed: number; builtAt: number }> | undefined;
const folders = new TemplateFolders();
afterAll(() => {
  localTemplate = undefined;
  folders.removeAll();
});

async function buildLocalTemplate(): Promise<{ dir: string; listed: number; builtAt: number }> {
  const dir = folders.make('tierdb-migrate-template-');
  (await seededWithOracle(dir, ENV)).close();
  const local = await openTierStore({ config: testConfig(dir, ENV), preset: wechatPreset });
  try {
    await local.archiver.run({ now: NOW_MS });
    await local.maintenance.compact({ minFiles: 2 }); // retired files are listed too: they move with the tree
    return { dir, listed: local.hot.raw.prepare(`SELECT count(*) FROM _tierdb_files`).pluck().get() as number, builtAt: Date.now() };
  } finally {
    await local.close();
  }
}

/** A copy of the local template in `dir`; returns its oracle and how many files the manifest lists. */
async function localTree(dir: string): Promise<{ oracle: Database.Database; listed: number }> {
  localTemplate ??= buildLocalTemplate();
  let t = await localTemplate;
  if (Date.now() - t.builtAt > LOCAL_TEMPLATE_MAX_AGE_MS) t = await (localTemplate = buildLocalTemplate());
  cpSync(t.dir, dir, { recursive: true });
  return { oracle: new Database(path.join(dir, 'oracle.db'), { readonly: true }), listed: t.listed };
}

describe('the cold tier in a bucket', () => {
  it('archive, compaction and restore into the bucket; the bridge answers as the never-archived oracle, reading cached copies of the planned files only', async () => {
    const server = await startS3Server();
    const dir = tempDir();
    const env = { ...ENV, ...server.env('app/history'), TIERDB_RETIRED_GRACE_SECONDS: '1' };
    const oracle = await seededWithOracle(dir, env);
    let store = await openTierStore({ config: testConfig(dir, env), preset: wechatPreset });
    try {
      const report = await store.archiver.run({ now: NOW_MS });
      expect(report.tables.find((t) => t.table === 'task_queue')!.rowsMoved).toBeGreaterThan(2000);
      expect(existsSync(path.join(dir, 'cold')), 'nothing in a local cold folder').toBe(false);
      const objects = await store.cold.list();
      expect(objects.length).toBe(store.hot.raw.prepare(`SELECT count(*) FROM _tierdb_files WHERE state = 'live'`).pluck().get());
      expect(readdirSync(path.join(server.dir, 'tierdb-test', 'app', 'history', 'task_queue')).length).toBeGreaterThan(0);
      await expectOracle(store, oracle);
    } finally {
      await store.close();
    }

    // Another process's view: an empty cache, filled by the queries with only the files they plan.
    store = await openTierStore({ config: testConfig(dir, { ...env, TIERDB_COLD_CACHE_DIR: path.join(dir, 'other-cache') }), preset: wechatPreset });
    try {
      const oneDay = { where: { created_at: { gte: NOW_S - 12 * DAY_S, lt: NOW_S - 11 * DAY_S } }, orderBy: [{ id: 'asc' as const }] };
      expect(await store.bridge.query('task_queue', oneDay)).toStrictEqual(
        oracle.prepare(`SELECT * FROM task_queue WHERE created_at >= ? AND created_at < ? ORDER BY id`).safeIntegers(true).all(NOW_S - 12 * DAY_S, NOW_S - 11 * DAY_S),
      );
      const planned = (await store.bridge.explain('task_queue', oneDay)).coldFiles.length;
      expect(planned).toBeGreaterThan(0);
      expect(s3Of(store).cacheStats().fetches).toBe(planned);
      expect(planned).toBeLessThan((await store.cold.list()).length);
      await expectOracle(store, oracle);
      const fetched = s3Of(store).cacheStats().fetches;
      await expectOracle(store, oracle);
      expect(s3Of(store).cacheStats().fetches, 'a warm cache fetches nothing').toBe(fetched);

      // Compaction and restore against the bucket: same answers; retired objects go after the grace delay.
      const compacted = await store.maintenance.compact({ minFiles: 2 });
      expect(compacted.tables.reduce((a, t) => a + t.filesBefore - t.filesAfter, 0)).toBeGreaterThan(0);
      await expectOracle(store, oracle);
      const restored = await store.maintenance.restore({ table: 'task_queue', since: new Date((NOW_S - 12 * DAY_S) * 1000), until: new Date((NOW_S - 10 * DAY_S) * 1000) });
      expect(restored.rowsRestored).toBeGreaterThan(0);
      await expectOracle(store, oracle);
      await waitPastRetiredGrace(store.hot.raw, 1000, 200);
      await store.archiver.run({ now: NOW_MS });
      const live = new Set(store.hot.raw.prepare(`SELECT path FROM _tierdb_files WHERE state = 'live'`).pluck().all() as string[]);
      const retired = store.hot.raw.prepare(`SELECT count(*) FROM _tierdb_files WHERE state = 'retired'`).pluck().get();
      expect(retired).toBe(0);
      expect((await store.cold.list()).map((o) => o.path).filter((p) => !live.has(p)), 'objects the manifest does not list').toEqual([]);
      await expectOracle(store, oracle);
    } finally {
      await store.close();
      oracle.close();
    }
    expectExactlyOnce(await readTierState(dir, 'task_queue', 'id', env), 3000);
  });

  it('a cache cap smaller than one query\'s files gives the same answers, and the cache ends under the cap', async () => {
    const server = await startS3Server();
    const dir = tempDir();
    const env = { ...ENV, ...server.env() };
    const oracle = await seededWithOracle(dir, env);
    const writer = await openTierStore({ config: testConfig(dir, env), preset: wechatPreset });
    await writer.archiver.run({ now: NOW_MS });
    await writer.close();
    const store = await openTierStore({ config: testConfig(dir, { ...env, TIERDB_COLD_CACHE_BYTES: '1KB', TIERDB_COLD_CACHE_DIR: path.join(dir, 'tiny') }), preset: wechatPreset });
    try {
      await expectOracle(store, oracle);
      await expectOracle(store, oracle);
      const stats = s3Of(store).cacheStats();
      expect(stats.evicted).toBeGreaterThan(0);
      expect(stats.bytes).toBeLessThanOrEqual(1000);
      expect(readdirSync(path.join(dir, 'tiny', 'files'))).toEqual([]);
    } finally {
      await store.close();
      oracle.close();
    }
  });

  it('a cached copy corrupted on disk is detected and fetched again: the answer stays exact', async () => {
    const server = await startS3Server();
    const dir = tempDir();
    const env = { ...ENV, ...server.env() };
    const oracle = await seededWithOracle(dir, env);
    const store = await openTierStore({ config: testConfig(dir, env), preset: wechatPreset });
    try {
      await store.archiver.run({ now: NOW_MS });
      await expectOracle(store, oracle);
      const cache = s3Of(store).cache;
      const files = (await store.cold.list()).map((o) => o.path);
      // One copy overwritten with garbage, another truncated.
      writeFileSync(cache.pathOf(files[0]!), 'garbage');
      writeFileSync(cache.pathOf(files[1]!), '');
      await expectOracle(store, oracle);
      expect(s3Of(store).cacheStats().corrupt).toBe(2);
    } finally {
      await store.close();
      oracle.close();
    }
  });

  it('the server stopped in the middle of a run: the run fails naming the endpoint, nothing is lost, the next run completes', async () => {
    const server = await startS3Server();
    const dir = tempDir();
    const env = { ...ENV, ...server.env(), ARCHIVE_BATCH_SIZE: '100' };
    const total = await seedTaskQueue(dir, 12000, 60, env);
    const args = ['--data-dir', dir, 'archive', '--table', 'task_queue', '--now', NOW_ISO];
    const running = runCli(args, env);
    const deadline = Date.now() + 60_000;
    while (listedFiles(dir) < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await server.stop();
    const failed = await running;
    expect(failed.code, failed.stderr).toBe(1);
    expect(failed.stdout + failed.stderr).toContain(server.endpoint);

    // While it is down: the run fails at start naming the endpoint; rows stay hot.
    const down = await runCli(args, env);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(server.endpoint);

    await server.start();
    expectExactlyOnce(await readTierState(dir, 'task_queue', 'id', env), total);
    // An upload the server took before it stopped is an unlisted leftover of the failed run: recovery
    // removes it once older than the safety age (0 here, so this run's recovery does).
    const finished = await runCli(args, { ...env, TIERDB_COLD_ORPHAN_AGE_SECONDS: '0' });
    expect(finished.code, finished.stderr).toBe(0);
    const state = await readTierState(dir, 'task_queue', 'id', env);
    expectExactlyOnce(state, total);
    expect([...state.treeFiles].sort(), 'objects the manifest does not list').toEqual([...state.liveFiles].sort());
  }, 180_000);

  it('an unlisted object of a crashed run is left alone while younger than the safety age, and removed once older', async () => {
    const server = await startS3Server();
    const dir = tempDir();
    const env = { ...ENV, ...server.env(), TIERDB_COLD_ORPHAN_AGE_SECONDS: '3600' };
    const total = await seedTaskQueue(dir, 2000, 30, env);
    const crashed = await runCli(['--data-dir', dir, 'archive', '--table', 'task_queue', '--now', NOW_ISO], { ...env, TIERDB_FAILPOINT: 'after-rename', TIERDB_FAILPOINT_HIT: '2' });
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    let state = await readTierState(dir, 'task_queue', 'id', env);
    const orphans = state.treeFiles.filter((f) => !state.liveFiles.includes(f));
    expect(orphans.length).toBeGreaterThan(0);

    // Opening for writing runs recovery.
    const young = await openTierStore({ config: testConfig(dir, env), preset: wechatPreset });
    await young.close();
    state = await readTierState(dir, 'task_queue', 'id', env);
    expect(state.treeFiles.filter((f) => orphans.includes(f)), 'young orphans kept').toEqual(orphans);
    expectExactlyOnce(state, total);

    const old = await openTierStore({ config: testConfig(dir, { ...env, TIERDB_COLD_ORPHAN_AGE_SECONDS: '0' }), preset: wechatPreset });
    await old.close();
    state = await readTierState(dir, 'task_queue', 'id', env);
    expect(state.treeFiles.filter((f) => orphans.includes(f)), 'old orphans removed').toEqual([]);
    expectExactlyOnce(state, total);
  });
});

describe('tierdb validate with the cold tier in a bucket', () => {
  it('names a damaged and a missing object by URL; a corrupted cached copy is fetched again, not reported', async () => {
    const server = await startS3Server();
    const dir = tempDir();
    const env = { ...ENV, ...server.env('v') };
    await seedTaskQueue(dir, 2000, 30, env);
    const store = await openTierStore({ config: testConfig(dir, env), preset: wechatPreset });
    let files: string[];
    try {
      await store.archiver.run({ now: NOW_MS });
      files = (await store.cold.list()).map((o) => o.path);
      writeFileSync(s3Of(store).cache.pathOf(files[2]!), 'garbage in the cache only');
      const client = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
      const size = (await store.cold.stat(files[0]!))!.bytes;
      await client.send(new PutObjectCommand({ Bucket: TEST_BUCKET, Key: `v/${files[0]!}`, Body: Buffer.alloc(size, 1), Metadata: { sha256: 'x' } }));
      await client.send(new DeleteObjectCommand({ Bucket: TEST_BUCKET, Key: `v/${files[1]!}` }));
      client.destroy();
    } finally {
      await store.close();
    }
    const r = await runCli(['--data-dir', dir, 'validate', '--json'], env);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { problems: { path: string; problem: string }[]; filesChecked: number };
    expect(report.problems.map((p) => p.path).sort()).toEqual([`s3://${TEST_BUCKET}/v/${files[0]!}`, `s3://${TEST_BUCKET}/v/${files[1]!}`].sort());
    expect(report.problems.find((p) => p.path.endsWith(files[0]!))!.problem).toMatch(/damaged/);
    expect(report.problems.find((p) => p.path.endsWith(files[1]!))!.problem).toMatch(/missing/);
  });
});

describe('maintenance crashes with the cold tier in a bucket', () => {
  const MAINTENANCE_ENV = { ...ENV, TIERDB_RETIRED_GRACE_SECONDS: '1' };
  const MAINTENANCE_ROWS = 2000;
  /** A data folder and the folder of its (stopped) server's objects: each test starts a server of its own on a copy. */
  interface Template {
    dir: string;
    s3Dir: string;
    /** When its last run ended (Date.now()). */
    readyAt: number;
  }
  // Built once for the file: seeded and archived into the bucket; for the retirement point also compacted
  // (files retired, removed by the next command's recovery once the grace second has passed).
  let archived: Template;
  let retired: Template;
  const maintenanceFolders = new TemplateFolders();

  async function buildTemplate(retire: boolean): Promise<Template> {
    const dir = maintenanceFolders.make('tierdb-s3-template-');
    const server = await startS3Server({ stopAfterTest: false });
    maintenanceFolders.adopt(server.dir);
    try {
      const env = { ...MAINTENANCE_ENV, ...server.env() };
      await seedTaskQueue(dir, MAINTENANCE_ROWS, 30, env);
      const store = await openTierStore({ config: testConfig(dir, env), preset: wechatPreset });
      try {
        await store.archiver.run({ now: NOW_MS });
        if (retire) await store.maintenance.compact({ minFiles: 2, targetSize: 8 * 1024 });
      } finally {
        await store.close();
      }
    } finally {
      await server.stop();
    }
    return { dir, s3Dir: server.dir, readyAt: Date.now() };
  }

  beforeAll(async () => {
    archived = await buildTemplate(false);
    retired = await buildTemplate(true);
  }, 120_000);
  afterAll(() => {
    maintenanceFolders.removeAll();
  });

  for (const point of [...SWAP_FAILPOINTS, ...RECOVERY_FAILPOINTS]) {
    it(`SIGKILL at ${point} of tierdb compact: every row exactly once, only listed objects after recovery, the rerun completes`, async () => {
      const template = point === 'retired-after-delete' ? retired : archived;
      const dir = tempDir();
      cpSync(template.dir, dir, { recursive: true });
      const server = await startS3Server({ from: template.s3Dir });
      const env = { ...MAINTENANCE_ENV, ...server.env() };
      const total = MAINTENANCE_ROWS;
      // The grace second of the retired files (the only thing the crashed command's recovery waits for) has passed.
      const wait = template.readyAt + 1100 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const args = ['--data-dir', dir, 'compact', '--min-files', '2', '--no-retention'];
      const crashed = await runCli(args, { ...env, TIERDB_FAILPOINT: point });
      expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
      expectExactlyOnce(await readTierState(dir, 'task_queue', 'id', env), total);

      const reopened = await openTierStore({ config: testConfig(dir, env), preset: wechatPreset });
      await reopened.close();
      const recovered = await readTierState(dir, 'task_queue', 'id', env);
      expectExactlyOnce(recovered, total);
      const db = new Database(path.join(dir, 'hot.db'), { readonly: true });
      const listed = new Set(db.prepare(`SELECT path FROM _tierdb_files WHERE state IN ('live', 'retired')`).pluck().all() as string[]);
      const retiredLeft = db.prepare(`SELECT count(*) FROM _tierdb_files WHERE state = 'retired' AND retired_at_ms < ?`).pluck().get(Date.now() - 1000);
      db.close();
      expect(recovered.treeFiles.filter((f) => !listed.has(f)), 'objects the manifest does not list').toEqual([]);
      expect(recovered.tmpFiles).toEqual([]);
      if (point === 'retired-after-delete') expect(retiredLeft, 'retired rows whose objects are gone').toBe(0);

      const finished = await runCli(args, env);
      expect(finished.code, finished.stderr).toBe(0);
      expectExactlyOnce(await readTierState(dir, 'task_queue', 'id', env), total);
    });
  }
});

describe('tierdb migrate-cold', () => {
  it('copies a local tree to the bucket, verifies it, switches the manifest, removes the local files; the store then opens only with the bucket', async () => {
    const server = await startS3Server();
    const dir = tempDir();
    const { oracle, listed } = await localTree(dir);

    const s3Env = server.env('moved');
    const { TIERDB_COLD_URL: to, ...awsEnv } = s3Env;
    const migrated = await runCli(['--data-dir', dir, 'migrate-cold', '--to', to!, '--json'], { ...ENV, ...awsEnv });
    expect(migrated.code, migrated.stderr).toBe(0);
    const report = JSON.parse(migrated.stdout) as { files: number; uploaded: number; localRemoved: number; to: string };
    expect(report).toMatchObject({ files: listed, uploaded: listed, localRemoved: listed, to });
    expect(listTreeFiles(path.join(dir, 'cold'))).toEqual([]);

    // The local folder is no longer this store's tree.
    await expect(openTierStore({ config: testConfig(dir, ENV), preset: wechatPreset })).rejects.toThrow(/keeps its cold tier in s3:\/\/tierdb-test\/moved/);
    // Run again: the manifest names the bucket already; nothing to copy, nothing left to remove.
    const again = await runCli(['--data-dir', dir, 'migrate-cold', '--to', to!, '--json'], { ...ENV, ...awsEnv });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ alreadyMigrated: true, files: listed, uploaded: 0, localRemoved: 0 });

    const env = { ...ENV, ...s3Env };
    const store = await openTierStore({ config: testConfig(dir, { ...env, TIERDB_COLD_CACHE_DIR: path.join(dir, 'fresh-cache') }), preset: wechatPreset });
    try {
      await expectOracle(store, oracle);
      expect((await store.cold.list()).length).toBe(listed);
    } finally {
      await store.close();
      oracle.close();
    }
    expectExactlyOnce(await readTierState(dir, 'task_queue', 'id', env), 3000);
  });

  it('a store whose manifest lists no file may change its cold tier; once it lists files, the other tier is refused (older stores count as local)', async () => {
    const server = await startS3Server();
    const dir = tempDir();
    await seedTaskQueue(dir, 500, 30, ENV); // opened locally first: nothing archived
    const env = { ...ENV, ...server.env('switch') };
    const store = await openTierStore({ config: testConfig(dir, env), preset: wechatPreset });
    await store.archiver.run({ now: NOW_MS });
    await store.close();
    await expect(openTierStore({ config: testConfig(dir, ENV), preset: wechatPreset })).rejects.toThrow(/keeps its cold tier in s3:\/\/tierdb-test\/switch/);
    // A store from before object storage (no cold_location recorded) with files is a local one.
    const db = new Database(path.join(dir, 'hot.db'));
    db.prepare(`DELETE FROM _tierdb_meta WHERE key = 'cold_location'`).run();
    db.close();
    await expect(openTierStore({ config: testConfig(dir, env), preset: wechatPreset })).rejects.toThrow(/keeps its cold tier in the local folder/);
  });

  it('refuses a bucket prefix that holds another store\'s files, switching nothing', async () => {
    const server = await startS3Server();
    const other = tempDir();
    await seedTaskQueue(other, 500, 30, { ...ENV, ...server.env('taken') });
    const o = await openTierStore({ config: testConfig(other, { ...ENV, ...server.env('taken') }), preset: wechatPreset });
    await o.archiver.run({ now: NOW_MS });
    await o.close();

    const dir = tempDir();
    await seedTaskQueue(dir, 500, 30, ENV);
    const local = await openTierStore({ config: testConfig(dir, ENV), preset: wechatPreset });
    await local.archiver.run({ now: NOW_MS });
    await local.close();
    const { TIERDB_COLD_URL: to, ...awsEnv } = server.env('taken');
    const refused = await runCli(['--data-dir', dir, 'migrate-cold', '--to', to!], { ...ENV, ...awsEnv });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('belongs to another store');
    expect(listTreeFiles(path.join(dir, 'cold')).length).toBeGreaterThan(0);
    const reopened = await openTierStore({ config: testConfig(dir, ENV), preset: wechatPreset });
    await reopened.close();
  });
});

describe('changes with the cold tier in a bucket', () => {
  it('delete, update and erase against the bucket: answers equal the oracle; the erased rows are in no object and no cached copy', async () => {
    const server = await startS3Server();
    const dir = tempDir();
    const env = { ...ENV, ...server.env('app/history'), TIERDB_ERASE_GRACE_SECONDS: '0' };
    (await seededWithOracle(dir, env)).close();
    const oracle = new Database(path.join(dir, 'oracle.db'));
    const store = await openTierStore({ config: testConfig(dir, env), preset: wechatPreset });
    try {
      await store.archiver.run({ now: NOW_MS });
      await expectOracle(store, oracle);
      const deleted = await store.delete('task_queue', { where: { priority: 4, created_at: { lt: NOW_S - 10 * DAY_S } } });
      oracle.prepare('DELETE FROM task_queue WHERE priority = 4 AND created_at < ?').run(NOW_S - 10 * DAY_S);
      expect(deleted.cold).toBeGreaterThan(0);
      const updated = await store.update('task_queue', { where: { priority: 3 }, set: { status: 'moved' } });
      oracle.prepare(`UPDATE task_queue SET status = 'moved' WHERE priority = 3`).run();
      expect(updated.cold).toBeGreaterThan(0);
      await expectOracle(store, oracle);
      const receipt = await store.erase('task_queue', { where: { priority: 1 } });
      oracle.prepare('DELETE FROM task_queue WHERE priority = 1').run();
      expect(receipt.status).toBe('complete');
      expect(receipt.coldRows).toBeGreaterThan(0);
      await expectOracle(store, oracle);
      const objects = await store.cold.list();
      const live = new Set(store.hot.raw.prepare(`SELECT path FROM _tierdb_files`).pluck().all() as string[]);
      expect(objects.map((o) => o.path).filter((p) => !live.has(p)), 'objects the manifest does not list').toEqual([]);
      for (const f of receipt.files) expect(objects.some((o) => o.path === f.oldPath), f.oldPath).toBe(false);
      // No object in the bucket and no cached copy holds a row of priority 1 (s3rver keeps objects as plain files).
      const walk = (d: string): string[] =>
        existsSync(d) ? readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)])) : [];
      const parquet = [...walk(server.dir), ...walk(store.config.coldCacheDir)].filter((f) => readFileSync(f).subarray(0, 4).toString('latin1') === 'PAR1');
      expect(parquet.length).toBeGreaterThan(0);
      const engine = await DuckDbEngine.create({ memoryLimit: '256MB', threads: 1 });
      try {
        for (const f of parquet) {
          const rows = await engine.connection.runAndReadAll(`SELECT count(*) FROM read_parquet(${sqlString(f)}) WHERE priority = 1`);
          expect(Number(rows.getRowsJS()[0]![0]), f).toBe(0);
        }
      } finally {
        engine.close();
      }
    } finally {
      await store.close();
      oracle.close();
    }
  });
});

describe('tierdb migrate-cold killed', () => {
  async function expectInBucket(dir: string, s3Env: Record<string, string>, oracle: Database.Database, listed: number): Promise<void> {
    expect(listTreeFiles(path.join(dir, 'cold')), 'local files left').toEqual([]);
    expect(existsSync(path.join(dir, 'cold', '_tierdb_store.json')), 'the local marker').toBe(false);
    const env = { ...ENV, ...s3Env };
    const store = await openTierStore({ config: testConfig(dir, { ...env, TIERDB_COLD_CACHE_DIR: tempDir() }), preset: wechatPreset });
    try {
      await expectOracle(store, oracle);
      expect((await store.cold.list()).length).toBe(listed);
    } finally {
      await store.close();
    }
    expectExactlyOnce(await readTierState(dir, 'task_queue', 'id', env), 3000);
  }

  for (const point of MIGRATE_FAILPOINTS) {
    it(`SIGKILL at ${point}: every row exactly once; the rerun of migrate-cold completes, the local files removed only once confirmed in the bucket`, async () => {
      const server = await startS3Server();
      const dir = tempDir();
      const { oracle, listed } = await localTree(dir);
      const s3Env = server.env('moved');
      const { TIERDB_COLD_URL: to, ...awsEnv } = s3Env;
      const args = ['--data-dir', dir, 'migrate-cold', '--to', to!, '--json'];
      const crashed = await runCli(args, { ...ENV, ...awsEnv, TIERDB_FAILPOINT: point, TIERDB_FAILPOINT_HIT: point === 'migrate-after-put' ? '3' : '1' });
      expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
      try {
        if (point === 'migrate-after-put') {
          // Not switched: the store still reads (and opens only with) its local tree; three objects wait in the bucket.
          expectExactlyOnce(await readTierState(dir, 'task_queue', 'id', ENV), 3000);
          expect(listTreeFiles(path.join(dir, 'cold')).length).toBe(listed);
          const still = await openTierStore({ config: testConfig(dir, ENV), preset: wechatPreset });
          try {
            await expectOracle(still, oracle);
            expect((await still.cold.list()).length).toBe(listed);
          } finally {
            await still.close();
          }
        } else {
          // Switched: the bucket holds every file, the local copies are all still there, the local tree is refused.
          expectExactlyOnce(await readTierState(dir, 'task_queue', 'id', { ...ENV, ...s3Env }), 3000);
          expect(listTreeFiles(path.join(dir, 'cold')).length).toBe(listed);
          await expect(openTierStore({ config: testConfig(dir, ENV), preset: wechatPreset })).rejects.toThrow(/keeps its cold tier in s3:\/\/tierdb-test\/moved/);
        }

        const rerun = await runCli(args, { ...ENV, ...awsEnv });
        expect(rerun.code, rerun.stderr).toBe(0);
        const report = JSON.parse(rerun.stdout) as { files: number; uploaded: number; alreadyThere: number; localRemoved: number; alreadyMigrated: boolean };
        if (point === 'migrate-after-put') {
          expect(report).toMatchObject({ alreadyMigrated: false, files: listed, alreadyThere: 3, uploaded: listed - 3, localRemoved: listed });
        } else {
          expect(report).toMatchObject({ alreadyMigrated: true, files: listed, uploaded: 0, localRemoved: listed });
        }
        await expectInBucket(dir, s3Env, oracle, listed);
      } finally {
        oracle.close();
      }
    });
  }

  it('killed after the switch, the next open with the bucket removes the local copies confirmed there and keeps the rest', async () => {
    const server = await startS3Server();
    const dir = tempDir();
    const { oracle, listed } = await localTree(dir);
    const s3Env = server.env('moved');
    const { TIERDB_COLD_URL: to, ...awsEnv } = s3Env;
    const crashed = await runCli(['--data-dir', dir, 'migrate-cold', '--to', to!], { ...ENV, ...awsEnv, TIERDB_FAILPOINT: 'migrate-after-switch' });
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    const cold = path.join(dir, 'cold');
    const files = listTreeFiles(cold).sort();
    expect(files.length).toBe(listed);
    // One local copy no longer the file the manifest lists (another size), one whose object is gone, one file nobody listed.
    appendFileSync(path.join(cold, files[0]!), 'more bytes');
    const client = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    await client.send(new DeleteObjectCommand({ Bucket: TEST_BUCKET, Key: `moved/${files[1]!}` }));
    client.destroy();
    mkdirSync(path.join(cold, 'notes'), { recursive: true });
    writeFileSync(path.join(cold, 'notes', 'mine.parquet'), 'not a listed file');

    const env = { ...ENV, ...s3Env };
    const store = await openTierStore({ config: testConfig(dir, env), preset: wechatPreset });
    await store.close();
    expect(listTreeFiles(cold).sort(), 'only what could not be confirmed, and what the manifest does not list').toEqual([files[0]!, files[1]!, 'notes/mine.parquet'].sort());
    expect(existsSync(path.join(cold, '_tierdb_store.json')), 'the marker stays while listed files are kept').toBe(true);
    oracle.close();
  });
});

describe('bad object-storage settings and a failed upload', () => {
  const cases: { name: string; env: (e: Record<string, string>) => Record<string, string>; names: RegExp }[] = [
    { name: 'a bad TIERDB_COLD_URL', env: (e) => ({ ...e, TIERDB_COLD_URL: 's3://Bad_Bucket!/x' }), names: /TIERDB_COLD_URL/ },
    { name: 'a bad AWS_ENDPOINT_URL', env: (e) => ({ ...e, AWS_ENDPOINT_URL: 'ftp//nowhere' }), names: /AWS_ENDPOINT_URL/ },
    {
      name: 'no credentials',
      env: ({ AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, ...e }) => {
        // Nothing of the SDK's chain either: no shared files, no profile, no instance or container role.
        const home = tempDir();
        return { ...e, HOME: home, AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'none'), AWS_CONFIG_FILE: path.join(home, 'none'), AWS_EC2_METADATA_DISABLED: 'true' };
      },
      names: /AWS_ACCESS_KEY_ID/,
    },
  ];
  for (const c of cases) {
    it(`${c.name}: tierdb archive fails at start naming the variable, and nothing changes`, async () => {
      const server = await startS3Server();
      const dir = tempDir();
      const env = { ...ENV, ...server.env('settings') };
      const total = await seedTaskQueue(dir, 1000, 30, env);
      const before = readFileSync(path.join(dir, 'hot.db'));
      const r = await runCli(['--data-dir', dir, 'archive', '--table', 'task_queue', '--now', NOW_ISO], c.env(env));
      expect(r.code, r.stdout).toBe(1);
      expect(r.stderr).toMatch(c.names);
      expect(r.stderr.split('\n').filter((l) => l.trim() !== '').length, r.stderr).toBeLessThan(6);
      expect(readFileSync(path.join(dir, 'hot.db')).equals(before), 'the hot file is untouched').toBe(true);
      const prefixDir = path.join(server.dir, TEST_BUCKET, 'settings');
      expect(existsSync(prefixDir) ? readdirSync(prefixDir).filter((f) => !f.startsWith('_tierdb_store.json')) : [], 'nothing new in the bucket').toEqual([]);
      expectExactlyOnce(await readTierState(dir, 'task_queue', 'id', env), total);
      expect((await readTierState(dir, 'task_queue', 'id', env)).hotKeys.length).toBe(total);
    });
  }

  it('an upload that fails (the server stopped as the first file goes up) fails the run naming the table and the endpoint; every row stays hot; the next run completes', async () => {
    const server = await startS3Server();
    const dir = tempDir();
    const env = { ...ENV, ...server.env() };
    const total = await seedTaskQueue(dir, 2000, 30, env);
    const store = await openTierStore({ config: testConfig(dir, env), preset: wechatPreset });
    const realSend = S3Client.prototype.send;
    const send = vi.spyOn(S3Client.prototype, 'send').mockImplementation(async function (this: S3Client, command: unknown, ...rest: unknown[]) {
      if (command instanceof PutObjectCommand && command.input.Key?.endsWith('.parquet')) await server.stop();
      return (realSend as (...a: unknown[]) => Promise<unknown>).call(this, command, ...rest);
    } as typeof realSend);
    try {
      const report = await store.archiver.run({ now: NOW_MS });
      send.mockRestore();
      const t = report.tables.find((x) => x.table === 'task_queue')!;
      expect(t.rowsMoved).toBe(0);
      expect(t.error).toContain(server.endpoint);
      expect(t.error).toMatch(/cannot upload to s3:\/\/tierdb-test\/cold\/task_queue\//);
      const run = store.hot.raw.prepare(`SELECT status, error FROM _tierdb_runs WHERE id = ?`).get(report.runId) as { status: string; error: string };
      expect(run.status).toBe('failed');
      expect(run.error).toMatch(new RegExp(`^task_queue: .*${server.endpoint.replace(/[.]/g, '\\.')}`));
      expect(store.hot.raw.prepare(`SELECT count(*) FROM task_queue`).pluck().get()).toBe(total);
      expect(store.hot.raw.prepare(`SELECT count(*) FROM _tierdb_files`).pluck().get()).toBe(0);
    } finally {
      send.mockRestore();
      await store.close();
    }
    await server.start();
    const state = await readTierState(dir, 'task_queue', 'id', env);
    expect(state.hotKeys.length).toBe(total);
    expectExactlyOnce(state, total);
    const finished = await runCli(['--data-dir', dir, 'archive', '--table', 'task_queue', '--now', NOW_ISO], env);
    expect(finished.code, finished.stderr).toBe(0);
    expectExactlyOnce(await readTierState(dir, 'task_queue', 'id', env), total);
  });
});
