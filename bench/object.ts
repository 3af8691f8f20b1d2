/**
 * Object-storage benchmark (`npm run bench -- object`): the cold tier in a
 * bucket (TIERDB_COLD_URL on an s3rver in its own process at 127.0.0.1)
 * against the same store with the local folder, measured in the same run
 * (the machine is shared: compare ratios).
 *
 * Data: the archive benchmark's demo `messages` base file (BENCH_OBJECT_ROWS,
 * default 1,000,000, over 400 days: one file per archived day).
 *
 *  1. archive: `archiver.run({ tables: ['messages'] })` into the bucket vs into
 *     the local folder, BENCH_OBJECT_ROUNDS (2) each, alternating; medians.
 *     Goal: bucket ≤ 1.3 × local.
 *  2. one-day cold query (bridge.query: one archived day of messages, all its
 *     rows): local vs the bucket with an empty cache (each run a day no query
 *     read before) vs the bucket with those days cached (the same days again).
 *     Goals: cache cold ≤ 1.5 ×, warm ≤ 1.1 × local.
 *  3. all-history GROUP BY (bridge.sql over every file), warm: goal ≤ 1.1 ×.
 *  4. bytes fetched from the bucket per query (the cache's counters);
 *  5. the bucket against the manifest: objects and bytes under the prefix
 *     (one LIST) vs the manifest's live + retired files (they must agree).
 *
 * The query stores read with ARCHIVE_QUERY_CACHE_ENABLED=false (every query
 * reads the files) and a cache folder of their own (the archiver's uploads
 * are adopted into the data folder's cache; the query side starts empty).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import registry from '../archive-registry.js';
import { S3ColdStore } from '../src/cold/S3ColdStore.js';
import { openTierStore, type TierStore } from '../src/store/openTierStore.js';
import { ARCHIVE_DIR, ARCHIVE_NOW, benchConfig, DAY_MS, ensureBaseDb, freshCopy, median } from './archiveData.js';
import { percentile, round, writeResult } from './lib.js';

const log = (s: string): void => void process.stderr.write(`${s}\n`);
const BUCKET = 'tierdb-bench';

function intEnv(name: string, def: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? def : Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return n;
}

async function startServer(dir: string): Promise<{ child: ChildProcess; port: number }> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const child = fork(path.join(import.meta.dirname, 's3rverChild.ts'), [dir, BUCKET], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code}`)));
  });
  return { child, port };
}

function s3Env(port: number, prefix: string): Record<string, string> {
  return {
    TIERDB_COLD_URL: `s3://${BUCKET}/${prefix}`,
    AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    TIERDB_S3_FORCE_PATH_STYLE: 'true',
  };
}

async function archiveOnce(dir: string, env: Record<string, string>): Promise<{ seconds: number; files: number; bytes: number }> {
  const store = await openTierStore({ config: benchConfig(dir, env), registry });
  try {
    const t0 = performance.now();
    const report = await store.archiver.run({ now: ARCHIVE_NOW, tables: ['messages'] });
    const seconds = (performance.now() - t0) / 1000;
    const t = report.tables[0]!;
    if (t.error) throw new Error(`archiving failed: ${t.error}`);
    return { seconds, files: t.files, bytes: t.bytesOut };
  } finally {
    await store.close();
  }
}

interface Timing {
  p50: number;
  mean: number;
  runs: number;
}
const summarize = (ms: number[]): Timing => {
  const s = [...ms].sort((a, b) => a - b);
  return { p50: round(percentile(s, 50)), mean: round(s.reduce((a, b) => a + b, 0) / s.length), runs: s.length };
};

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

export async function run(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const rows = intEnv('BENCH_OBJECT_ROWS', 1_000_000);
  const rounds = intEnv('BENCH_OBJECT_ROUNDS', 2);
  const days = intEnv('BENCH_OBJECT_QUERY_DAYS', 20);
  const base = await ensureBaseDb(rows, 400, log);
  const serverDir = path.join(ARCHIVE_DIR, 'object-s3rver');
  const { child, port } = await startServer(serverDir);
  try {
    // 1. Archive speed.
    const local: number[] = [];
    const bucket: number[] = [];
    let files = 0;
    let bytes = 0;
    let localDir = '';
    let s3Dir = '';
    let s3Prefix = '';
    for (let i = 0; i < rounds; i++) {
      for (const which of i % 2 === 0 ? (['local', 's3'] as const) : (['s3', 'local'] as const)) {
        const dir = freshCopy(base, `object-${which}-${i}`);
        if (which === 'local') {
          const r = await archiveOnce(dir, {});
          local.push(r.seconds);
          localDir = dir;
          log(`  archive to the local folder: ${r.seconds.toFixed(1)} s, ${r.files} files`);
        } else {
          const prefix = `run-${i}`;
          const r = await archiveOnce(dir, s3Env(port, prefix));
          bucket.push(r.seconds);
          files = r.files;
          bytes = r.bytes;
          s3Dir = dir;
          s3Prefix = prefix;
          log(`  archive to the bucket: ${r.seconds.toFixed(1)} s, ${r.files} files, ${(r.bytes / 1e6).toFixed(1)} MB`);
        }
      }
    }
    const archive = {
      rows,
      files,
      mb: round(bytes / 1e6, 1),
      localSeconds: round(median(local), 2),
      bucketSeconds: round(median(bucket), 2),
      ratio: round(median(bucket) / median(local), 2),
      goal: '<= 1.3',
    };

    // 2-4. Queries: a store on each tree; the bucket's reads through a cache folder of its own.
    const queryEnv = { ARCHIVE_QUERY_CACHE_ENABLED: 'false' };
    const localStore = await openTierStore({ config: benchConfig(localDir, queryEnv), registry, readonly: true });
    const cacheDir = path.join(s3Dir, 'bench-query-cache');
    rmSync(cacheDir, { recursive: true, force: true });
    const s3Store: TierStore = await openTierStore({ config: benchConfig(s3Dir, { ...queryEnv, ...s3Env(port, s3Prefix), TIERDB_COLD_CACHE_DIR: cacheDir }), registry, readonly: true });
    const s3 = s3Store.cold as S3ColdStore;
    try {
      const firstDay = Math.floor(ARCHIVE_NOW / DAY_MS) - 300;
      const dayQuery = (d: number) => ({ where: { create_time: { gte: ((firstDay + d) * DAY_MS) / 1000, lt: ((firstDay + d + 1) * DAY_MS) / 1000 } } });
      // Warm the local page cache and both DuckDB instances (a day outside the measured ones).
      await localStore.bridge.query('messages', dayQuery(days + 5));
      await s3Store.bridge.query('messages', dayQuery(days + 5));
      const localDay: number[] = [];
      const coldDay: number[] = [];
      const warmDay: number[] = [];
      const fetchedPerColdQuery: number[] = [];
      for (let d = 0; d < days; d++) {
        localDay.push(await timed(() => localStore.bridge.query('messages', dayQuery(d))));
        const before = s3.cacheStats().fetchedBytes;
        coldDay.push(await timed(() => s3Store.bridge.query('messages', dayQuery(d))));
        fetchedPerColdQuery.push(s3.cacheStats().fetchedBytes - before);
      }
      const fetchedBeforeWarm = s3.cacheStats().fetchedBytes;
      for (let d = 0; d < days; d++) {
        localDay.push(await timed(() => localStore.bridge.query('messages', dayQuery(d))));
        warmDay.push(await timed(() => s3Store.bridge.query('messages', dayQuery(d))));
      }
      const warmFetched = s3.cacheStats().fetchedBytes - fetchedBeforeWarm;

      const groupBy = 'SELECT msg_type, count(*) AS n, count(DISTINCT from_username) AS senders FROM messages GROUP BY msg_type ORDER BY msg_type';
      const beforeAll = s3.cacheStats().fetchedBytes;
      const firstAll = await timed(() => s3Store.bridge.sql(groupBy));
      const allFetched = s3.cacheStats().fetchedBytes - beforeAll;
      const localAll: number[] = [];
      const warmAll: number[] = [];
      const slowRuns = intEnv('BENCH_OBJECT_SLOW_RUNS', 8);
      const beforeWarmAll = s3.cacheStats().fetchedBytes;
      for (let i = 0; i < slowRuns; i++) {
        if (i % 2 === 0) {
          localAll.push(await timed(() => localStore.bridge.sql(groupBy)));
          warmAll.push(await timed(() => s3Store.bridge.sql(groupBy)));
        } else {
          warmAll.push(await timed(() => s3Store.bridge.sql(groupBy)));
          localAll.push(await timed(() => localStore.bridge.sql(groupBy)));
        }
      }
      const warmAllFetched = s3.cacheStats().fetchedBytes - beforeWarmAll;
      const same = JSON.stringify(await localStore.bridge.sql(groupBy), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)) ===
        JSON.stringify(await s3Store.bridge.sql(groupBy), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
      // The bucket against the manifest: every object listed, every listed file an object.
      const objects = await s3.list();
      const manifest = s3Store.hot.raw
        .prepare(`SELECT state, count(*) AS files, coalesce(sum(bytes), 0) AS bytes FROM _tierdb_files WHERE state IN ('live', 'retired') GROUP BY state`)
        .all() as { state: string; files: number; bytes: number }[];
      const of = (state: string) => manifest.find((m) => m.state === state) ?? { files: 0, bytes: 0 };
      const listedPaths = new Set(s3Store.hot.raw.prepare(`SELECT path FROM _tierdb_files WHERE state IN ('live', 'retired')`).pluck().all() as string[]);
      const bucketVsManifest = {
        bucketObjects: objects.length,
        bucketBytes: objects.reduce((a, o) => a + o.bytes, 0),
        manifestLive: { files: of('live').files, bytes: of('live').bytes },
        manifestRetired: { files: of('retired').files, bytes: of('retired').bytes },
        unlistedObjects: objects.filter((o) => !listedPaths.has(o.path)).length,
        listedButMissing: [...listedPaths].filter((p) => !objects.some((o) => o.path === p)).length,
      };
      const l = summarize(localDay);
      const c = summarize(coldDay);
      const w = summarize(warmDay);
      const la = summarize(localAll);
      const wa = summarize(warmAll);
      writeResult('object', {
        server: 's3rver (npm) in its own process on 127.0.0.1: a protocol stand-in, not a real object store; both share the machine\'s 2 cores',
        archive,
        oneDayQuery: {
          what: `bridge.query: every message of one archived day (one file each), ${days} different days`,
          local: l,
          bucketCacheCold: c,
          bucketCacheWarm: w,
          ratioCold: { p50: round(c.p50 / l.p50, 2), goal: '<= 1.5' },
          ratioWarm: { p50: round(w.p50 / l.p50, 2), goal: '<= 1.1' },
          bytesFetchedPerColdQuery: Math.round(fetchedPerColdQuery.reduce((a, b) => a + b, 0) / fetchedPerColdQuery.length),
          bytesFetchedPerWarmQuery: Math.round(warmFetched / days),
        },
        allHistoryGroupBy: {
          what: groupBy,
          files,
          firstRunMs: round(firstAll, 1),
          bytesFetchedFirstRun: allFetched,
          bytesFetchedPerWarmRun: Math.round(warmAllFetched / slowRuns),
          local: la,
          bucketWarm: wa,
          ratioWarm: { p50: round(wa.p50 / la.p50, 2), goal: '<= 1.1' },
          sameAnswer: same,
        },
        bucketVsManifest,
        cache: s3.cacheStats(),
      });
    } finally {
      await s3Store.close();
      await localStore.close();
    }
  } finally {
    child.send({ stop: true });
    await new Promise((r) => child.once('exit', r));
    rmSync(serverDir, { recursive: true, force: true });
  }
}
