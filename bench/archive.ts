/**
 * Archive benchmark (`npm run bench -- archive`), on the demo `messages` table
 * (400 days of WeChat-like rows ending at a fixed date). All figures are
 * ratios against raw engines measured in the same run:
 *
 *  1. speed: `store.archiver.run({ tables: ['messages'] })` against the "raw
 *     limit" = plain better-sqlite3 `.raw().iterate()` over the same rows (a
 *     copy of the same file) + a plain DuckDB COPY of those rows, already in an
 *     in-memory DuckDB table, to one zstd Parquet file at the same level.
 *     Median of BENCH_ARCHIVE_ROUNDS (3), alternating which goes first.
 *     Also: one COPY … PARTITION_BY into the archiver's Hive layout (the
 *     issue's second raw), and the hot deletes the job needs, by plain
 *     better-sqlite3 (rawDelete): the raw engines doing the whole job.
 *  2. size: manifest bytes vs SQLite bytes (dbstat, table + indexes) and vs
 *     DuckDB's own single-file COPY; zstd levels 3/6/9/19 (plain COPY), and
 *     archiver runs at BENCH_ARCHIVE_LEVEL_RUNS levels (default "3,19");
 *     BENCH_ZSTD_LEVELS (default "3,6,9,19") for the plain COPYs. Level 19
 *     is slow: ~3 min (COPY) and ~4 min (archiver) for 1M rows on 2 cores.
 *  3. peak RSS of an archive run in a child process, per BENCH_RSS_SIZES
 *     (default "1000000,4000000").
 *  4. writer latency: a separate process inserting 200 rows/s into `messages`
 *     (one autocommit INSERT each), p99 with no archive running vs during an
 *     archive run, for the default ARCHIVE_BATCH_SIZE and 5000, on the
 *     demo data (400 days: one chunk per day) and on dense data
 *     (BENCH_DENSE_DAYS=4 days: chunks reach the batch size).
 *  5. seed scenario: ~144 MB hot file, 234,000 task_queue rows over 180 days,
 *     HOT_DAYS_TASK=7: MB before / after and seconds.
 *  6. scaling (only when named in BENCH_ARCHIVE_SECTIONS): archive time, peak
 *     RSS, a one-day query and an all-history GROUP BY at BENCH_SCALING_SIZES
 *     (default 1M, 4M, 10M) messages.
 *
 * BENCH_ARCHIVE_ROWS (1000000) scales the table; BENCH_ARCHIVE_SECTIONS
 * ("speed,levels,rss,writer,seed") picks sections; BENCH_WRITER_SECONDS (10).
 * Data lives under bench/data/archive (gitignored); base files are cached.
 */
import { execFile, fork } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { DuckDBDataChunk, DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { listFiles } from '../src/manifest/manifestFiles.js';
import { affinityType, DUCKDB_TYPES, type ColdType } from '../src/cold/columnTypes.js';
import { fsyncFile } from '../src/cold/fsyncFile.js';
import { DELETE_LISTS, DrainPacer } from '../src/archive/drainFile.js';
import { WalCheckpointer } from '../src/hot/WalCheckpointer.js';
import { readColumns } from '../src/registry/resolveRegistry.js';
import { ENV_VARS } from '../src/config.js';
import { openTierStore } from '../src/store/openTierStore.js';
import registry from '../archive-registry.js';
import { absoluteColdPath } from '../src/cold/coldLayout.js';
import { ARCHIVE_DIR, ARCHIVE_NOW, BENCH_HOT_DAYS, benchConfig, DATA_NOW, DAY_MS, ensureBaseDb, freshCopy, median, removeDir, sqliteTableBytes, type BaseDb } from './archiveData.js';
import { percentile, previousResult, round, writeResult } from './lib.js';
import { hotFileBytes, SEED_SCENARIO_ENV, SEED_SCENARIO_FULL, writeSeedScenario } from './seedScenario.js';

const execFileP = promisify(execFile);
const log = (s: string): void => void process.stderr.write(`${s}\n`);
const MB = 1e6;
const DEFAULT_LEVEL = 6;
/** The configured default (ENV_VARS), so the bench measures what users get. */
const DEFAULT_BATCH = Number(ENV_VARS.ARCHIVE_BATCH_SIZE.default);

function intEnv(name: string, def: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? def : Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return n;
}
function listEnv(name: string, def: string): string[] {
  return (process.env[name] ?? def)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

// ---------------------------------------------------------------------------
// The raw limit: plain better-sqlite3 read + plain DuckDB COPY.

/** Plain `.raw().iterate()` over every row of `messages` (safe integers, as the archiver reads). */
function rawRead(file: string): { seconds: number; rows: number } {
  const db = new Database(file, { readonly: true });
  try {
    const cols = readColumns(db, 'messages')!.map((c) => `"${c.name}"`).join(', ');
    const stmt = db.prepare(`SELECT ${cols} FROM messages`).raw(true).safeIntegers(true);
    const t0 = performance.now();
    let rows = 0;
    for (const row of stmt.iterate()) if (row) rows++;
    return { seconds: (performance.now() - t0) / 1000, rows };
  } finally {
    db.close();
  }
}

/**
 * The hot deletes an archive run must make, done by plain better-sqlite3 on a copy of the same
 * file: every row before the cutoff, in the drain's order (create_time, then key), with the
 * store's pragmas (WAL, synchronous NORMAL) and, as during an archive run, the WAL checkpointed by
 * PASSIVE checkpoints on another thread (WalCheckpointer) rather than inside the timed commits.
 * `bounded`: by key in the drain's `IN` lists (DELETE_LISTS), each transaction sized by the
 * drain's own DrainPacer to hold the write lock about ARCHIVE_LOCK_TARGET_MS, as the issue's writer
 * goal demands of every archiver transaction; unlike the drain, a transaction may span days (the
 * drain never spans a file) and does no manifest bookkeeping. `oneStatement`: one
 * `DELETE … WHERE create_time < ?`, one transaction, no bound on the write lock. The key list is
 * read untimed (the raw read above already pays for reading every row).
 */
async function rawDelete(file: string, mode: 'bounded' | 'oneStatement', beforeTime: number, lockTargetMs: number): Promise<{ seconds: number; rows: number; transactions: number }> {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    const keys = mode === 'bounded' ? db.prepare('SELECT msg_id FROM messages WHERE create_time < ? ORDER BY create_time, msg_id').pluck().safeIntegers(true).all(beforeTime) : [];
    const checkpointer = WalCheckpointer.start(db);
    let rows = 0;
    let transactions = 0;
    const t0 = performance.now();
    if (mode === 'oneStatement') {
      rows = db.prepare('DELETE FROM messages WHERE create_time < ?').run(beforeTime).changes;
      transactions = 1;
    } else {
      const lists = DELETE_LISTS.map((size) => ({ size, stmt: db.prepare(`DELETE FROM messages WHERE msg_id IN (${'?,'.repeat(size - 1)}?)`) }));
      const pacer = new DrainPacer(lockTargetMs);
      for (let i = 0, end = 0; i < keys.length; i = end) {
        end = Math.min(keys.length, i + pacer.nextRows());
        const s0 = performance.now();
        db.transaction(() => {
          let j = i;
          for (const { size, stmt } of lists) for (; end - j >= size; j += size) rows += stmt.run(...keys.slice(j, j + size)).changes;
        })();
        transactions++;
        pacer.record(end - i, performance.now() - s0, 0);
      }
    }
    await checkpointer?.stop();
    return { seconds: (performance.now() - t0) / 1000, rows, transactions };
  } finally {
    db.close();
  }
}

interface DuckTable {
  instance: DuckDBInstance;
  con: DuckDBConnection;
  rows: number;
  close(): void;
}

/** Loads every `messages` row of `file` into an in-memory DuckDB table `messages` (not timed). */
async function loadDuckTable(file: string, threads: number): Promise<DuckTable> {
  // Same threads as the archiver; memory enough to hold the whole table.
  const instance = await DuckDBInstance.create(':memory:', { threads: String(threads), memory_limit: '6GB' });
  const con = await instance.connect();
  const db = new Database(file, { readonly: true });
  try {
    const columns = readColumns(db, 'messages')!;
    const types: ColdType[] = columns.map((c) => affinityType(c.declaredType) ?? 'VARCHAR');
    await con.run(`CREATE TABLE messages (${columns.map((c, i) => `"${c.name}" ${types[i]}`).join(', ')})`);
    const appender = await con.createAppender('messages');
    const duckTypes = types.map((t) => DUCKDB_TYPES[t]);
    const stmt = db.prepare(`SELECT ${columns.map((c) => `"${c.name}"`).join(', ')} FROM messages`).raw(true).safeIntegers(true);
    let buf: unknown[][] = [];
    let rows = 0;
    const flush = (): void => {
      const chunk = DuckDBDataChunk.create(duckTypes, buf.length);
      for (let c = 0; c < columns.length; c++) chunk.setColumnValues(c, buf.map((r) => (r[c] ?? null) as DuckDBValue));
      appender.appendDataChunk(chunk);
      rows += buf.length;
      buf = [];
    };
    for (const row of stmt.iterate() as IterableIterator<unknown[]>) {
      buf.push(row);
      if (buf.length === 2048) flush();
    }
    if (buf.length > 0) flush();
    appender.flushSync();
    appender.closeSync();
    return {
      instance,
      con,
      rows,
      close() {
        con.closeSync();
        instance.closeSync();
      },
    };
  } catch (error) {
    con.closeSync();
    instance.closeSync();
    throw error;
  } finally {
    db.close();
  }
}

/** Plain DuckDB COPY of the in-memory table to one zstd Parquet file (same row group size as the archiver). */
async function duckCopy(t: DuckTable, file: string, level: number): Promise<{ seconds: number; bytes: number }> {
  rmSync(file, { force: true });
  const t0 = performance.now();
  await t.con.run(`COPY messages TO '${file}' (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL ${level}, ROW_GROUP_SIZE 122880)`);
  const seconds = (performance.now() - t0) / 1000;
  const bytes = statSync(file).size;
  fsyncFile(file); // not timed: "plain" COPY; the archiver does fsync its files
  rmSync(file, { force: true });
  return { seconds, bytes };
}

/**
 * The raw engine writing the archiver's layout: one DuckDB COPY … PARTITION_BY
 * (year, month, day) of the in-memory table into Hive folders (the partition
 * columns are not written into the files, as in the archiver's day files).
 * Not fsynced (a "plain" COPY); returns the files written.
 */
async function duckCopyPartitioned(t: DuckTable, dir: string, level: number): Promise<{ seconds: number; files: number }> {
  removeDir(dir);
  const t0 = performance.now();
  const ts = 'epoch_ms(create_time * 1000)';
  await t.con.run(
    `COPY (SELECT *, year(${ts}) AS year, month(${ts}) AS month, day(${ts}) AS day FROM messages) TO '${dir}' ` +
      `(FORMAT parquet, PARTITION_BY (year, month, day), COMPRESSION zstd, COMPRESSION_LEVEL ${level}, ROW_GROUP_SIZE 122880)`,
  );
  const seconds = (performance.now() - t0) / 1000;
  const files = readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith('.parquet')).length;
  removeDir(dir);
  return { seconds, files };
}

// ---------------------------------------------------------------------------
// The archiver.

interface ArchiveRun {
  seconds: number;
  /** Until the last chunk committed (the rest is reclaiming space + bookkeeping). */
  moveSeconds: number;
  rows: number;
  files: number;
  coldBytes: number;
  maxFileRows: number;
  hotBytesBefore: number;
  hotBytesAfter: number;
  reclaimMode: string | null;
}

async function archiveInProcess(dir: string, env: Record<string, string> = {}): Promise<ArchiveRun> {
  const store = await openTierStore({ config: benchConfig(dir, env), registry });
  try {
    let lastProgress = 0;
    const t0 = performance.now();
    const report = await store.archiver.run({ tables: ['messages'], now: ARCHIVE_NOW, onProgress: () => (lastProgress = performance.now()) });
    const seconds = (performance.now() - t0) / 1000;
    const t = report.tables[0]!;
    if (t.error) throw new Error(`archive failed: ${t.error}`);
    const files = listFiles(store.hot.raw, 'messages', ['live']);
    return {
      seconds,
      moveSeconds: (lastProgress - t0) / 1000,
      rows: t.rowsMoved,
      files: files.length,
      coldBytes: files.reduce((a, f) => a + f.bytes, 0),
      maxFileRows: files.reduce((a, f) => Math.max(a, f.rows), 0),
      hotBytesBefore: report.hotBytesBefore,
      hotBytesAfter: report.hotBytesAfter,
      reclaimMode: report.reclaim?.mode ?? null,
    };
  } finally {
    await store.close();
  }
}

// ---------------------------------------------------------------------------
// Sections.

async function speedAndSize(base: BaseDb, duck: DuckTable, rounds: number): Promise<Record<string, unknown>> {
  const level = DEFAULT_LEVEL;
  const sqliteBytes = sqliteTableBytes(base.file, 'messages');
  const archive: ArchiveRun[] = [];
  const raw: { read: number; copy: number; total: number; bytes: number; layoutCopy: number; layoutTotal: number; layoutFiles: number; del: number; delOne: number; delTxns: number }[] = [];
  // Every row before the archiver's cutoff: BENCH_HOT_DAYS before ARCHIVE_NOW, a UTC midnight (the archiver moves whole days).
  const beforeTime = Math.floor((ARCHIVE_NOW - BENCH_HOT_DAYS * DAY_MS) / 1000);
  const lockTargetMs = benchConfig(ARCHIVE_DIR).archiveLockTargetMs;
  for (let r = 0; r < rounds; r++) {
    const doRaw = async () => {
      const dir = freshCopy(base, `speed-raw-${r}`);
      const read = rawRead(path.join(dir, 'hot.db'));
      if (read.rows !== base.rows) throw new Error(`raw read ${read.rows} rows, expected ${base.rows}`);
      const copy = await duckCopy(duck, path.join(dir, 'single.parquet'), level);
      const layout = await duckCopyPartitioned(duck, path.join(dir, 'layout'), level);
      const del = await rawDelete(path.join(dir, 'hot.db'), 'bounded', beforeTime, lockTargetMs);
      removeDir(dir);
      const dirOne = freshCopy(base, `speed-raw-${r}-one`);
      const delOne = await rawDelete(path.join(dirOne, 'hot.db'), 'oneStatement', beforeTime, lockTargetMs);
      removeDir(dirOne);
      if (del.rows !== base.rows || delOne.rows !== base.rows) throw new Error(`raw deletes removed ${del.rows} / ${delOne.rows} rows, expected ${base.rows}`);
      raw.push({ read: read.seconds, copy: copy.seconds, total: read.seconds + copy.seconds, bytes: copy.bytes, layoutCopy: layout.seconds, layoutTotal: read.seconds + layout.seconds, layoutFiles: layout.files, del: del.seconds, delOne: delOne.seconds, delTxns: del.transactions });
    };
    const doArchive = async () => {
      const dir = freshCopy(base, `speed-archive-${r}`);
      const run = await archiveInProcess(dir, { ARCHIVE_ZSTD_LEVEL: String(level) });
      // The archiver keeps the newest rowid hot (no AUTOINCREMENT: a moved max rowid could be reused).
      if (run.rows !== base.rows && run.rows !== base.rows - 1) throw new Error(`archiver moved ${run.rows} rows, expected ${base.rows}`);
      archive.push(run);
      removeDir(dir);
    };
    if (r % 2 === 0) {
      await doRaw();
      await doArchive();
    } else {
      await doArchive();
      await doRaw();
    }
    log(`speed round ${r + 1}/${rounds}: archive ${archive.at(-1)!.seconds.toFixed(1)} s (${archive.at(-1)!.files} files), raw ${raw.at(-1)!.total.toFixed(1)} s (read ${raw.at(-1)!.read.toFixed(1)} + copy ${raw.at(-1)!.copy.toFixed(1)}; same layout: copy ${raw.at(-1)!.layoutCopy.toFixed(1)}, ${raw.at(-1)!.layoutFiles} files; deletes: ${raw.at(-1)!.del.toFixed(1)} s bounded (${raw.at(-1)!.delTxns} transactions), ${raw.at(-1)!.delOne.toFixed(1)} s one statement)`);
  }
  const archiveS = median(archive.map((a) => a.seconds));
  const rawS = median(raw.map((x) => x.total));
  const rawLayoutS = median(raw.map((x) => x.layoutTotal));
  const rawDeleteS = median(raw.map((x) => x.del));
  const rawDeleteOneS = median(raw.map((x) => x.delOne));
  const withDeleteS = median(raw.map((x) => x.layoutTotal + x.del));
  const a0 = archive[0]!;
  const singleBytes = raw[0]!.bytes;
  return {
    speed: {
      zstdLevel: level,
      archiveSeconds: round(archiveS, 2),
      archiveMoveSeconds: round(median(archive.map((a) => a.moveSeconds)), 2),
      rawSeconds: round(rawS, 2),
      rawReadSeconds: round(median(raw.map((x) => x.read)), 2),
      rawCopySeconds: round(median(raw.map((x) => x.copy)), 2),
      ratio: round(archiveS / rawS, 2),
      goal: 2,
      rawSameLayoutSeconds: round(rawLayoutS, 2),
      rawSameLayoutCopySeconds: round(median(raw.map((x) => x.layoutCopy)), 2),
      rawSameLayoutFiles: raw[0]!.layoutFiles,
      ratioSameLayout: round(archiveS / rawLayoutS, 2),
      goalSameLayout: 1.5,
      rawDeleteSeconds: round(rawDeleteS, 2),
      rawDeleteOneStatementSeconds: round(rawDeleteOneS, 2),
      rawSameLayoutWithDeleteSeconds: round(withDeleteS, 2),
      ratioSameLayoutWithDelete: round(archiveS / withDeleteS, 2),
      archiveRowsPerSec: Math.round(base.rows / archiveS),
      files: a0.files,
      rowsPerFileAvg: Math.round(base.rows / a0.files),
      rowsPerFileMax: a0.maxFileRows,
      rowsMoved: a0.rows,
      msPerFile: round((archiveS * 1000) / a0.files, 1),
      samples: { archive: archive.map((a) => round(a.seconds, 2)), raw: raw.map((x) => round(x.total, 2)), rawSameLayout: raw.map((x) => round(x.layoutTotal, 2)), rawDelete: raw.map((x) => round(x.del, 2)), rawDeleteTransactions: raw.map((x) => x.delTxns), rawDeleteOneStatement: raw.map((x) => round(x.delOne, 2)) },
      note: 'archive = store.archiver.run (read, Parquet per chunk, verify, fsync, rename, commit+delete, reclaim); raw = .raw().iterate() over a copy + DuckDB COPY of an in-memory table to one file (goal <= 2); rawSameLayout = the same read + one COPY … PARTITION_BY (year, month, day) into Hive folders (goal <= 1.5); rawDelete = plain better-sqlite3 deleting the same rows by key in the drain order, in the IN lists of the drain and transactions sized by its DrainPacer to ~ARCHIVE_LOCK_TARGET_MS (4 ms) each, the WAL checkpointed on another thread as during a run (rawDeleteOneStatement: one DELETE, one transaction, no bound on the write lock); ratioSameLayoutWithDelete = archive / (rawSameLayout + rawDelete): the raw engines doing the same work one after another (the archiver overlaps its read and its deletes, so this sum is no lower bound)',
    },
    size: {
      zstdLevel: level,
      sqliteBytes,
      coldBytes: a0.coldBytes,
      duckdbSingleFileBytes: singleBytes,
      coldVsSqlite: round(a0.coldBytes / sqliteBytes, 3),
      sqliteVsCold: round(sqliteBytes / a0.coldBytes, 2),
      coldVsDuckdbSingleFile: round(a0.coldBytes / singleBytes, 3),
      goalVsDuckdb: 1.1,
      hotFileMBBefore: round(a0.hotBytesBefore / MB, 1),
      hotFileMBAfter: round(a0.hotBytesAfter / MB, 2),
      reclaimMode: a0.reclaimMode,
    },
  };
}

async function levels(base: BaseDb, duck: DuckTable, rounds: number): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const ref = await duckCopy(duck, path.join(ARCHIVE_DIR, 'level-ref.parquet'), DEFAULT_LEVEL);
  out.duckdbCopy_reference_zstd6_bytes = ref.bytes;
  for (const level of listEnv('BENCH_ZSTD_LEVELS', '3,6,9,19').map(Number)) {
    const n = level >= 19 ? 1 : rounds;
    const runs: { seconds: number; bytes: number }[] = [];
    for (let i = 0; i < n; i++) runs.push(await duckCopy(duck, path.join(ARCHIVE_DIR, `level-${level}.parquet`), level));
    const s = median(runs.map((x) => x.seconds));
    out[`duckdbCopy_zstd${level}`] = {
      bytes: runs[0]!.bytes,
      seconds: round(s, 2),
      bytesVsLevel6: round(runs[0]!.bytes / ref.bytes, 3),
      runs: n,
    };
    log(`zstd ${level}: ${(runs[0]!.bytes / MB).toFixed(1)} MB in ${s.toFixed(1)} s (plain COPY)`);
  }
  // The archiver itself at other levels (per-chunk files), one run each, in a child process.
  for (const lv of listEnv('BENCH_ARCHIVE_LEVEL_RUNS', '3,19')) {
    const level = Number(lv);
    const dir = freshCopy(base, `level-archive-${level}`);
    const child = await archiveChild(dir, DEFAULT_BATCH, level);
    removeDir(dir);
    out[`archiver_zstd${level}`] = { bytes: child.bytesOut, seconds: round(child.seconds, 2) };
    log(`archiver zstd ${level}: ${(child.bytesOut / MB).toFixed(1)} MB in ${child.seconds.toFixed(1)} s`);
  }
  return out;
}

interface ChildResult {
  rowsMoved: number;
  files: number;
  bytesOut: number;
  error: string | null;
  seconds: number;
  rssBeforeKiB: number;
  maxRssKiB: number;
}

async function archiveChild(dir: string, batch: number, level: number, env: Record<string, string> = {}): Promise<ChildResult> {
  const { stdout } = await execFileP(
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, 'archive-child.ts'), dir, String(batch), String(level)],
    { maxBuffer: 16 * 2 ** 20, cwd: path.resolve(import.meta.dirname, '..'), env: { ...process.env, ...env } },
  );
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildResult;
  if (result.error) throw new Error(`archive child failed: ${result.error}`);
  return result;
}

/**
 * Peak RSS of an archive run per size, twice: as a plain `node` process, and with MALLOC_ARENA_MAX=2.
 * What is left of the peak beyond V8's heap is native, and most of its spread from run to run is
 * glibc's per-thread malloc arenas (DuckDB's threads, libuv's pool): 290-460 MB for the same 1M run.
 */
async function rss(): Promise<Record<string, unknown>> {
  const sizes = listEnv('BENCH_RSS_SIZES', '1000000,4000000').map(Number);
  const variants: [string, Record<string, string>][] = [
    ['default', {}],
    ['mallocArenaMax2', { MALLOC_ARENA_MAX: '2' }],
  ];
  const out: Record<string, unknown> = {};
  const peaks: Record<string, number[]> = {};
  for (const size of sizes) {
    const base = await ensureBaseDb(size, 400, log);
    const entry: Record<string, unknown> = {};
    for (const [name, env] of variants) {
      const dir = freshCopy(base, `rss-${size}`);
      const child = await archiveChild(dir, DEFAULT_BATCH, DEFAULT_LEVEL, env);
      const store = await openTierStore({ config: benchConfig(dir), registry });
      const maxFileRows = listFiles(store.hot.raw, 'messages', ['live']).reduce((a, f) => Math.max(a, f.rows), 0);
      await store.close();
      removeDir(dir);
      if (child.rowsMoved !== size && child.rowsMoved !== size - 1) throw new Error(`rss run moved ${child.rowsMoved} of ${size}`);
      (peaks[name] ??= []).push(child.maxRssKiB);
      entry[name] = {
        peakRssMB: round((child.maxRssKiB * 1024) / MB, 1),
        rssAfterOpenImportsMB: round((child.rssBeforeKiB * 1024) / MB, 1),
        seconds: round(child.seconds, 1),
        files: child.files,
        largestChunkRows: maxFileRows,
      };
      log(`rss ${size} (${name}): peak ${((child.maxRssKiB * 1024) / MB).toFixed(0)} MB, ${child.seconds.toFixed(1)} s, largest chunk ${maxFileRows} rows`);
    }
    out[String(size)] = entry;
  }
  for (const [name, p] of Object.entries(peaks)) if (p.length >= 2) out[`ratioLargestVsSmallest_${name}`] = round(p.at(-1)! / p[0]!, 3);
  out.goal = 1.2;
  return out;
}

/** Median wall ms of `runs` calls of `f` (one warm-up call first). */
async function medianMs(runs: number, f: () => Promise<unknown>): Promise<number> {
  await f();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await f();
    ms.push(performance.now() - t0);
  }
  return round(median(ms), 2);
}

/**
 * Section `scaling` (issue 11 item 6): per BENCH_SCALING_SIZES (default
 * "1000000,4000000,10000000") demo messages over 400 days, an archive run in
 * a child process (time, peak RSS), then on the archived tree a one-day
 * bridge.query and an all-history GROUP BY through bridge.sql, each beside
 * plain DuckDB over the same files in the same minutes (the cold result cache
 * off: every query reads the files).
 */
async function scaling(): Promise<Record<string, unknown>> {
  const sizes = listEnv('BENCH_SCALING_SIZES', '1000000,4000000,10000000').map(Number);
  const runs = intEnv('BENCH_SCALING_QUERY_RUNS', 15);
  const out: Record<string, unknown>[] = [];
  for (const size of sizes) {
    const base = await ensureBaseDb(size, 400, log);
    const dir = freshCopy(base, `scaling-${size}`);
    try {
      const child = await archiveChild(dir, DEFAULT_BATCH, DEFAULT_LEVEL);
      if (child.rowsMoved !== size && child.rowsMoved !== size - 1) throw new Error(`scaling run moved ${child.rowsMoved} of ${size}`);
      const store = await openTierStore({ config: benchConfig(dir, { ARCHIVE_QUERY_CACHE_ENABLED: 'false' }), registry });
      const duck = await DuckDBInstance.create(':memory:', { threads: String(benchConfig(dir).archiveMaxWorkers) });
      const con = await duck.connect();
      try {
        const files = listFiles(store.hot.raw, 'messages', ['live']);
        const list = `[${files.map((f) => `'${absoluteColdPath(path.join(dir, 'cold'), f.path).replaceAll("'", "''")}'`).join(', ')}]`;
        const dayS = Math.floor((DATA_NOW - 100 * DAY_MS) / 1000 / 86_400) * 86_400;
        const dayFiles = files.filter((f) => f.min_time_ms < (dayS + 86_400) * 1000 && f.max_time_ms >= dayS * 1000);
        const dayList = `[${dayFiles.map((f) => `'${absoluteColdPath(path.join(dir, 'cold'), f.path).replaceAll("'", "''")}'`).join(', ')}]`;
        const groupBy = 'SELECT msg_type, count(*) AS n FROM messages GROUP BY 1 ORDER BY 1';
        const where = { create_time: { gte: dayS, lt: dayS + 86_400 } };
        const dayRows = (await store.bridge.query('messages', { where })).length;
        const rawDay = `SELECT * FROM read_parquet(${dayList}) WHERE create_time >= ${dayS} AND create_time < ${dayS + 86_400}`;
        const rawDayRows = (await con.runAndReadAll(rawDay)).getRows().length;
        if (rawDayRows !== dayRows) throw new Error(`one day: bridge ${dayRows} rows, DuckDB ${rawDayRows}`);
        const day = await medianMs(runs, () => store.bridge.query('messages', { where }));
        const dayDuck = await medianMs(runs, async () => (await con.runAndReadAll(rawDay)).getRowObjectsJS());
        const all = await medianMs(runs, () => store.bridge.sql(groupBy));
        const allDuck = await medianMs(runs, async () => (await con.runAndReadAll(`SELECT msg_type, count(*) AS n FROM read_parquet(${list}) GROUP BY 1 ORDER BY 1`)).getRowObjectsJS());
        const row = {
          rows: size,
          archiveSeconds: round(child.seconds, 1),
          secondsPerMillionRows: round(child.seconds / (size / 1e6), 2),
          peakRssMB: round((child.maxRssKiB * 1024) / MB, 1),
          files: files.length,
          coldMB: round(files.reduce((a, f) => a + f.bytes, 0) / MB, 1),
          oneDay: { rows: dayRows, bridgeMs: day, duckdbMs: dayDuck, ratio: round(day / dayDuck, 2) },
          groupByAllHistory: { bridgeMs: all, duckdbMs: allDuck, ratio: round(all / allDuck, 2) },
          load: os.loadavg().map((x) => round(x, 2)),
        };
        log(`scaling ${size}: archive ${row.archiveSeconds} s (${row.secondsPerMillionRows} s/1M), peak ${row.peakRssMB} MB, day ${day} ms (duckdb ${dayDuck}), GROUP BY ${all} ms (duckdb ${allDuck})`);
        out.push(row);
      } finally {
        con.closeSync();
        duck.closeSync();
        await store.close();
      }
    } finally {
      removeDir(dir);
    }
  }
  const first = out[0] as { secondsPerMillionRows: number; peakRssMB: number } | undefined;
  const last = out.at(-1) as { secondsPerMillionRows: number; peakRssMB: number } | undefined;
  return {
    sizes: out,
    ...(first && last && out.length > 1
      ? { secondsPerMillionLargestVsSmallest: round(last.secondsPerMillionRows / first.secondsPerMillionRows, 2), peakRssLargestVsSmallest: round(last.peakRssMB / first.peakRssMB, 2) }
      : {}),
    goal: 'time linear in rows (s per 1M rows flat), peak RSS flat',
  };
}

interface WriterStats {
  samples: number;
  p50: number;
  p99: number;
  max: number;
  over50ms: number;
  errors: number;
}

function stats(ms: number[] | undefined, errors: number): WriterStats {
  const s = [...(ms ?? [])].sort((a, b) => a - b);
  return {
    samples: s.length,
    p50: round(percentile(s, 50), 2),
    p99: round(percentile(s, 99), 2),
    max: round(s.at(-1) ?? NaN, 1),
    over50ms: s.filter((x) => x > 50).length,
    errors,
  };
}

/** Baseline for `seconds`, then an archive run of the copy in `dir`, with the writer process inserting throughout. */
async function writerScenario(dir: string, batch: number, seconds: number): Promise<Record<string, unknown>> {
  const child = fork(path.join(import.meta.dirname, 'archive-writer.ts'), [path.join(dir, 'hot.db'), '200'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T>(pred: (m: T) => boolean) =>
    new Promise<T>((resolve, reject) => {
      const on = (m: T) => {
        if (pred(m)) {
          child.off('message', on);
          resolve(m);
        }
      };
      child.on('message', on);
      child.once('exit', (code) => reject(new Error(`writer exited with ${code}`)));
    });
  try {
    await next<{ ready?: boolean }>((m) => m.ready === true);
    child.send({ phase: 'baseline' });
    await next<{ started?: string }>((m) => m.started === 'baseline');
    await new Promise((r) => setTimeout(r, seconds * 1000));
    child.send({ phase: 'archive' });
    await next<{ started?: string }>((m) => m.started === 'archive');
    const run = await archiveInProcess(dir, { ARCHIVE_BATCH_SIZE: String(batch) });
    const done = next<{ phases?: Record<string, number[]>; errors?: string[] }>((m) => m.phases !== undefined);
    child.send({ stop: true });
    const result = await done;
    const errs = result.errors ?? [];
    return {
      batchSize: batch,
      archiveSeconds: round(run.seconds, 1),
      chunks: run.files,
      largestChunkRows: run.maxFileRows,
      baseline: stats(result.phases!.baseline, 0),
      duringArchive: stats(result.phases!.archive, errs.length),
      ...(errs.length > 0 ? { errorSamples: errs.slice(0, 3) } : {}),
    };
  } finally {
    if (child.exitCode === null) child.kill();
  }
}

async function writer(base: BaseDb): Promise<Record<string, unknown>> {
  const seconds = intEnv('BENCH_WRITER_SECONDS', 10);
  const denseDays = intEnv('BENCH_DENSE_DAYS', 4);
  const batches = listEnv('BENCH_WRITER_BATCHES', `${DEFAULT_BATCH},5000`).map(Number);
  const out: Record<string, unknown> = { rowsPerSec: 200, baselineSeconds: seconds, goalP99Ms: 50 };
  const dense = await ensureBaseDb(base.rows, denseDays, log);
  for (const [label, b] of [
    ['demo400days', base],
    [`dense${denseDays}days`, dense],
  ] as const) {
    const runs: Record<string, unknown>[] = [];
    for (const batch of batches) {
      const dir = freshCopy(b, `writer-${label}-${batch}`);
      const r = await writerScenario(dir, batch, seconds);
      removeDir(dir);
      runs.push(r);
      const d = r.duringArchive as WriterStats;
      const bl = r.baseline as WriterStats;
      log(`writer ${label} batch ${batch}: baseline p99 ${bl.p99} ms, during archive p99 ${d.p99} ms (max ${d.max}, ${d.over50ms} > 50 ms, ${d.errors} errors), largest chunk ${String(r.largestChunkRows)}`);
    }
    out[label] = runs;
  }
  return out;
}

async function seedScenario(): Promise<Record<string, unknown>> {
  const dir = path.join(ARCHIVE_DIR, 'seed');
  removeDir(dir);
  const now = Date.UTC(2026, 2, 15, 12);
  const store = await openTierStore({ config: benchConfig(dir, { ...SEED_SCENARIO_ENV }), registry });
  try {
    const t0 = performance.now();
    const counts = writeSeedScenario(store.hot.raw, { ...SEED_SCENARIO_FULL, now });
    store.hot.raw.pragma('wal_checkpoint(TRUNCATE)');
    const genSeconds = (performance.now() - t0) / 1000;
    const hotPath = path.join(dir, 'hot.db');
    const before = hotFileBytes(hotPath);
    const t1 = performance.now();
    const report = await store.archiver.run({ now });
    const seconds = (performance.now() - t1) / 1000;
    const after = hotFileBytes(hotPath);
    const task = report.tables.find((t) => t.table === 'task_queue')!;
    const hotTasks = store.hot.raw.prepare('SELECT count(*) FROM task_queue').pluck().get() as number;
    const coldTasks = listFiles(store.hot.raw, 'task_queue', ['live']).reduce((a, f) => a + f.rows, 0);
    const second = await store.archiver.run({ now });
    const result = {
      taskRows: counts.task_queue,
      days: SEED_SCENARIO_FULL.days,
      hotMBBefore: round(before / MB, 1),
      hotMBAfter: round(after / MB, 2),
      shrink: round(before / after, 1),
      goalMBAfter: 10,
      archiveSeconds: round(seconds, 1),
      generateSeconds: round(genSeconds, 1),
      taskRowsMoved: task.rowsMoved,
      taskFiles: task.files,
      taskRowsHotAfter: hotTasks,
      rowsConserved: hotTasks + coldTasks === counts.task_queue,
      secondRunRowsMoved: second.tables.reduce((a, t) => a + t.rowsMoved, 0),
      coldMB: round(report.tables.reduce((a, t) => a + t.bytesOut, 0) / MB, 1),
    };
    log(`seed scenario: ${result.hotMBBefore} MB -> ${result.hotMBAfter} MB in ${result.archiveSeconds} s`);
    return result;
  } finally {
    await store.close();
    removeDir(dir);
  }
}

/** The result keys each section writes. */
const SECTION_KEYS: Record<string, readonly string[]> = {
  speed: ['speed', 'size', 'sqliteFileMB'],
  levels: ['zstdLevels'],
  rss: ['peakRss'],
  writer: ['writerLatency'],
  seed: ['seedScenario'],
  scaling: ['scaling'],
};

/** The last results file's figures of the sections not run now (so BENCH_ARCHIVE_SECTIONS updates only what it runs). */
function previousSections(running: ReadonlySet<string>): Record<string, unknown> {
  const previous = previousResult('archive');
  const kept: Record<string, unknown> = {};
  for (const [section, keys] of Object.entries(SECTION_KEYS)) {
    if (running.has(section)) continue;
    for (const k of keys) if (k in previous) kept[k] = previous[k];
  }
  if (previous.loadAverage) kept.loadAverage = previous.loadAverage;
  return kept;
}

export async function run(): Promise<void> {
  const rows = intEnv('BENCH_ARCHIVE_ROWS', 1_000_000);
  const rounds = intEnv('BENCH_ARCHIVE_ROUNDS', 3);
  const sections = new Set(listEnv('BENCH_ARCHIVE_SECTIONS', 'speed,levels,rss,writer,seed'));
  // Sections not run keep their figures from the last results file (with the load they were taken at).
  const result: Record<string, unknown> = { ...previousSections(sections), rows, table: 'messages', days: 400, rounds, archiveNow: new Date(ARCHIVE_NOW).toISOString() };
  result.loadAverage = { ...((result.loadAverage as Record<string, unknown> | undefined) ?? {}), ...Object.fromEntries([...sections].map((s) => [s, os.loadavg().map((x) => round(x, 2))])) };
  const base = await ensureBaseDb(rows, 400, log);
  result.sqliteFileMB = round(statSync(base.file).size / MB, 1);
  if (sections.has('speed') || sections.has('levels')) {
    const threads = benchConfig(ARCHIVE_DIR).archiveMaxWorkers;
    const l0 = performance.now();
    const duck = await loadDuckTable(base.file, threads);
    const loadSeconds = (performance.now() - l0) / 1000;
    try {
      if (duck.rows !== rows) throw new Error(`DuckDB table holds ${duck.rows} rows, expected ${rows}`);
      if (sections.has('speed')) {
        Object.assign(result, await speedAndSize(base, duck, rounds));
        // What both raws leave out: bringing the rows from SQLite into DuckDB (iterate + data chunks + appender; once, in no ratio).
        (result.speed as Record<string, unknown>).rawLoadIntoDuckdbSeconds = round(loadSeconds, 2);
      }
      if (sections.has('levels')) result.zstdLevels = await levels(base, duck, rounds);
    } finally {
      duck.close();
    }
  }
  if (sections.has('rss')) result.peakRss = await rss();
  if (sections.has('writer')) result.writerLatency = await writer(base);
  if (sections.has('seed')) result.seedScenario = await seedScenario();
  if (sections.has('scaling')) result.scaling = await scaling();
  result.note = `hot days: HOT_DAYS_MESSAGES=7 with now=${new Date(ARCHIVE_NOW).toISOString().slice(0, 10)}, data ending ${new Date(ARCHIVE_NOW - 8 * DAY_MS).toISOString().slice(0, 10)}: every row moves`;
  writeResult('archive', result);
}
