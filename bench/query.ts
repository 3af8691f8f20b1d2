/**
 * Query benchmark (`npm run bench -- query`): the UnifiedQueryBridge against
 * the raw engines, measured in the same run (the machine is shared: compare
 * ratios, not absolute figures).
 *
 * Data: the full demo data set (BENCH_QUERY_ROWS messages, default 1,000,000,
 * over BENCH_QUERY_DAYS = 400 days ending at DATA_NOW; the other demo tables
 * sized from it), archived once with `now = DATA_NOW` (HOT_DAYS_MESSAGES=7, so
 * the last 7 days of messages stay hot). Before archiving, an ORACLE copy of
 * the never-archived hot file is taken with better-sqlite3's `backup`. Built
 * once into bench/data/query/ (gitignored), reused while the generator and
 * migrations are unchanged.
 *
 * Cases (each one: bridge next to the raw engine, same run, interleaved):
 *  - hot-only: last hour of one chatroom, ORDER BY create_time DESC LIMIT 50;
 *    raw = the same SQL on plain better-sqlite3 (archived hot file);
 *  - cold-only: all rows of one archived day, and one chatroom within it;
 *    raw = plain DuckDB `read_parquet([that day's files])`, same filter/order;
 *  - mixed: a range straddling the cutoff; raw = hand-written DuckDB UNION
 *    of the hot rows (read with better-sqlite3, appended into DuckDB, counted)
 *    and the files of the range;
 *  - GROUP BY over all history via bridge.sql; raw = SQLite on the oracle
 *    file, and DuckDB over all files + the hot rows (only the needed column).
 * Plus first-query (cold start) latency on a freshly opened store, and a
 * timing breakdown of where the bridge spends its time.
 *
 * The bridge runs with ARCHIVE_QUERY_CACHE_ENABLED=false (every query reads
 * the files); the cold-only case is also given with the cache on.
 *
 * Env: BENCH_QUERY_ROWS (1000000), BENCH_QUERY_DAYS (400), BENCH_QUERY_RUNS
 * (200, fast cases), BENCH_QUERY_SLOW_RUNS (30, GROUP BY cases).
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual, promisify } from 'node:util';
import Database from 'better-sqlite3';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import registry from '../archive-registry.js';
import { openColdFiles } from '../src/query/openColdFiles.js';
import { absoluteColdPath } from '../src/cold/coldLayout.js';
import { sqlString } from '../src/cold/DuckDbEngine.js';
import { writeDemoData } from '../src/demo/generateDemoData.js';
import { configureConnection } from '../src/hot/HotStore.js';
import { appendRows, createTempTable } from '../src/query/appendRows.js';
import { createBridgeDuckDb } from '../src/query/createBridgeDuckDb.js';
import { decideColumnTypes } from '../src/query/decideColumnTypes.js';
import { planQuery, readShape } from '../src/query/planQuery.js';
import type { QueryOptions, Row } from '../src/query/QueryOptions.js';
import { readLiveFiles } from '../src/query/readLiveFiles.js';
import { readOverlapKeys } from '../src/query/readOverlapKeys.js';
import { runUnifiedQuery } from '../src/query/runUnifiedQuery.js';
import { ColdResultCache } from '../src/query/ColdResultCache.js';
import { coldRelation } from '../src/query/coldRelation.js';
import { readColumns } from '../src/registry/resolveRegistry.js';
import { openTierStore, type TierStore } from '../src/store/openTierStore.js';
import { benchConfig, DATA_NOW } from './archiveData.js';
import { BENCH_DATA_DIR, percentile, previousResult, round, writeResult } from './lib.js';
import { MESSAGE_COLUMNS } from '../src/presets/wechat/messageRow.js';

const log = (s: string): void => void process.stderr.write(`${s}\n`);
const execFileP = promisify(execFile);
const DAY_S = 86_400;
const NOW_S = DATA_NOW / 1000;
/** HOT_DAYS_MESSAGES=7 and DATA_NOW is midnight UTC: every message before this is cold. */
const CUTOFF_S = NOW_S - 7 * DAY_S;
const QUERY_DIR = path.join(BENCH_DATA_DIR, 'query');

function intEnv(name: string, def: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? def : Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return n;
}

// ---------------------------------------------------------------------------
// Data: demo data, oracle copy, archived once.

/**
 * Changes when the generator or the migrations change (as bench/archiveData.ts).
 * Archiver changes that alter the cold layout need `rm -rf bench/data/query`.
 */
export function dataFingerprint(): string {
  const root = path.resolve(import.meta.dirname, '..');
  const files = [
    'src/demo/generateDemoData.ts',
    'src/demo/demoVocabulary.ts',
    'src/demo/random.ts',
    'archive-registry.ts',
  ].map((f) => path.join(root, f));
  for (const dir of ['migrations/app', 'migrations/tierdb']) {
    const abs = path.join(root, dir);
    if (existsSync(abs)) for (const f of readdirSync(abs).sort()) if (f.endsWith('.sql')) files.push(path.join(abs, f));
  }
  const hash = createHash('sha256');
  for (const f of files) if (existsSync(f)) hash.update(path.basename(f)).update(readFileSync(f));
  return hash.digest('hex').slice(0, 12);
}

export interface QueryData {
  dir: string;
  oracle: string;
  rows: number;
  days: number;
  build: Record<string, unknown>;
}

const ENV = { ARCHIVE_QUERY_CACHE_ENABLED: 'false' };

/** bench/data/query/demo-<rows>-<days>-<fp>/{hot.db, cold/, oracle.db, ready.json}. */
export async function ensureQueryData(rows: number, days: number): Promise<QueryData> {
  mkdirSync(QUERY_DIR, { recursive: true });
  const dir = path.join(QUERY_DIR, `demo-${rows}-${days}-${dataFingerprint()}`);
  const oracle = path.join(dir, 'oracle.db');
  const ready = path.join(dir, 'ready.json');
  if (existsSync(ready)) return { dir, oracle, rows, days, build: JSON.parse(readFileSync(ready, 'utf8')) as Record<string, unknown> };
  const tmp = path.join(QUERY_DIR, `build-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const store = await openTierStore({ config: benchConfig(tmp, ENV), registry });
  let build: Record<string, unknown>;
  try {
    const t0 = performance.now();
    let lastLog = 0;
    const summary = writeDemoData(store.hot.raw, {
      rows,
      days,
      seed: 42,
      now: DATA_NOW,
      batchSize: 20_000,
      onProgress: (p) => {
        if (p.done - lastLog >= 250_000) {
          lastLog = p.done;
          log(`  demo data ${p.done}/${p.total}`);
        }
      },
    });
    const genSeconds = (performance.now() - t0) / 1000;
    store.hot.raw.pragma('wal_checkpoint(TRUNCATE)');
    await store.hot.raw.backup(path.join(tmp, 'oracle.db'));
    const o = new Database(path.join(tmp, 'oracle.db'));
    o.pragma('journal_mode = DELETE');
    o.close();
    log(`  generated ${JSON.stringify(summary.rows)} in ${genSeconds.toFixed(1)} s; archiving (now = ${new Date(DATA_NOW).toISOString()})`);
    const t1 = performance.now();
    const report = await store.archiver.run({ now: DATA_NOW });
    const archiveSeconds = (performance.now() - t1) / 1000;
    for (const t of report.tables) if (t.error) throw new Error(`archiving ${t.table} failed: ${t.error}`);
    build = {
      rows: summary.rows,
      generateSeconds: round(genSeconds, 1),
      archiveSeconds: round(archiveSeconds, 1),
      archived: Object.fromEntries(report.tables.map((t) => [t.table, { rowsMoved: t.rowsMoved, files: t.files }])),
    };
    store.hot.raw.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    await store.close();
  }
  writeFileSync(path.join(tmp, 'ready.json'), JSON.stringify(build, null, 2));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  log(`  query data ready in ${dir}`);
  return { dir, oracle, rows, days, build };
}

// ---------------------------------------------------------------------------
// Timing.

interface Timing {
  p50: number;
  p99: number;
  mean: number;
  runs: number;
}

function summarize(ms: number[]): Timing {
  const s = [...ms].sort((a, b) => a - b);
  return { p50: round(percentile(s, 50)), p99: round(percentile(s, 99)), mean: round(s.reduce((a, b) => a + b, 0) / s.length), runs: s.length };
}

/**
 * Times several contenders over `runs` rounds, interleaved (the order rotates
 * every round) so noise from the shared machine falls on all of them alike.
 */
async function race(runs: number, warmup: number, fns: Record<string, () => Promise<unknown> | unknown>): Promise<Record<string, Timing>> {
  const names = Object.keys(fns);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < warmup + runs; i++) {
    for (let j = 0; j < names.length; j++) {
      const name = names[(i + j) % names.length]!;
      const t0 = performance.now();
      await fns[name]!();
      const ms = performance.now() - t0;
      if (i >= warmup) samples[name]!.push(ms);
    }
  }
  return Object.fromEntries(names.map((n) => [n, summarize(samples[n]!)]));
}

function ratio(a: Timing, b: Timing): { p50: number; p99: number } {
  return { p50: round(a.p50 / b.p50, 2), p99: round(a.p99 / b.p99, 2) };
}

// ---------------------------------------------------------------------------
// Raw engines.

/** Row objects as the bridge returns them (INTEGER → bigint). */
function sqliteObjects(stmt: Database.Statement, params: unknown[]): Row[] {
  return stmt.all(...params) as Row[];
}

async function duckObjects(con: DuckDBConnection, sql: string): Promise<Row[]> {
  const reader = await con.runAndReadAll(sql);
  return reader.getRowObjectsJS() as Row[];
}

function fileList(coldDir: string, files: readonly string[]): string {
  return `[${files.map((f) => sqlString(absoluteColdPath(coldDir, f))).join(', ')}]`;
}

/** Compares two answers row for row (order matters); returns a short difference or null. */
function difference(a: readonly Row[], b: readonly Row[]): string | null {
  if (a.length !== b.length) return `${a.length} rows vs ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
    for (const k of keys) {
      const vx = x[k] instanceof Uint8Array ? Buffer.from(x[k] as Uint8Array) : x[k];
      const vy = y[k] instanceof Uint8Array ? Buffer.from(y[k] as Uint8Array) : y[k];
      if (!isDeepStrictEqual(vx, vy)) return `row ${i} column ${k}: ${String(vx)} vs ${String(vy)}`;
    }
  }
  return null;
}

// ---------------------------------------------------------------------------
// The run.

const COLS = MESSAGE_COLUMNS;
const SELECT = COLS.map((c) => `"${c}"`).join(', ');

const SECTIONS = ['hotOnly', 'coldOnly', 'mixed', 'groupBy', 'allHot', 'breakdown', 'firstQuery'];

export async function run(): Promise<void> {
  const rows = intEnv('BENCH_QUERY_ROWS', 1_000_000);
  const days = intEnv('BENCH_QUERY_DAYS', 400);
  const fastRuns = intEnv('BENCH_QUERY_RUNS', 200);
  const slowRuns = intEnv('BENCH_QUERY_SLOW_RUNS', 30);
  const hotRuns = intEnv('BENCH_QUERY_HOT_RUNS', 10);
  const sections = new Set((process.env.BENCH_QUERY_SECTIONS ?? SECTIONS.join(',')).split(',').map((s) => s.trim()));
  for (const s of sections) if (!SECTIONS.includes(s)) throw new Error(`BENCH_QUERY_SECTIONS: unknown section ${s} (sections: ${SECTIONS.join(', ')})`);
  log(`query bench: ${rows} messages over ${days} days`);
  const data = await ensureQueryData(rows, days);
  const config = benchConfig(data.dir, ENV);
  const coldDir = config.coldDir;
  const hotPath = config.hotPath;

  const store = await openTierStore({ config, registry });
  const cachedStore = await openTierStore({ config: benchConfig(data.dir, { ARCHIVE_QUERY_CACHE_ENABLED: 'true' }), registry });
  const hot = new Database(hotPath, { readonly: true, fileMustExist: true });
  hot.defaultSafeIntegers(true);
  const oracle = new Database(data.oracle, { readonly: true, fileMustExist: true });
  oracle.defaultSafeIntegers(true);
  const duckInstance = await DuckDBInstance.create(':memory:', {
    threads: String(config.archiveMaxWorkers),
    memory_limit: config.duckdbMemoryLimit,
  });
  const duck = await duckInstance.connect();

  const results: Record<string, unknown> = {};
  const mismatches: string[] = [];
  const check = (name: string, a: readonly Row[], b: readonly Row[]): void => {
    const d = difference(a, b);
    if (d) mismatches.push(`${name}: ${d}`);
  };

  try {
    const files = hot
      .prepare(`SELECT path, partition, rows, min_time_ms, max_time_ms FROM _tierdb_files WHERE table_name = 'messages' AND state = 'live' ORDER BY min_time_ms`)
      .all() as { path: string; partition: string; rows: bigint; min_time_ms: bigint; max_time_ms: bigint }[];
    const hotCount = Number(hot.prepare('SELECT count(*) FROM messages').pluck().get());
    const fileRows = files.reduce((a, f) => a + Number(f.rows), 0);
    log(`  messages: ${hotCount} hot rows, ${files.length} live files (${fileRows} rows)`);
    results.data = { ...data.build, dir: path.relative(process.cwd(), data.dir), messagesHot: hotCount, messagesCold: fileRows, messagesFiles: files.length };

    // -- hot-only -----------------------------------------------------------
    const hourLo = NOW_S - 3600;
    const room = hot
      .prepare(`SELECT chatroom FROM messages WHERE chatroom IS NOT NULL AND create_time >= ? GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`)
      .pluck()
      .get(hourLo) as string;
    if (sections.has('hotOnly')) {
      const q: QueryOptions = { where: { chatroom: room, create_time: { gte: hourLo } }, orderBy: [{ create_time: 'desc' }], limit: 50 };
      const stmt = hot.prepare(`SELECT ${SELECT} FROM messages WHERE chatroom = ? AND create_time >= ? ORDER BY create_time DESC, msg_id ASC LIMIT 50`);
      const params = [room, hourLo];
      const b = await store.bridge.query('messages', q);
      const r = sqliteObjects(stmt, params);
      check('hotOnly', b, r);
      const explain = await store.bridge.explain('messages', q);
      log(`  hot-only: ${b.length} rows, ${explain.coldFiles.length} cold files`);
      // A long warm-up: the sub-0.1 ms paths are measured once the JIT has compiled them, as in a running app.
      // Five times the runs: each takes ~30 us, and a p50 of 200 samples moved by 10% between runs.
      const t = await race(fastRuns * 5, 2000, {
        bridge: () => store.bridge.query('messages', q),
        sqlite: () => sqliteObjects(stmt, params),
        sqlitePrepareEachTime: () => sqliteObjects(hot.prepare(stmt.source), params),
      });
      results.hotOnly = {
        what: `messages of chatroom ${room} in the last hour, ORDER BY create_time DESC LIMIT 50`,
        rows: b.length,
        coldFiles: explain.coldFiles.length,
        bridge: t.bridge,
        sqlite: t.sqlite,
        sqlitePrepareEachTime: t.sqlitePrepareEachTime,
        ratio: ratio(t.bridge!, t.sqlite!),
        goal: '<= 1.3x',
      };
    }

    // -- cold-only ----------------------------------------------------------
    const dayLo = CUTOFF_S - 100 * DAY_S;
    const dayKey = new Date(dayLo * 1000).toISOString().slice(0, 10);
    const dayFiles = files.filter((f) => f.partition === dayKey).map((f) => f.path);
    const dayRoom = hot
      .prepare(`SELECT chatroom FROM messages WHERE chatroom IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`)
      .pluck()
      .get() as string;
    const coldCases: [string, QueryOptions, string][] = [
      [
        'coldOnlyDay',
        { where: { create_time: { gte: dayLo, lt: dayLo + DAY_S } }, orderBy: [{ create_time: 'asc' }] },
        `WHERE create_time >= ${dayLo} AND create_time < ${dayLo + DAY_S} ORDER BY create_time ASC, msg_id ASC`,
      ],
      [
        'coldOnlyDayChatroom',
        { where: { chatroom: dayRoom, create_time: { gte: dayLo, lt: dayLo + DAY_S } }, orderBy: [{ create_time: 'desc' }] },
        `WHERE chatroom = ${sqlString(dayRoom)} AND create_time >= ${dayLo} AND create_time < ${dayLo + DAY_S} ORDER BY create_time DESC, msg_id ASC`,
      ],
    ];
    for (const [name, q, tail] of sections.has('coldOnly') ? coldCases : []) {
      const sql = `SELECT ${SELECT} FROM read_parquet(${fileList(coldDir, dayFiles)}) ${tail}`;
      const b = await store.bridge.query('messages', q);
      const r = await duckObjects(duck, sql);
      check(name, b, r);
      check(`${name} (oracle)`, b, oracle.prepare(`SELECT ${SELECT} FROM messages ${tail}`).all() as Row[]);
      const explain = await store.bridge.explain('messages', q);
      log(`  ${name}: ${b.length} rows, ${explain.coldFiles.length} cold files (raw: ${dayFiles.length})`);
      const t = await race(fastRuns, 10, {
        bridge: () => store.bridge.query('messages', q),
        bridgeCached: () => cachedStore.bridge.query('messages', q),
        duckdb: () => duckObjects(duck, sql),
      });
      results[name] = {
        what: `${name === 'coldOnlyDay' ? 'all messages' : `chatroom ${dayRoom}`} of ${dayKey} (archived), ordered by create_time`,
        rows: b.length,
        coldFiles: explain.coldFiles.length,
        bridge: t.bridge,
        duckdb: t.duckdb,
        ratio: ratio(t.bridge!, t.duckdb!),
        bridgeWithColdCache: t.bridgeCached,
        ratioWithColdCache: ratio(t.bridgeCached!, t.duckdb!),
        goal: '<= 1.3x',
      };
    }

    // -- mixed ----------------------------------------------------------------
    const mixedCases: [string, QueryOptions, string, number, number][] = [
      [
        'mixedChatroom6Days',
        { where: { chatroom: dayRoom, create_time: { gte: CUTOFF_S - 3 * DAY_S, lt: CUTOFF_S + 3 * DAY_S } }, orderBy: [{ create_time: 'desc' }] },
        `chatroom = ${sqlString(dayRoom)} AND create_time >= ${CUTOFF_S - 3 * DAY_S} AND create_time < ${CUTOFF_S + 3 * DAY_S}`,
        CUTOFF_S - 3 * DAY_S,
        CUTOFF_S + 3 * DAY_S,
      ],
      [
        'mixedAll2Days',
        { where: { create_time: { gte: CUTOFF_S - DAY_S, lt: CUTOFF_S + DAY_S } }, orderBy: [{ create_time: 'desc' }] },
        `create_time >= ${CUTOFF_S - DAY_S} AND create_time < ${CUTOFF_S + DAY_S}`,
        CUTOFF_S - DAY_S,
        CUTOFF_S + DAY_S,
      ],
    ];
    for (const [name, q, filter, lo, hi] of sections.has('mixed') ? mixedCases : []) {
      const rangeFiles = files.filter((f) => Number(f.max_time_ms) >= lo * 1000 && Number(f.min_time_ms) < hi * 1000).map((f) => f.path);
      const hotStmt = hot.prepare(`SELECT ${SELECT} FROM messages WHERE ${filter}`).raw(true);
      const types = decideColumnTypes(readShape(hot, store.table('messages')).shape, []);
      const order = ' ORDER BY create_time DESC, msg_id ASC';
      const rawUnion = async (): Promise<Row[]> => {
        const hotRows = hotStmt.all() as unknown[][];
        await createTempTable(duck, 'h', COLS, types);
        try {
          await appendRows(duck, 'h', types, hotRows);
          return await duckObjects(
            duck,
            `SELECT * FROM (SELECT * FROM h UNION ALL SELECT ${SELECT} FROM read_parquet(${fileList(coldDir, rangeFiles)}) WHERE ${filter})${order}`,
          );
        } finally {
          await duck.run('DROP TABLE h');
        }
      };
      const b = await store.bridge.query('messages', q);
      const r = await rawUnion();
      check(name, b, r);
      check(`${name} (oracle)`, b, oracle.prepare(`SELECT ${SELECT} FROM messages WHERE ${filter}${order}`).all() as Row[]);
      const explain = await store.bridge.explain('messages', q);
      const hotN = (hot.prepare(`SELECT count(*) FROM messages WHERE ${filter}`).pluck().get() as bigint).toString();
      log(`  ${name}: ${b.length} rows (${hotN} hot), ${explain.coldFiles.length} cold files (raw: ${rangeFiles.length})`);
      const t = await race(fastRuns, 10, {
        bridge: () => store.bridge.query('messages', q),
        duckdbUnion: rawUnion,
      });
      results[name] = {
        what: `${name === 'mixedAll2Days' ? 'all messages' : `chatroom ${dayRoom}`} from ${new Date(lo * 1000).toISOString()} to ${new Date(hi * 1000).toISOString()} (cutoff ${new Date(CUTOFF_S * 1000).toISOString()}), ORDER BY create_time DESC`,
        rows: b.length,
        hotRows: Number(hotN),
        coldFiles: explain.coldFiles.length,
        bridge: t.bridge,
        duckdbUnion: t.duckdbUnion,
        ratio: ratio(t.bridge!, t.duckdbUnion!),
        goal: '<= 1.3x',
      };
    }

    // -- GROUP BY over all history -------------------------------------------
    if (sections.has('groupBy')) {
      const text = 'SELECT msg_type, count(*) AS n FROM messages GROUP BY 1 ORDER BY 1';
      const allFiles = fileList(coldDir, files.map((f) => f.path));
      const oracleStmt = oracle.prepare(text);
      const hotTypes = hot.prepare('SELECT msg_type FROM messages').raw(true);
      const rawDuck = async (): Promise<Row[]> => {
        const hotRows = hotTypes.all() as unknown[][];
        await createTempTable(duck, 'h', ['msg_type'], ['BIGINT']);
        try {
          await appendRows(duck, 'h', ['BIGINT'], hotRows);
          return await duckObjects(
            duck,
            `SELECT msg_type, count(*) AS n FROM (SELECT msg_type FROM h UNION ALL SELECT msg_type FROM read_parquet(${allFiles})) GROUP BY 1 ORDER BY 1`,
          );
        } finally {
          await duck.run('DROP TABLE h');
        }
      };
      const textKey = 'SELECT msg_type, count(msg_id) AS n FROM messages GROUP BY 1 ORDER BY 1';
      const b = await store.bridge.sql(text);
      check('groupBy count(msg_id) vs count(*)', await store.bridge.sql(textKey), b);
      const o = oracleStmt.all() as Row[];
      const r = await rawDuck();
      check('groupBy vs oracle', b, o);
      check('groupBy vs duckdb', b, r);
      const t = await race(slowRuns, 3, {
        bridge: () => store.bridge.sql(text),
        bridgeCountKey: () => store.bridge.sql(textKey),
        sqliteOracle: () => oracleStmt.all(),
        duckdbFilesPlusHot: rawDuck,
      });
      results.groupByAllHistory = {
        what: `${text} (bridge.sql) over ${hotCount} hot rows + ${files.length} files`,
        bridge: t.bridge,
        bridgeCountKey: { ...t.bridgeCountKey, what: textKey + ' (no `*`: bridge.sql loads only the named columns)' },
        sqliteOracle: t.sqliteOracle,
        duckdbFilesPlusHot: t.duckdbFilesPlusHot,
        ratioVsSqlite: ratio(t.bridge!, t.sqliteOracle!),
        ratioVsDuckdb: ratio(t.bridge!, t.duckdbFilesPlusHot!),
        ratioCountKeyVsSqlite: ratio(t.bridgeCountKey!, t.sqliteOracle!),
        ratioCountKeyVsDuckdb: ratio(t.bridgeCountKey!, t.duckdbFilesPlusHot!),
        goal: 'faster than SQLite (ratioVsSqlite < 1)',
      };
    }

    // -- GROUP BY over 1M hot rows, nothing archived ---------------------------
    if (sections.has('allHot')) results.groupByAllHot = await allHot(data, hotRuns);

    // -- where the bridge's time goes --------------------------------------
    if (sections.has('breakdown')) results.breakdown = await breakdown(store, config, hot, fastRuns, {
      hotOnly: { where: { chatroom: room, create_time: { gte: hourLo } }, orderBy: [{ create_time: 'desc' }], limit: 50 },
      coldOnlyDay: coldCases[0]![1],
      mixedAll2Days: mixedCases[1]![1],
    });

    // -- first query (cold start) --------------------------------------------
    if (sections.has('firstQuery')) results.firstQuery = await firstQueries(data.dir, coldDir, hotPath, {
      hotOnly: { where: { chatroom: room, create_time: { gte: hourLo } }, orderBy: [{ create_time: 'desc' }], limit: 50 },
      coldOnlyDay: coldCases[0]![1],
      mixedAll2Days: mixedCases[1]![1],
    }, dayFiles);
  } finally {
    duck.closeSync();
    duckInstance.closeSync();
    hot.close();
    oracle.close();
    await store.close();
    await cachedStore.close();
  }
  results.sameAnswers = mismatches.length === 0;
  if (mismatches.length > 0) results.mismatches = mismatches;
  // Each figure says when it was measured: a run of some sections keeps the others' older ones.
  const at = new Date().toISOString();
  for (const [key, value] of Object.entries(results)) {
    if (key !== 'data' && value !== null && typeof value === 'object' && !Array.isArray(value)) (value as Record<string, unknown>).at = at;
  }
  // Some sections named: the last results file keeps the figures of the others (each under its own key).
  const partial = sections.size < SECTIONS.length;
  const { sectionsRun: _s, ...previous } = partial ? previousResult('query') : {};
  writeResult('query', { ...previous, ...results, ...(partial && { sectionsRun: [...sections] }) });
}

// ---------------------------------------------------------------------------
// bridge.sql over a large hot table with nothing archived (a long hot window):
// a copy of the never-archived ORACLE file as the store's hot file, an empty
// cold tree. Times interleaved in this process; peak RSS of each contender in
// a child process of its own (bench/query-child.ts), so figures are clean.

interface ChildRun {
  mode: string;
  rows: number;
  ms: number[];
  rssOpenKiB: number;
  maxRssKiB: number;
}

async function queryChild(dir: string, mode: 'bridge' | 'sqlite', runs: number, sql: string, params: unknown[]): Promise<ChildRun> {
  const { stdout } = await execFileP(
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, 'query-child.ts'), dir, mode, String(runs), sql, JSON.stringify(params)],
    { maxBuffer: 16 * 2 ** 20, cwd: path.resolve(import.meta.dirname, '..') },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildRun;
}

/** <query data>/allhot/hot.db: the oracle copied, opened once by tierdb (store marker), nothing archived. */
async function ensureAllHotData(data: QueryData): Promise<string> {
  const dir = path.join(data.dir, 'allhot');
  if (existsSync(path.join(dir, 'ready.json'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  copyFileSync(data.oracle, path.join(dir, 'hot.db'));
  const store = await openTierStore({ config: benchConfig(dir, ENV), registry });
  await store.close();
  writeFileSync(path.join(dir, 'ready.json'), '{}\n');
  return dir;
}

async function allHot(data: QueryData, runs: number): Promise<Record<string, unknown>> {
  const dir = await ensureAllHotData(data);
  const config = benchConfig(dir, ENV);
  const store = await openTierStore({ config, registry, readonly: true });
  const raw = new Database(config.hotPath, { readonly: true, fileMustExist: true });
  raw.defaultSafeIntegers(true);
  const out: Record<string, unknown> = {};
  try {
    const hotRows = Number(raw.prepare('SELECT count(*) FROM messages').pluck().get());
    const files = Number(raw.prepare(`SELECT count(*) FROM _tierdb_files WHERE state = 'live'`).pluck().get());
    log(`  all hot: ${hotRows} hot messages, ${files} cold files`);
    out.data = { hotRows, coldFiles: files, uptime: os.loadavg().map((l) => round(l, 2)) };
    const monthAgo = NOW_S - 30 * DAY_S;
    // [name, bridge.sql text, the same question in SQLite, params]
    const cases: [string, string, string, unknown[]][] = [
      ['groupByType', 'SELECT msg_type, count(*) AS n FROM messages GROUP BY 1 ORDER BY 1', 'SELECT msg_type, count(*) AS n FROM messages GROUP BY 1 ORDER BY 1', []],
      [
        'topRoomsLastMonth',
        'SELECT chatroom, count(*) AS n, max(create_time) AS last FROM messages WHERE create_time >= ? AND chatroom IS NOT NULL GROUP BY chatroom ORDER BY n DESC, chatroom LIMIT 10',
        'SELECT chatroom, count(*) AS n, max(create_time) AS last FROM messages WHERE create_time >= ? AND chatroom IS NOT NULL GROUP BY chatroom ORDER BY n DESC, chatroom LIMIT 10',
        [monthAgo],
      ],
      // DuckDB-only syntax: the copy into DuckDB answers it.
      ['groupByAllDuckdbOnly', 'SELECT msg_type, count(*) AS n FROM messages GROUP BY ALL ORDER BY msg_type', 'SELECT msg_type, count(*) AS n FROM messages GROUP BY 1 ORDER BY 1', []],
    ];
    for (const [name, text, sqliteText, params] of cases) {
      const stmt = raw.prepare(sqliteText);
      const b = await store.bridge.sql(text, params);
      const r = stmt.all(...params) as Row[];
      const d = difference(b, r);
      if (d) throw new Error(`all hot ${name}: bridge and SQLite differ: ${d}`);
      const t = await race(runs, 1, { bridge: () => store.bridge.sql(text, params), sqlite: () => stmt.all(...params) });
      const bridgeChild = await queryChild(dir, 'bridge', 3, text, params);
      const sqliteChild = await queryChild(dir, 'sqlite', 3, sqliteText, params);
      const mb = (kib: number) => round(kib / 1024, 1);
      out[name] = {
        what: `${text} (bridge.sql) over ${hotRows} hot rows, ${files} cold files; SQLite: ${sqliteText}`,
        rows: b.length,
        bridge: t.bridge,
        sqlite: t.sqlite,
        ratio: ratio(t.bridge!, t.sqlite!),
        peakRssMB: { bridge: mb(bridgeChild.maxRssKiB), sqlite: mb(sqliteChild.maxRssKiB), bridgeAfterOpen: mb(bridgeChild.rssOpenKiB), sqliteAfterOpen: mb(sqliteChild.rssOpenKiB) },
        childMs: { bridge: bridgeChild.ms.map((x) => round(x, 1)), sqlite: sqliteChild.ms.map((x) => round(x, 1)) },
        goal: '<= 1.0x SQLite, peak RSS <= 300 MB',
      };
      log(`  all hot ${name}: bridge ${t.bridge!.p50} ms vs SQLite ${t.sqlite!.p50} ms (${round(t.bridge!.p50 / t.sqlite!.p50, 2)}x), peak RSS ${mb(bridgeChild.maxRssKiB)} MB (SQLite ${mb(sqliteChild.maxRssKiB)} MB)`);
    }
    out.uptimeAfter = os.loadavg().map((l) => round(l, 2));
  } finally {
    raw.close();
    await store.close();
  }
  return out;
}

// ---------------------------------------------------------------------------
// Where the time goes: the bridge's steps, timed one by one with its own parts.

async function breakdown(
  store: TierStore,
  config: ReturnType<typeof benchConfig>,
  hot: Database.Database,
  runs: number,
  cases: Record<string, QueryOptions>,
): Promise<Record<string, unknown>> {
  const db = new Database(config.hotPath, { readonly: true, fileMustExist: true });
  configureConnection(db, true);
  db.defaultSafeIntegers(true);
  const instance = await createBridgeDuckDb({
    readableDirs: [config.coldDir],
    spillDir: path.join(config.dataDir, '.bridge-spill'),
    memoryLimit: config.duckdbMemoryLimit,
    threads: config.archiveMaxWorkers,
  });
  const cache = new ColdResultCache({ enabled: false, ttlSeconds: 0 });
  const t = store.table('messages');
  const out: Record<string, unknown> = {};
  try {
    const steps = {
      readColumns: () => readColumns(db, 'messages'),
      readLiveFiles: () => readLiveFiles(db, 'messages'),
      beginCommit: () => {
        db.exec('BEGIN');
        db.exec('COMMIT');
      },
    };
    out.perQueryFixedCosts = await race(runs, 10, steps);
    for (const [name, q] of Object.entries(cases)) {
      const plan = planQuery(db, t, q);
      const samples: Record<string, number[]> = { plan: [], overlapKeys: [], connect: [], duckdbPart: [], total: [] };
      for (let i = 0; i < Math.min(runs, 100); i++) {
        const t0 = performance.now();
        const p = planQuery(db, t, q);
        const t1 = performance.now();
        db.exec('BEGIN');
        readOverlapKeys(db, p.shape, p.coldFiles);
        db.exec('COMMIT');
        const t2 = performance.now();
        if (p.coldFiles.length > 0) {
          const types = decideColumnTypes(p.shape, p.hotRows);
          const con = await instance.connect();
          const t3 = performance.now();
          await runUnifiedQuery(con, p, types, await openColdFiles(store.cold, p.coldFiles), cache);
          con.closeSync();
          const t4 = performance.now();
          samples.connect!.push(t3 - t2);
          samples.duckdbPart!.push(t4 - t3);
          samples.total!.push(t4 - t2 + (t1 - t0));
        } else samples.total!.push(t1 - t0);
        samples.plan!.push(t1 - t0);
        samples.overlapKeys!.push(t2 - t1);
      }
      out[name] = {
        hotRows: plan.hotRows.length,
        coldFiles: plan.coldFiles.length,
        overlapKeys: plan.overlapKeys.length,
        ...Object.fromEntries(Object.entries(samples).filter(([, v]) => v.length > 0).map(([k, v]) => [k, summarize(v)])),
      };
    }
    // bridge.sql: its snapshot reads the hot rows of every column the text names (every column when
    // the text has a `*`, e.g. count(*)), appends them, and reads the files through coldRelation
    // (a CAST per column over read_parquet([...], union_by_name = true)).
    {
      const samples: Record<string, number[]> = {
        readHotAllColumns: [],
        appendHotAllColumns: [],
        readHot3Columns: [],
        appendHot3Columns: [],
        overlapKeys: [],
        coldGroupByBridgeRelation: [],
        coldGroupByPlainReadParquet: [],
      };
      const { shape, files } = readShape(db, t);
      const types = decideColumnTypes(shape, []);
      const three = ['msg_id', 'create_time', 'msg_type'];
      const threeTypes = three.map((c) => types[shape.names.indexOf(c)]!);
      const bridgeRel = coldRelation(await openColdFiles(store.cold, files), shape.names, types);
      const plain = `read_parquet(${fileList(config.coldDir, files.map((f) => f.path))})`;
      for (let i = 0; i < 10; i++) {
        const t0 = performance.now();
        const rows = db.prepare(`SELECT ${SELECT} FROM messages`).raw(true).safeIntegers(true).all() as unknown[][];
        const t1 = performance.now();
        let con = await instance.connect();
        await createTempTable(con, '__hot', shape.names, types);
        await appendRows(con, '__hot', types, rows);
        con.closeSync();
        const t2 = performance.now();
        const rows3 = db.prepare(`SELECT msg_id, create_time, msg_type FROM messages`).raw(true).safeIntegers(true).all() as unknown[][];
        const t3 = performance.now();
        con = await instance.connect();
        await createTempTable(con, '__hot', three, threeTypes);
        await appendRows(con, '__hot', threeTypes, rows3);
        con.closeSync();
        const t4 = performance.now();
        db.exec('BEGIN');
        readOverlapKeys(db, shape, files);
        db.exec('COMMIT');
        const t5 = performance.now();
        con = await instance.connect();
        await con.runAndReadAll(`SELECT msg_type, count(*) FROM ${bridgeRel} AS c GROUP BY 1`);
        const t6 = performance.now();
        await con.runAndReadAll(`SELECT msg_type, count(*) FROM ${plain} GROUP BY 1`);
        const t7 = performance.now();
        con.closeSync();
        samples.readHotAllColumns!.push(t1 - t0);
        samples.appendHotAllColumns!.push(t2 - t1);
        samples.readHot3Columns!.push(t3 - t2);
        samples.appendHot3Columns!.push(t4 - t3);
        samples.overlapKeys!.push(t5 - t4);
        samples.coldGroupByBridgeRelation!.push(t6 - t5);
        samples.coldGroupByPlainReadParquet!.push(t7 - t6);
      }
      out.sqlGroupBy = {
        hotRows: Number(hot.prepare('SELECT count(*) FROM messages').pluck().get()),
        files: files.length,
        ...Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summarize(v)])),
      };
    }
  } finally {
    instance.closeSync();
    db.close();
  }
  return out;
}

// ---------------------------------------------------------------------------
// First query on a freshly opened store (its DuckDB instance and read
// connection are created by that query), next to a fresh raw engine.

async function firstQueries(dataDir: string, coldDir: string, hotPath: string, cases: Record<string, QueryOptions>, dayFiles: string[]): Promise<Record<string, unknown>> {
  const rounds = 5;
  const out: Record<string, unknown> = {};
  for (const [name, q] of Object.entries(cases)) {
    const ms: number[] = [];
    const openMs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      const store = await openTierStore({ config: benchConfig(dataDir, ENV), registry });
      const t1 = performance.now();
      await store.bridge.query('messages', q);
      ms.push(performance.now() - t1);
      openMs.push(t1 - t0);
      await store.close();
    }
    out[name] = { firstQueryMs: summarize(ms).p50, openTierStoreMs: summarize(openMs).p50, rounds };
  }
  {
    const ms: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      const inst = await DuckDBInstance.create(':memory:', { threads: '2', memory_limit: '1GB' });
      const con = await inst.connect();
      await duckObjects(con, `SELECT * FROM read_parquet(${fileList(coldDir, dayFiles)})`);
      ms.push(performance.now() - t0);
      con.closeSync();
      inst.closeSync();
    }
    out.rawDuckdbFreshInstanceOneDay = { ms: summarize(ms).p50, rounds };
  }
  {
    const ms: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      const db = new Database(hotPath, { readonly: true });
      db.prepare(`SELECT ${SELECT} FROM messages ORDER BY create_time DESC LIMIT 50`).safeIntegers(true).all();
      ms.push(performance.now() - t0);
      db.close();
    }
    out.rawSqliteFreshConnection = { ms: summarize(ms).p50, rounds };
  }
  return out;
}
