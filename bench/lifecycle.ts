/**
 * Cold-tier lifecycle benchmark (`npm run bench -- lifecycle`), the figures of
 * issue 9: the demo data archived, then compacted with
 * `store.maintenance.compact()` at its defaults (COMPACT_TARGET_SIZE 128MB,
 * COMPACT_MIN_FILES 8, every enabled table). Every figure is a ratio against a
 * plain engine measured in the same run, the two sides alternated (the machine
 * is shared and noisy): medians and p90 of several samples.
 *
 * Data: bench/query.ts's cached data set (ensureQueryData: BENCH_LIFECYCLE_ROWS
 * messages, default 1,000,000, over BENCH_LIFECYCLE_DAYS = 400 days ending at
 * DATA_NOW, the other demo tables sized from it, archived with now = DATA_NOW,
 * HOT_DAYS_MESSAGES=7: the last 7 days of messages stay hot). Compaction
 * changes its folder, so every use works on a copy (hot.db + cold/, fsynced
 * before anything is timed) under bench/data/lifecycle/ (gitignored).
 *
 * Figures (goal in brackets):
 *  - messages live files after compaction [<= 12];
 *  - messages cold bytes after compaction vs one plain DuckDB COPY of the same
 *    rows into one file, ORDER BY (time, key), same zstd level [<= 1.05x];
 *  - compaction seconds (compact(), every table, on a fresh copy) vs plain
 *    DuckDB `COPY (SELECT * FROM read_parquet([inputs]) ORDER BY time, key)`
 *    of each group compaction merges into one file, same level, row group
 *    size, threads and memory limit (no fsync: "plain") [<= 1.5x];
 *    BENCH_LIFECYCLE_ROUNDS (5) rounds, the order of the sides rotating each
 *    round; wall seconds (the figure) and the process's CPU seconds (DuckDB's
 *    threads included);
 *  - all-history `SELECT msg_type, count(*) FROM messages GROUP BY 1` through
 *    bridge.sql vs plain DuckDB over the same live files + the hot rows (read
 *    with better-sqlite3, only msg_type, appended into DuckDB, as
 *    bench/query.ts does), after compaction [<= 1.3x], and before it;
 *  - a cold day through bridge.query('messages', { where: { create_time:
 *    { gte, lt } } }) vs plain DuckDB over the file(s) holding that day, after
 *    compaction [<= 1.3x], and before it. The bridge returns rows in key order
 *    (msg_id is always the last sort key), so the plain query orders by msg_id
 *    too; the unordered plain query is also timed.
 *  - manifest rebuild: not measured here (benchmarked separately).
 * Plus the cold tree (files, bytes per table) before and after, the machine's
 * load average, where compaction's time goes (rewriteFiles' steps rerun one by
 * one with its own SQL over the same groups, as a third side of every round;
 * BENCH_LIFECYCLE_BREAKDOWN=0 to skip), and where bridge.sql's GROUP BY spends
 * its time next to the plain baseline's parts.
 *
 * Env: BENCH_LIFECYCLE_ROWS, BENCH_LIFECYCLE_DAYS, BENCH_LIFECYCLE_ROUNDS (5),
 * BENCH_LIFECYCLE_GROUPBY_RUNS (30), BENCH_LIFECYCLE_DAY_RUNS (60),
 * BENCH_LIFECYCLE_BREAKDOWN (1).
 */
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, statSync, fsyncSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import Database from 'better-sqlite3';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import registry from '../archive-registry.js';
import { absoluteColdPath } from '../src/cold/coldLayout.js';
import { sqlIdent, sqlString } from '../src/cold/DuckDbEngine.js';
import { fileSha256 } from '../src/cold/fileSha256.js';
import { fsyncFile } from '../src/cold/fsyncFile.js';
import { recordedFingerprint } from '../src/cold/rowFingerprint.js';
import { compareKeys } from '../src/archive/chunkKeys.js';
import { liveFilesExact, type ManifestFile } from '../src/manifest/manifestFiles.js';
import type { CompactReport } from '../src/maintenance/Maintenance.js';
import { createMaintenanceEngine } from '../src/maintenance/maintenanceRun.js';
import { readExpectedRows, rewriteSelects, readFileRows, readSourceFingerprint, unionSchema } from '../src/maintenance/rewriteFiles.js';
import { appendRows, createTempTable } from '../src/query/appendRows.js';
import { coldRelation } from '../src/query/coldRelation.js';
import { decideColumnTypes } from '../src/query/decideColumnTypes.js';
import { openColdFiles } from '../src/query/openColdFiles.js';
import { readShape } from '../src/query/planQuery.js';
import type { QueryOptions, Row } from '../src/query/QueryOptions.js';
import { ColdResultCache } from '../src/query/ColdResultCache.js';
import { createBridgeDuckDb } from '../src/query/createBridgeDuckDb.js';
import { planQuery } from '../src/query/planQuery.js';
import { runUnifiedQuery } from '../src/query/runUnifiedQuery.js';
import { configureConnection } from '../src/hot/HotStore.js';
import { readOverlapKeys } from '../src/query/readOverlapKeys.js';
import { readSqlReferences } from '../src/query/readSqlReferences.js';
import { referencedColumns } from '../src/query/referencedColumns.js';
import { openTierStore, type TierStore } from '../src/store/openTierStore.js';
import { MESSAGE_COLUMNS } from '../src/presets/wechat/messageRow.js';
import { benchConfig, DATA_NOW, median } from './archiveData.js';
import { BENCH_DATA_DIR, percentile, round, writeResult } from './lib.js';
import { dataFingerprint, ensureQueryData } from './query.js';

const log = (s: string): void => void process.stderr.write(`${s}\n`);
const DAY_S = 86_400;
const CUTOFF_S = DATA_NOW / 1000 - 7 * DAY_S;
const WORK_DIR = path.join(BENCH_DATA_DIR, 'lifecycle');
/** As bench/query.ts: every query reads the files. */
const ENV = { ARCHIVE_QUERY_CACHE_ENABLED: 'false' };
const COLS = MESSAGE_COLUMNS;
const SELECT = COLS.map((c) => sqlIdent(c)).join(', ');
const MB = 1e6;

function intEnv(name: string, def: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? def : Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, got ${raw}`);
  return n;
}

const loadavg = (): number[] => os.loadavg().map((x) => round(x, 2));

// ---------------------------------------------------------------------------
// Data folders.

function fsyncTree(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) fsyncTree(p);
    else if (e.isFile()) fsyncFile(p);
  }
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A copy of the archived data (hot file + cold tree; not the oracle), flushed to disk. */
function copyData(from: string, name: string): string {
  const dir = path.join(WORK_DIR, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const f of ['hot.db', 'hot.db-wal']) if (existsSync(path.join(from, f))) cpSync(path.join(from, f), path.join(dir, f));
  cpSync(path.join(from, 'cold'), path.join(dir, 'cold'), { recursive: true, filter: (src) => path.basename(src) !== '_tmp' });
  fsyncTree(dir);
  return dir;
}

interface TreeRow {
  files: number;
  bytes: number;
  rows: number;
}

/** Live files, bytes and rows per table from the manifest; and the .parquet files on disk (retired ones wait out their TTL). */
function coldTree(store: TierStore, coldDir: string): { manifest: Record<string, TreeRow>; onDisk: { files: number; bytes: number } } {
  const manifest: Record<string, TreeRow> = {};
  const rows = store.hot.raw
    .prepare(`SELECT table_name AS t, count(*) AS files, sum(bytes) AS bytes, sum(rows) AS rows FROM _tierdb_files WHERE state = 'live' GROUP BY 1 ORDER BY 1`)
    .all() as { t: string; files: number | bigint; bytes: number | bigint; rows: number | bigint }[];
  for (const r of rows) manifest[r.t] = { files: Number(r.files), bytes: Number(r.bytes), rows: Number(r.rows) };
  let files = 0;
  let bytes = 0;
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.parquet')) {
        files++;
        bytes += statSync(p).size;
      }
    }
  };
  walk(coldDir);
  return { manifest, onDisk: { files, bytes } };
}

function totals(tree: Record<string, TreeRow>): TreeRow {
  return Object.values(tree).reduce((a, r) => ({ files: a.files + r.files, bytes: a.bytes + r.bytes, rows: a.rows + r.rows }), { files: 0, bytes: 0, rows: 0 });
}

// ---------------------------------------------------------------------------
// Timing.

interface Timing {
  p50: number;
  p90: number;
  mean: number;
  runs: number;
}

function summarize(ms: readonly number[]): Timing {
  const s = [...ms].sort((a, b) => a - b);
  return { p50: round(percentile(s, 50)), p90: round(percentile(s, 90)), mean: round(s.reduce((a, b) => a + b, 0) / s.length), runs: s.length };
}

/**
 * Times contenders over `runs` rounds, interleaved: the order rotates every
 * round, so the shared machine's noise falls on all of them alike. Returns the
 * samples (ms, in round order) of each.
 */
async function race(runs: number, warmup: number, fns: Record<string, () => Promise<unknown> | unknown>): Promise<Record<string, number[]>> {
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
  return samples;
}

interface Ratio {
  /** p50(a) / p50(b): the figure held against the goal. */
  p50: number;
  p90: number;
  /** Median over rounds of a/b within the same round. */
  pairedMedian: number;
}

function ratio(a: readonly number[], b: readonly number[]): Ratio {
  const sa = summarize(a);
  const sb = summarize(b);
  return { p50: round(sa.p50 / sb.p50, 3), p90: round(sa.p90 / sb.p90, 3), pairedMedian: round(median(a.map((x, i) => x / b[i]!)), 3) };
}

// ---------------------------------------------------------------------------
// Plain engines.

async function plainDuck(threads: number, memoryLimit: string, spill: string): Promise<{ instance: DuckDBInstance; con: DuckDBConnection }> {
  mkdirSync(spill, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:', { threads: String(threads), memory_limit: memoryLimit, temp_directory: spill });
  return { instance, con: await instance.connect() };
}

async function duckObjects(con: DuckDBConnection, sql: string): Promise<Row[]> {
  return (await con.runAndReadAll(sql)).getRowObjectsJS() as Row[];
}

function fileList(coldDir: string, files: readonly string[]): string {
  return `[${files.map((f) => sqlString(absoluteColdPath(coldDir, f))).join(', ')}]`;
}

/** Row for row (order matters); a short difference or null. */
function difference(a: readonly Row[], b: readonly Row[]): string | null {
  if (a.length !== b.length) return `${a.length} rows vs ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) {
      const vx = x[k] instanceof Uint8Array ? Buffer.from(x[k] as Uint8Array) : x[k];
      const vy = y[k] instanceof Uint8Array ? Buffer.from(y[k] as Uint8Array) : y[k];
      if (!isDeepStrictEqual(vx, vy)) return `row ${i} column ${k}: ${String(vx)} vs ${String(vy)}`;
    }
  }
  return null;
}

interface Group {
  table: string;
  time: string;
  key: string;
  inputs: string[];
  rows: number;
}

/** Plain DuckDB COPY of each group's inputs (ORDER BY time, key) into one file each; seconds and bytes. */
async function plainCopies(con: DuckDBConnection, coldDir: string, groups: readonly Group[], level: number, outDir: string): Promise<{ seconds: number; bytes: number; perTable: Record<string, { seconds: number; bytes: number }> }> {
  mkdirSync(outDir, { recursive: true });
  let seconds = 0;
  let bytes = 0;
  const perTable: Record<string, { seconds: number; bytes: number }> = {};
  for (const [i, g] of groups.entries()) {
    const out = path.join(outDir, `plain-${i}.parquet`);
    rmSync(out, { force: true });
    const t0 = performance.now();
    await con.run(
      `COPY (SELECT * FROM read_parquet(${fileList(coldDir, g.inputs)}) ORDER BY ${sqlIdent(g.time)}, ${sqlIdent(g.key)}) TO ${sqlString(out)} ` +
        `(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL ${level}, ROW_GROUP_SIZE 122880)`,
    );
    const s = (performance.now() - t0) / 1000;
    const b = statSync(out).size;
    rmSync(out, { force: true });
    seconds += s;
    bytes += b;
    const pt = (perTable[g.table] ??= { seconds: 0, bytes: 0 });
    pt.seconds += s;
    pt.bytes += b;
  }
  return { seconds, bytes, perTable };
}

// ---------------------------------------------------------------------------
// Where compaction's time goes: rewriteFiles' steps, one by one, with its SQL.

const STEPS = ['openAndSha256Inputs', 'expectedRows', 'expectedFingerprint', 'copy', 'fsync', 'readBack', 'sha256Output'] as const;

/** CPU seconds (user + system, every thread of the process: DuckDB's too) since `c0`. */
function cpuSeconds(c0: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
}

async function breakdown(dir: string, coldDir: string, groups: readonly Group[], level: number, store: TierStore): Promise<{ wall: Record<string, number>; cpu: Record<string, number> }> {
  mkdirSync(dir, { recursive: true });
  const engine = await createMaintenanceEngine(benchConfig(dir, ENV), path.join(dir, 'spill'));
  const con = engine.connection;
  const spent: Record<string, number> = Object.fromEntries(STEPS.map((s) => [s, 0]));
  const cpu: Record<string, number> = Object.fromEntries(STEPS.map((s) => [s, 0]));
  const live = new Map([...new Set(groups.map((g) => g.table))].flatMap((t) => liveFilesExact(store.hot.raw, t)).map((f) => [f.path, f]));
  try {
    for (const [gi, g] of groups.entries()) {
      const t = store.table(g.table);
      const inputs = g.inputs.map((p) => {
        const f = live.get(p);
        if (!f) throw new Error(`breakdown: ${p} is not live`);
        return f;
      });
      const step = async <T>(name: (typeof STEPS)[number], fn: () => Promise<T> | T): Promise<T> => {
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        const r = await fn();
        spent[name]! += (performance.now() - t0) / 1000;
        cpu[name]! += cpuSeconds(c0);
        return r;
      };
      const paths = inputs.map((f) => absoluteColdPath(coldDir, f.path));
      const schema = unionSchema(t.table, inputs);
      await step('openAndSha256Inputs', async () => {
        for (const [i, f] of inputs.entries()) if (f.file_sha256 !== null && (await fileSha256(paths[i]!)) !== f.file_sha256) throw new Error(`${f.path}: sha256 differs`);
      });
      const { source, ordered, presorted } = rewriteSelects(t, inputs, paths, schema);
      // rewriteFiles overlaps the inputs' sha256 with this step; here they run one after the other.
      const expected = await step('expectedRows', () => readExpectedRows(engine, t, schema, source));
      // rewriteFiles reads this one on another connection while the COPY runs.
      // (or, as here, adds those the inputs' footers record when it can).
      const expectedFingerprint = await step('expectedFingerprint', async () => (await recordedFingerprint(engine.connection, paths)) ?? (await readSourceFingerprint(engine, schema, source, true)));
      const tmp = path.join(dir, `breakdown-${gi}.parquet`);
      await step('copy', () => con.run(`COPY (${presorted ?? ordered}) TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL ${level}, ROW_GROUP_SIZE 122880)`));
      await step('fsync', () => fsyncFile(tmp));
      const back = await step('readBack', () => readFileRows(engine, t, schema, tmp));
      await step('sha256Output', () => fileSha256(tmp));
      rmSync(tmp, { force: true });
      if (back.rows !== expected.rows || back.checksum !== expected.checksum || back.fingerprint !== expectedFingerprint) throw new Error(`breakdown: group ${gi} of ${g.table} did not verify`);
    }
  } finally {
    engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const r3 = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, round(v, 3)]));
  return { wall: r3(spent), cpu: r3(cpu) };
}

// ---------------------------------------------------------------------------
// Where bridge.sql's GROUP BY spends its time, next to the plain baseline's
// parts: its parse, the snapshot read of the hot rows (the columns the text
// names plus the key) and their append, and the cold GROUP BY over the bridge's
// relation (a CAST per column, union_by_name) vs plain read_parquet.

async function groupByBreakdown(store: TierStore, hotPath: string, con: DuckDBConnection, text: string, runs: number): Promise<{ columnsBridgeReads: string[]; ms: Record<string, Timing> }> {
  const db = new Database(hotPath, { readonly: true, fileMustExist: true });
  db.defaultSafeIntegers(true);
  try {
    const t = store.table('messages');
    const refs = await readSqlReferences(con, text, [t.table]);
    const { shape: full, files } = readShape(db, t);
    const shape = referencedColumns(refs, full, readOverlapKeys(db, full, files).length > 0);
    const types = decideColumnTypes(shape, []);
    const cold = await openColdFiles(store.cold, files);
    const bridgeRel = coldRelation(cold, shape.names, types);
    const plainRel = `read_parquet([${cold.local.map(sqlString).join(', ')}])`;
    const bridgeHot = db.prepare(`SELECT ${shape.names.map(sqlIdent).join(', ')} FROM messages`).raw(true);
    const plainHot = db.prepare('SELECT msg_type FROM messages').raw(true);
    const bridgeRows = bridgeHot.all() as unknown[][];
    const plainRows = plainHot.all() as unknown[][];
    const append = async (names: readonly string[], ts: typeof types, rows: unknown[][]) => {
      await createTempTable(con, 'hb', names, ts);
      try {
        await appendRows(con, 'hb', ts, rows);
      } finally {
        await con.run('DROP TABLE hb');
      }
    };
    try {
      const samples = await race(runs, 2, {
        bridgeParse: () => readSqlReferences(con, text, [t.table]),
        bridgeSnapshotHotRead: () => {
          db.exec('BEGIN');
          try {
            readShape(db, t);
            bridgeHot.all();
            readOverlapKeys(db, shape, files);
          } finally {
            db.exec('COMMIT');
          }
        },
        plainHotRead: () => plainHot.all(),
        bridgeAppend: () => append(shape.names, types, bridgeRows),
        plainAppend: () => append(['msg_type'], ['BIGINT'], plainRows),
        bridgeColdGroupBy: async () => (await con.runAndReadAll(`SELECT msg_type, count(*) FROM ${bridgeRel} AS c GROUP BY 1`)).getRows(),
        plainColdGroupBy: async () => (await con.runAndReadAll(`SELECT msg_type, count(*) FROM ${plainRel} GROUP BY 1`)).getRows(),
      });
      return { columnsBridgeReads: [...shape.names], ms: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summarize(v)])) };
    } finally {
      cold.release();
    }
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------------------
// Where bridge.query's one-day read spends its time (as bench/query.ts's
// breakdown): the plan (manifest + hot rows under one snapshot), the overlap
// keys, opening the files and a DuckDB connection, and the DuckDB part, next to
// the plain query, rotated.

async function dayBreakdown(store: TierStore, config: ReturnType<typeof benchConfig>, q: QueryOptions, plainSql: string, con: DuckDBConnection, runs: number): Promise<Record<string, Timing>> {
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
  const samples: Record<string, number[]> = { plan: [], overlapKeys: [], openFilesAndConnect: [], duckdbPart: [], bridgeSum: [], plain: [] };
  try {
    for (let i = 0; i < runs + 3; i++) {
      const bridge = async () => {
        const t0 = performance.now();
        const p = planQuery(db, t, q);
        const t1 = performance.now();
        db.exec('BEGIN');
        readOverlapKeys(db, p.shape, p.coldFiles);
        db.exec('COMMIT');
        const t2 = performance.now();
        const types = decideColumnTypes(p.shape, p.hotRows);
        const files = await openColdFiles(store.cold, p.coldFiles);
        const c = await instance.connect();
        const t3 = performance.now();
        try {
          await runUnifiedQuery(c, p, types, files, cache);
        } finally {
          c.closeSync();
          files.release();
        }
        const t4 = performance.now();
        if (i < 3) return;
        samples.plan!.push(t1 - t0);
        samples.overlapKeys!.push(t2 - t1);
        samples.openFilesAndConnect!.push(t3 - t2);
        samples.duckdbPart!.push(t4 - t3);
        samples.bridgeSum!.push(t4 - t0);
      };
      const plain = async () => {
        const t0 = performance.now();
        await duckObjects(con, plainSql);
        if (i >= 3) samples.plain!.push(performance.now() - t0);
      };
      if (i % 2 === 0) {
        await bridge();
        await plain();
      } else {
        await plain();
        await bridge();
      }
    }
  } finally {
    instance.closeSync();
    db.close();
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summarize(v)]));
}

// ---------------------------------------------------------------------------
// The run.

interface Goal {
  id: string;
  what: string;
  goal: string;
  figure: number | null;
  /** p90 (or other) figure beside the goal's. */
  detail?: string;
  pass: boolean | null;
}

export async function run(): Promise<void> {
  const rows = intEnv('BENCH_LIFECYCLE_ROWS', 1_000_000);
  const days = intEnv('BENCH_LIFECYCLE_DAYS', 400);
  const rounds = Math.max(1, intEnv('BENCH_LIFECYCLE_ROUNDS', 5));
  const groupRuns = Math.max(1, intEnv('BENCH_LIFECYCLE_GROUPBY_RUNS', 30));
  const dayRuns = Math.max(1, intEnv('BENCH_LIFECYCLE_DAY_RUNS', 60));
  const doBreakdown = intEnv('BENCH_LIFECYCLE_BREAKDOWN', 1) !== 0;
  const load: Record<string, number[]> = { start: loadavg() };
  const started = Date.now();
  log(`lifecycle bench: ${rows} messages over ${days} days; load average ${load.start!.join(' ')}`);

  const cached = existsSync(path.join(BENCH_DATA_DIR, 'query', `demo-${rows}-${days}-${dataFingerprint()}`, 'ready.json'));
  const data = await ensureQueryData(rows, days);
  mkdirSync(WORK_DIR, { recursive: true });
  const result: Record<string, unknown> = {
    rows,
    days,
    rounds,
    data: { dir: path.relative(process.cwd(), data.dir), cached, build: data.build },
  };

  // -- the tree before, and what compaction will merge -------------------------
  const beforeDir = copyData(data.dir, 'before');
  const beforeConfig = benchConfig(beforeDir, ENV);
  const level = beforeConfig.archiveZstdLevel;
  const storeBefore = await openTierStore({ config: beforeConfig, registry });
  let storeAfter: TierStore | undefined;
  let afterDir: string | undefined;
  const duckSpill = path.join(WORK_DIR, 'plain-spill');
  const duck = await plainDuck(beforeConfig.archiveMaxWorkers, beforeConfig.duckdbMemoryLimit, duckSpill);
  const mismatches: string[] = [];
  const check = (name: string, a: readonly Row[], b: readonly Row[]): void => {
    const d = difference(a, b);
    if (d) mismatches.push(`${name}: ${d}`);
  };
  try {
    const treeBefore = coldTree(storeBefore, beforeConfig.coldDir);
    const plan: CompactReport = await storeBefore.maintenance.compact({ dryRun: true });
    const groups: Group[] = plan.tables.flatMap((t) => {
      const rt = storeBefore.table(t.table);
      return t.groups.map((g) => ({ table: t.table, time: rt.timeColumn, key: rt.keyColumn, inputs: g.inputs, rows: g.rows }));
    });
    log(
      `  before: ${JSON.stringify(treeBefore.manifest)}; compaction plan (defaults: target ${plan.targetBytes} bytes, min files ${beforeConfig.compactMinFiles}): ` +
        plan.tables.map((t) => `${t.table} ${t.filesBefore} -> ${t.filesAfter} files in ${t.groups.length} groups`).join(', '),
    );

    // -- compaction vs plain COPY (and rewriteFiles' steps one by one), rotated --
    const compactS: number[] = [];
    const compactCpu: number[] = [];
    const plainS: number[] = [];
    const plainCpu: number[] = [];
    const plainPerTable: Record<string, number[]> = {};
    let plainBytes = 0;
    let plainPerTableBytes: Record<string, number> = {};
    let lastReport: CompactReport | undefined;
    const stepRuns: { wall: Record<string, number>; cpu: Record<string, number> }[] = [];
    const stepPlainS: number[] = [];
    const stepCompactS: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const dir = copyData(data.dir, `compact-${r}`);
      const sides: Record<string, () => Promise<void>> = {
        compact: async () => {
          const store = await openTierStore({ config: benchConfig(dir, ENV), registry });
          try {
            const t0 = performance.now();
            const c0 = process.cpuUsage();
            const report = await store.maintenance.compact();
            compactS.push((performance.now() - t0) / 1000);
            compactCpu.push(cpuSeconds(c0));
            for (const t of report.tables) if (t.error) throw new Error(`compacting ${t.table} failed: ${t.error}`);
            lastReport = report;
          } finally {
            await store.close();
          }
        },
        plain: async () => {
          const c0 = process.cpuUsage();
          const p = await plainCopies(duck.con, beforeConfig.coldDir, groups, level, path.join(WORK_DIR, 'plain-out'));
          plainCpu.push(cpuSeconds(c0));
          plainS.push(p.seconds);
          plainBytes = p.bytes;
          plainPerTableBytes = Object.fromEntries(Object.entries(p.perTable).map(([k, v]) => [k, v.bytes]));
          for (const [k, v] of Object.entries(p.perTable)) (plainPerTable[k] ??= []).push(v.seconds);
        },
      };
      // The steps read the inputs from the untouched copy, with the pipeline's own SQL.
      if (doBreakdown) sides.steps = async () => void stepRuns.push(await breakdown(path.join(WORK_DIR, 'steps'), beforeConfig.coldDir, groups, level, storeBefore));
      const names = Object.keys(sides);
      for (let j = 0; j < names.length; j++) await sides[names[(r + j) % names.length]!]!();
      if (doBreakdown) {
        stepPlainS.push(plainS.at(-1)!);
        stepCompactS.push(compactS.at(-1)!);
      }
      log(
        `  compaction round ${r + 1}/${rounds} (${names.map((_, j) => names[(r + j) % names.length]).join(', ')}): compact() ${compactS.at(-1)!.toFixed(2)} s (cpu ${compactCpu.at(-1)!.toFixed(2)}), plain COPY ${plainS.at(-1)!.toFixed(2)} s (cpu ${plainCpu.at(-1)!.toFixed(2)})` +
          (doBreakdown ? `, steps ${Object.values(stepRuns.at(-1)!.wall).reduce((a, b) => a + b, 0).toFixed(2)} s` : '') +
          ` (load ${loadavg().join(' ')})`,
      );
      if (r < rounds - 1) rmSync(dir, { recursive: true, force: true });
      else afterDir = dir;
    }
    let steps: Record<string, unknown> | undefined;
    if (doBreakdown) {
      const med = (pick: (x: { wall: Record<string, number>; cpu: Record<string, number> }) => Record<string, number>) => {
        const o: Record<string, number> = Object.fromEntries(STEPS.map((st) => [st, round(median(stepRuns.map((x) => pick(x)[st]!)), 2)]));
        o.total = round(median(stepRuns.map((x) => Object.values(pick(x)).reduce((a, b) => a + b, 0))), 2);
        o.verification = round(median(stepRuns.map((x) => Object.entries(pick(x)).filter(([k]) => k !== 'copy' && k !== 'fsync').reduce((a, [, b]) => a + b, 0))), 2);
        return o;
      };
      const totalWall = stepRuns.map((x) => Object.values(x.wall).reduce((a, b) => a + b, 0));
      steps = {
        what: "rewriteFiles' steps rerun one by one with its SQL over the same groups (every table), as a third side of each round; seconds, medians over rounds",
        wall: med((x) => x.wall),
        cpu: med((x) => x.cpu),
        stepsVsPlainCopy: ratio(totalWall.map((x) => x * 1000), stepPlainS.map((x) => x * 1000)),
        copyStepVsPlainCopy: ratio(stepRuns.map((x) => x.wall.copy! * 1000), stepPlainS.map((x) => x * 1000)),
        compactMinusSteps: round(median(stepCompactS.map((x, i) => x - totalWall[i]!)), 2),
      };
      log(`  breakdown: ${JSON.stringify(steps)}`);
    }
    load.afterCompaction = loadavg();
    const compactRatio = ratio(compactS, plainS);

    const afterConfig = benchConfig(afterDir!, ENV);
    storeAfter = await openTierStore({ config: afterConfig, registry });
    const treeAfter = coldTree(storeAfter, afterConfig.coldDir);
    const messagesAfter = liveFilesExact(storeAfter.hot.raw, 'messages');

    // -- bytes: messages after vs one plain COPY of the same rows into one file --
    const messagesInputs = groups.filter((g) => g.table === 'messages').flatMap((g) => g.inputs);
    const oneFile = await plainCopies(
      duck.con,
      beforeConfig.coldDir,
      [{ table: 'messages', time: storeBefore.table('messages').timeColumn, key: storeBefore.table('messages').keyColumn, inputs: messagesInputs, rows: 0 }],
      level,
      path.join(WORK_DIR, 'plain-out'),
    );
    const messagesBytesAfter = treeAfter.manifest.messages?.bytes ?? 0;
    const bytesRatio = round(messagesBytesAfter / oneFile.bytes, 4);
    log(`  messages: ${treeAfter.manifest.messages?.files} live files, ${messagesBytesAfter} bytes vs one plain COPY ${oneFile.bytes} bytes (${bytesRatio}x)`);

    // -- queries, before and after compaction, alternated -----------------------
    const hotBefore = new Database(beforeConfig.hotPath, { readonly: true, fileMustExist: true });
    const hotAfter = new Database(afterConfig.hotPath, { readonly: true, fileMustExist: true });
    hotBefore.defaultSafeIntegers(true);
    hotAfter.defaultSafeIntegers(true);
    let groupBy: Record<string, unknown>;
    let dayQuery: Record<string, unknown>;
    try {
      const liveBefore = liveFilesExact(storeBefore.hot.raw, 'messages');
      const hotCount = Number(hotAfter.prepare('SELECT count(*) FROM messages').pluck().get());

      // GROUP BY over all history.
      const text = 'SELECT msg_type, count(*) AS n FROM messages GROUP BY 1 ORDER BY 1';
      const plainGroupBy = (hot: Database.Database, coldDir: string, files: readonly ManifestFile[]) => {
        const all = fileList(coldDir, files.map((f) => f.path));
        const hotTypes = hot.prepare('SELECT msg_type FROM messages').raw(true);
        return async (): Promise<Row[]> => {
          const hotRows = hotTypes.all() as unknown[][];
          await createTempTable(duck.con, 'h', ['msg_type'], ['BIGINT']);
          try {
            await appendRows(duck.con, 'h', ['BIGINT'], hotRows);
            return await duckObjects(duck.con, `SELECT msg_type, count(*) AS n FROM (SELECT msg_type FROM h UNION ALL SELECT msg_type FROM read_parquet(${all})) GROUP BY 1 ORDER BY 1`);
          } finally {
            await duck.con.run('DROP TABLE h');
          }
        };
      };
      const gb = {
        bridgeBefore: () => storeBefore.bridge.sql(text),
        plainBefore: plainGroupBy(hotBefore, beforeConfig.coldDir, liveBefore),
        bridgeAfter: () => storeAfter!.bridge.sql(text),
        plainAfter: plainGroupBy(hotAfter, afterConfig.coldDir, messagesAfter),
      };
      const gbAnswers = await answers(gb);
      for (const k of ['plainBefore', 'bridgeAfter', 'plainAfter']) check(`groupBy ${k} vs bridgeBefore`, gbAnswers[k]!, gbAnswers.bridgeBefore!);
      const gbT = await race(groupRuns, 3, gb);
      groupBy = {
        what: `${text} (bridge.sql) over ${hotCount} hot rows + the live files; plain = DuckDB over the same files + the hot rows' msg_type (better-sqlite3 → appender)`,
        filesBefore: liveBefore.length,
        filesAfter: messagesAfter.length,
        ...Object.fromEntries(Object.entries(gbT).map(([k, v]) => [k, summarize(v)])),
        ratioAfter: ratio(gbT.bridgeAfter!, gbT.plainAfter!),
        ratioBefore: ratio(gbT.bridgeBefore!, gbT.plainBefore!),
      };
      log(`  GROUP BY: after ${JSON.stringify((groupBy as { ratioAfter: Ratio }).ratioAfter)}, before ${JSON.stringify((groupBy as { ratioBefore: Ratio }).ratioBefore)}`);
      const gbParts = await groupByBreakdown(storeAfter, afterConfig.hotPath, duck.con, text, groupRuns);
      groupBy.breakdownAfter = gbParts;
      log(`  GROUP BY breakdown (after, ms p50; the bridge reads ${gbParts.columnsBridgeReads.join(', ')}): ${JSON.stringify(Object.fromEntries(Object.entries(gbParts.ms).map(([k, v]) => [k, v.p50])))}`);

      // One cold day.
      const dayLo = CUTOFF_S - Math.min(100, Math.floor(days / 2)) * DAY_S; // as bench/query.ts (100 days before the cutoff)
      const dayHi = dayLo + DAY_S;
      const day = new Date(dayLo * 1000).toISOString().slice(0, 10);
      const holding = (files: readonly ManifestFile[]) => files.filter((f) => f.min_time_ms < dayHi * 1000 && f.max_time_ms >= dayLo * 1000);
      const dayFilesBefore = holding(liveBefore);
      const dayFilesAfter = holding(messagesAfter);
      const q: QueryOptions = { where: { create_time: { gte: dayLo, lt: dayHi } } };
      const filter = `WHERE create_time >= ${dayLo} AND create_time < ${dayHi}`;
      const plainDaySql = (coldDir: string, files: readonly ManifestFile[], ordered: boolean) =>
        `SELECT ${SELECT} FROM read_parquet(${fileList(coldDir, files.map((f) => f.path))}) ${filter}${ordered ? ' ORDER BY msg_id' : ''}`;
      const plainDay = (coldDir: string, files: readonly ManifestFile[], ordered: boolean) => {
        const sql = plainDaySql(coldDir, files, ordered);
        return () => duckObjects(duck.con, sql);
      };
      const dq = {
        bridgeBefore: () => storeBefore.bridge.query('messages', q),
        plainBefore: plainDay(beforeConfig.coldDir, dayFilesBefore, true),
        bridgeAfter: () => storeAfter!.bridge.query('messages', q),
        plainAfter: plainDay(afterConfig.coldDir, dayFilesAfter, true),
        plainAfterUnordered: plainDay(afterConfig.coldDir, dayFilesAfter, false),
      };
      const dqAnswers = await answers(dq);
      for (const k of ['plainBefore', 'bridgeAfter', 'plainAfter']) check(`day ${k} vs bridgeBefore`, dqAnswers[k]!, dqAnswers.bridgeBefore!);
      const byKey = (rs: readonly Row[]) => [...rs].sort((a, b) => compareKeys(a.msg_id, b.msg_id));
      check('day plainAfterUnordered (as a set) vs bridgeBefore', byKey(dqAnswers.plainAfterUnordered!), dqAnswers.bridgeBefore!);
      const explain = await storeAfter.bridge.explain('messages', q);
      const dqT = await race(dayRuns, 5, dq);
      dayQuery = {
        what: `bridge.query('messages', { where: { create_time: { gte: ${dayLo}, lt: ${dayHi} } } }) = every message of ${day} (cold); plain = DuckDB read_parquet([the file(s) holding that day]) ${filter} ORDER BY msg_id (the bridge's order: the key breaks ties)`,
        day,
        rows: dqAnswers.bridgeAfter!.length,
        filesBefore: dayFilesBefore.map((f) => ({ path: f.path, rows: f.rows, bytes: f.bytes })),
        filesAfter: dayFilesAfter.map((f) => ({ path: f.path, rows: f.rows, bytes: f.bytes })),
        bridgeColdFilesAfter: explain.coldFiles.length,
        ...Object.fromEntries(Object.entries(dqT).map(([k, v]) => [k, summarize(v)])),
        ratioAfter: ratio(dqT.bridgeAfter!, dqT.plainAfter!),
        ratioAfterVsUnordered: ratio(dqT.bridgeAfter!, dqT.plainAfterUnordered!),
        ratioBefore: ratio(dqT.bridgeBefore!, dqT.plainBefore!),
      };
      log(`  one day: after ${JSON.stringify((dayQuery as { ratioAfter: Ratio }).ratioAfter)}, before ${JSON.stringify((dayQuery as { ratioBefore: Ratio }).ratioBefore)}`);
      const dayParts = await dayBreakdown(storeAfter, afterConfig, q, plainDaySql(afterConfig.coldDir, dayFilesAfter, true), duck.con, Math.max(3, Math.round(dayRuns / 2)));
      dayQuery.breakdownAfter = dayParts;
      log(`  one-day breakdown (after, ms p50): ${JSON.stringify(Object.fromEntries(Object.entries(dayParts).map(([k, v]) => [k, v.p50])))}`);
    } finally {
      hotBefore.close();
      hotAfter.close();
    }
    load.afterQueries = loadavg();

    load.end = loadavg();

    // -- goals --------------------------------------------------------------
    const r3 = (x: number) => round(x, 3);
    const gbAfter = (groupBy as { ratioAfter: Ratio }).ratioAfter;
    const gbBefore = (groupBy as { ratioBefore: Ratio }).ratioBefore;
    const dayAfter = (dayQuery as { ratioAfter: Ratio }).ratioAfter;
    const goals: Goal[] = [
      { id: 'messagesLiveFiles', what: 'messages live files after compaction', goal: '<= 12', figure: treeAfter.manifest.messages?.files ?? 0, pass: (treeAfter.manifest.messages?.files ?? 0) <= 12 },
      {
        id: 'coldBytesVsDuckdbCopy',
        what: 'messages cold bytes after compaction / one plain DuckDB COPY of the same rows (one file, ORDER BY time, key, zstd level ' + level + ')',
        goal: '<= 1.05',
        figure: bytesRatio,
        detail: `${messagesBytesAfter} / ${oneFile.bytes} bytes; vs plain COPY per group ${r3(messagesBytesAfter / (plainPerTableBytes.messages ?? NaN))}`,
        pass: bytesRatio <= 1.05,
      },
      {
        id: 'groupByVsDuckdb',
        what: 'all-history GROUP BY through bridge.sql / plain DuckDB over the same files + hot rows, after compaction',
        goal: '<= 1.3',
        figure: gbAfter.p50,
        detail: `p90 ${gbAfter.p90}, paired median ${gbAfter.pairedMedian}; before compaction p50 ${gbBefore.p50}, p90 ${gbBefore.p90}`,
        pass: gbAfter.p50 <= 1.3,
      },
      {
        id: 'oneDayVsDuckdb',
        what: 'one cold day through bridge.query / plain DuckDB over the compacted file(s) holding it',
        goal: '<= 1.3',
        figure: dayAfter.p50,
        detail: `p90 ${dayAfter.p90}, paired median ${dayAfter.pairedMedian}; vs unordered plain p50 ${(dayQuery as { ratioAfterVsUnordered: Ratio }).ratioAfterVsUnordered.p50}; before compaction p50 ${(dayQuery as { ratioBefore: Ratio }).ratioBefore.p50}`,
        pass: dayAfter.p50 <= 1.3,
      },
      {
        id: 'compactionVsDuckdbCopy',
        what: 'store.maintenance.compact() (defaults, every table) seconds / plain DuckDB COPY of each group ORDER BY time, key into one file',
        goal: '<= 1.5',
        figure: compactRatio.p50,
        detail: `p90 ${compactRatio.p90}, paired median ${compactRatio.pairedMedian}, cpu-time ratio ${ratio(compactCpu, plainCpu).p50}; median ${r3(median(compactS))} s vs ${r3(median(plainS))} s`,
        pass: compactRatio.p50 <= 1.5,
      },
      { id: 'manifestRebuild', what: 'manifest rebuild of the whole tree, seconds per 1,000 files', goal: 'report', figure: null, detail: 'not measured here: benchmarked separately', pass: null },
    ];

    const table = (rowsT: string[][]): string => {
      const w = rowsT[0]!.map((_, i) => Math.max(...rowsT.map((r) => r[i]!.length)));
      return rowsT.map((r) => r.map((c, i) => c.padEnd(w[i]!)).join('  ')).join('\n');
    };
    const tree = [['table', 'files before', 'MB before', 'files after', 'MB after', 'rows']];
    const tables = [...new Set([...Object.keys(treeBefore.manifest), ...Object.keys(treeAfter.manifest)])];
    for (const t of tables) {
      const b = treeBefore.manifest[t];
      const a = treeAfter.manifest[t];
      tree.push([t, String(b?.files ?? 0), ((b?.bytes ?? 0) / MB).toFixed(2), String(a?.files ?? 0), ((a?.bytes ?? 0) / MB).toFixed(2), String(a?.rows ?? 0)]);
    }
    const tb = totals(treeBefore.manifest);
    const ta = totals(treeAfter.manifest);
    tree.push(['total', String(tb.files), (tb.bytes / MB).toFixed(2), String(ta.files), (ta.bytes / MB).toFixed(2), String(ta.rows)]);
    const figures = [['goal', 'figure', 'target', 'pass', 'detail'], ...goals.map((g) => [g.id, g.figure === null ? '-' : String(g.figure), g.goal, g.pass === null ? 'skip' : g.pass ? 'PASS' : 'FAIL', g.detail ?? ''])];
    process.stdout.write(`\nlifecycle: figures vs goals (ratios: p50 of interleaved samples)\n${table(figures)}\n\ncold tree (manifest, live files)\n${table(tree)}\n\n`);

    Object.assign(result, {
      goals,
      load,
      treeBefore: { ...treeBefore, total: tb },
      treeAfter: { ...treeAfter, total: ta, onDiskNote: 'onDisk still holds the retired inputs: they are unlinked by a later run once their TTL passed' },
      compaction: {
        defaults: { targetBytes: plan.targetBytes, minFiles: beforeConfig.compactMinFiles, zstdLevel: level, threads: beforeConfig.archiveMaxWorkers, memoryLimit: beforeConfig.duckdbMemoryLimit },
        groups: plan.tables.map((t) => ({ table: t.table, groups: t.groups.map((g) => ({ files: g.inputs.length, rows: g.rows, bytesIn: g.bytesIn })) })),
        compactSeconds: compactS.map((x) => round(x, 2)),
        plainCopySeconds: plainS.map((x) => round(x, 2)),
        plainCopySecondsPerTable: Object.fromEntries(Object.entries(plainPerTable).map(([k, v]) => [k, round(median(v), 2)])),
        compact: summarizeS(compactS),
        plainCopy: summarizeS(plainS),
        ratio: compactRatio,
        compactCpuSeconds: compactCpu.map((x) => round(x, 2)),
        plainCopyCpuSeconds: plainCpu.map((x) => round(x, 2)),
        cpuRatio: ratio(compactCpu, plainCpu),
        outputs: lastReport?.tables.map((t) => ({ table: t.table, filesBefore: t.filesBefore, filesAfter: t.filesAfter, bytesBefore: t.bytesBefore, bytesAfter: t.bytesAfter, rowsIn: t.rowsIn, rowsOut: t.rowsOut, duplicatesDropped: t.duplicatesDropped, outputs: t.groups.map((g) => g.output) })),
        plainCopyBytes: plainBytes,
        plainCopyBytesPerTable: plainPerTableBytes,
        breakdownSeconds: steps,
        note: 'compact = store.maintenance.compact() on a fresh copy (lease, run row, recovery, per group: sha256 of inputs, expected keys, fingerprint, COPY, fsync, read back, put, swap); plain = one DuckDB COPY per group of read_parquet(inputs) ORDER BY time, key, same threads/memory/level/row group size, no fsync',
      },
      bytes: {
        messagesBytesAfter,
        messagesFilesAfter: messagesAfter.map((f) => ({ path: f.path, rows: f.rows, bytes: f.bytes })),
        plainOneFileBytes: oneFile.bytes,
        plainOneFileSeconds: round(oneFile.seconds, 2),
        ratio: bytesRatio,
      },
      groupBy,
      dayQuery,
      sameAnswers: mismatches.length === 0,
      ...(mismatches.length > 0 ? { mismatches } : {}),
      durationSeconds: round((Date.now() - started) / 1000, 1),
    });
  } finally {
    duck.con.closeSync();
    duck.instance.closeSync();
    await storeBefore.close();
    await storeAfter?.close();
    rmSync(path.join(WORK_DIR, 'plain-out'), { recursive: true, force: true });
    rmSync(duckSpill, { recursive: true, force: true });
  }
  writeResult('lifecycle', result);
  if (mismatches.length > 0) throw new Error(`lifecycle bench: answers differ: ${mismatches.join('; ')}`);
}

/** Each contender's answer, one after the other (they share a connection). */
async function answers(fns: Record<string, () => Promise<unknown> | unknown>): Promise<Record<string, Row[]>> {
  const out: Record<string, Row[]> = {};
  for (const [k, f] of Object.entries(fns)) out[k] = (await f()) as Row[];
  return out;
}

function summarizeS(s: readonly number[]): { p50: number; p90: number } {
  const sorted = [...s].sort((a, b) => a - b);
  return { p50: round(percentile(sorted, 50), 3), p90: round(percentile(sorted, 90), 3) };
}
