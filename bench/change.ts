/**
 * Change benchmark (`npm run bench -- change`), the figures of issue 10: on the
 * demo data after archiving (bench/query.ts's cached data set: 1,000,000
 * messages over 400 days, the last 7 days hot), and again after compacting it
 * (store.maintenance.compact() at its defaults, as a user would):
 *
 *  - store.delete of BENCH_CHANGE_KEYS (1,000) random cold msg_ids (one call,
 *    `where: { msg_id: { in: [...] } }`), then a one-day bridge.query and an
 *    all-history GROUP BY through bridge.sql, each vs the same query on an
 *    untouched copy, interleaved in the same run [<= 1.1x];
 *  - store.erase of one sender (`chatroom_sender`, the one with the most
 *    messages: every message they sent into a group, all 400 days) with
 *    TIERDB_ERASE_GRACE_SECONDS=0, vs plain DuckDB rewriting each affected file
 *    by hand (`COPY (SELECT * FROM read_parquet(f) WHERE chatroom_sender IS
 *    DISTINCT FROM ?) TO …`, same zstd level and row group size, no fsync,
 *    the affected files handed to it for free) plus the SQLite DELETE
 *    [<= 1.5x]; the files touched; BENCH_CHANGE_ERASE_ROUNDS (3) rounds on
 *    fresh copies, the order of the sides alternating;
 *  - store.update of 1,000 other random cold msg_ids (`set: { content }`):
 *    its time, and the two queries afterwards vs the untouched copy [report].
 *
 * Every answer is checked against the expected one (the untouched copy's
 * answer with the change applied, itself checked against the never-archived
 * oracle); the run fails on any difference. Every use works on a copy (hot.db
 * + cold/, fsynced) under bench/data/change/ (gitignored).
 *
 * Env: BENCH_CHANGE_ROWS (1,000,000), BENCH_CHANGE_DAYS (400), BENCH_CHANGE_KEYS
 * (1,000), BENCH_CHANGE_DAY_RUNS (40), BENCH_CHANGE_GROUPBY_RUNS (20),
 * BENCH_CHANGE_ERASE_ROUNDS (3), BENCH_CHANGE_COMPACTED (1: also the compacted
 * tree).
 */
import { closeSync, cpSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import Database from 'better-sqlite3';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import registry from '../archive-registry.js';
import type { EraseReceipt } from '../src/change/eraseRows.js';
import { absoluteColdPath } from '../src/cold/coldLayout.js';
import { sqlString } from '../src/cold/DuckDbEngine.js';
import { fsyncFile } from '../src/cold/fsyncFile.js';
import { markerTotal } from '../src/manifest/deleteMarkers.js';
import { liveFilesExact } from '../src/manifest/manifestFiles.js';
import type { QueryOptions, Row } from '../src/query/QueryOptions.js';
import { openTierStore, type TierStore } from '../src/store/openTierStore.js';
import { benchConfig, DATA_NOW } from './archiveData.js';
import { BENCH_DATA_DIR, race, ratio, round, summarize, writeResult, type Ratio } from './lib.js';
import { ensureQueryData } from './query.js';

const log = (s: string): void => void process.stderr.write(`${s}\n`);
const DAY_S = 86_400;
const CUTOFF_S = DATA_NOW / 1000 - 7 * DAY_S;
const WORK_DIR = path.join(BENCH_DATA_DIR, 'change');
/** Every query reads the files (as bench/query.ts); an erase unlinks the replaced files at once (the measured figure). */
const ENV = { ARCHIVE_QUERY_CACHE_ENABLED: 'false', TIERDB_ERASE_GRACE_SECONDS: '0' };
const EDITED = 'edited by bench/change.ts';
const GROUP_BY = 'SELECT msg_type, count(*) AS n FROM messages GROUP BY 1 ORDER BY 1';

function intEnv(name: string, def: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? def : Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, got ${raw}`);
  return n;
}

const loadavg = (): number[] => os.loadavg().map((x) => round(x, 2));

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

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

/** A copy of a store's folder (hot file + cold tree; not the oracle), flushed to disk. */
function copyData(from: string, name: string): string {
  const dir = path.join(WORK_DIR, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const f of ['hot.db', 'hot.db-wal']) if (existsSync(path.join(from, f))) cpSync(path.join(from, f), path.join(dir, f));
  cpSync(path.join(from, 'cold'), path.join(dir, 'cold'), { recursive: true, filter: (src) => path.basename(src) !== '_tmp' });
  fsyncTree(dir);
  return dir;
}

async function open(dir: string): Promise<TierStore> {
  return openTierStore({ config: benchConfig(dir, ENV), registry });
}

// ---------------------------------------------------------------------------
// Answers.

const byKey = (rows: readonly Row[]): Row[] => [...rows].sort((a, b) => (BigInt(a.msg_id as bigint) < BigInt(b.msg_id as bigint) ? -1 : 1));

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

interface Inputs {
  deleteKeys: bigint[];
  updateKeys: bigint[];
  day: { lo: number; hi: number; date: string; deletedInDay: number; updatedInDay: number };
  sender: { id: string; messages: number; cold: number };
  oracleDay: Row[];
  oracleGroupBy: Row[];
  /** msg_type of each changed key (the GROUP BY after a delete loses them). */
  typeOf: Map<bigint, bigint>;
}

/** The changed keys, the day and the sender, from the never-archived oracle (seeded: the same every run). */
export function chooseInputs(oraclePath: string, keys: number): Inputs {
  const oracle = new Database(oraclePath, { readonly: true, fileMustExist: true });
  oracle.defaultSafeIntegers(true);
  try {
    const cold = oracle.prepare('SELECT msg_id FROM messages WHERE create_time < ? ORDER BY msg_id').pluck().all(CUTOFF_S) as bigint[];
    const r = rng(10);
    const picked = new Set<number>();
    while (picked.size < Math.min(2 * keys, cold.length)) picked.add(Math.floor(r() * cold.length));
    const all = [...picked].map((i) => cold[i]!);
    const deleteKeys = all.slice(0, keys);
    const updateKeys = all.slice(keys);
    const timeOf = oracle.prepare('SELECT create_time, msg_type FROM messages WHERE msg_id = ?').raw(true);
    const typeOf = new Map<bigint, bigint>();
    const dayOf = (k: bigint): number => {
      const [t, type] = timeOf.get(k) as [bigint, bigint];
      typeOf.set(k, type);
      return Math.floor(Number(t) / DAY_S) * DAY_S;
    };
    const delDays = new Map<number, number>();
    const updDays = new Map<number, number>();
    for (const k of deleteKeys) delDays.set(dayOf(k), (delDays.get(dayOf(k)) ?? 0) + 1);
    for (const k of updateKeys) updDays.set(dayOf(k), (updDays.get(dayOf(k)) ?? 0) + 1);
    // The day bench/query.ts and lifecycle.ts read (100 days before the cutoff), or the nearest one that holds a deleted and an updated key.
    const target = CUTOFF_S - 100 * DAY_S;
    let lo = target;
    for (let d = 0; d < 400; d++) {
      const c = [target - d * DAY_S, target + d * DAY_S].find((x) => x < CUTOFF_S && delDays.has(x) && updDays.has(x));
      if (c !== undefined) {
        lo = c;
        break;
      }
    }
    const hi = lo + DAY_S;
    const [sid, n] = oracle
      .prepare('SELECT chatroom_sender, count(*) FROM messages WHERE chatroom_sender IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1')
      .raw(true)
      .get() as [string, bigint];
    const senderCold = oracle.prepare('SELECT count(*) FROM messages WHERE chatroom_sender = ? AND create_time < ?').pluck().get(sid, CUTOFF_S) as bigint;
    return {
      deleteKeys,
      updateKeys,
      day: { lo, hi, date: new Date(lo * 1000).toISOString().slice(0, 10), deletedInDay: delDays.get(lo) ?? 0, updatedInDay: updDays.get(lo) ?? 0 },
      sender: { id: sid, messages: Number(n), cold: Number(senderCold) },
      oracleDay: oracle.prepare('SELECT * FROM messages WHERE create_time >= ? AND create_time < ? ORDER BY msg_id').all(lo, hi) as Row[],
      oracleGroupBy: oracle.prepare(GROUP_BY).all() as Row[],
      typeOf,
    };
  } finally {
    oracle.close();
  }
}

// ---------------------------------------------------------------------------
// Delete and update, and the queries afterwards.

interface ChangeFigures {
  deleteMs: number;
  updateMs: number;
  deleted: { hot: number; cold: number };
  updated: { hot: number; cold: number };
  markedFiles: { afterDelete: number; afterUpdate: number; live: number };
  day: Record<string, unknown>;
  groupBy: Record<string, unknown>;
  dayAfterDelete: Ratio;
  groupByAfterDelete: Ratio;
  dayAfterUpdate: Ratio;
  groupByAfterUpdate: Ratio;
  /** The same ratios of CPU time (the process's, DuckDB's threads included): steadier than wall time on a shared machine. */
  cpu: Record<'dayAfterDelete' | 'groupByAfterDelete' | 'dayAfterUpdate' | 'groupByAfterUpdate', Ratio>;
}

async function measureChanges(base: string, variant: string, inputs: Inputs, dayRuns: number, groupRuns: number, check: (name: string, a: readonly Row[], b: readonly Row[]) => void): Promise<ChangeFigures> {
  const before = await open(copyData(base, `${variant}-before`));
  const del = await open(copyData(base, `${variant}-delete`));
  const upd = await open(copyData(base, `${variant}-update`));
  try {
    let t0 = performance.now();
    const deleted = await del.delete('messages', { where: { msg_id: { in: inputs.deleteKeys } } });
    const deleteMs = performance.now() - t0;
    t0 = performance.now();
    const updated = await upd.update('messages', { where: { msg_id: { in: inputs.updateKeys } }, set: { content: EDITED } });
    const updateMs = performance.now() - t0;
    log(`  ${variant}: delete ${JSON.stringify(deleted)} in ${deleteMs.toFixed(0)} ms, update ${JSON.stringify(updated)} in ${updateMs.toFixed(0)} ms`);
    if (deleted.cold !== inputs.deleteKeys.length || deleted.hot !== 0) throw new Error(`delete changed ${JSON.stringify(deleted)}, expected ${inputs.deleteKeys.length} cold rows`);
    if (updated.cold !== inputs.updateKeys.length || updated.hot !== 0) throw new Error(`update changed ${JSON.stringify(updated)}, expected ${inputs.updateKeys.length} cold rows`);
    const markedFiles = (s: TierStore) => Number(s.hot.raw.prepare(`SELECT count(DISTINCT path) FROM _tierdb_deletes WHERE table_name = 'messages'`).pluck().get());

    // The expected answers: the untouched copy's (checked against the oracle) with the change applied.
    const q: QueryOptions = { where: { create_time: { gte: inputs.day.lo, lt: inputs.day.hi } } };
    const dayBefore = await before.bridge.query('messages', q);
    check(`${variant} day before vs oracle`, byKey(dayBefore), inputs.oracleDay);
    const gone = new Set(inputs.deleteKeys);
    const edited = new Set(inputs.updateKeys);
    const dayDel = byKey(dayBefore).filter((r) => !gone.has(r.msg_id as bigint));
    const dayUpd = byKey(dayBefore).map((r) => (edited.has(r.msg_id as bigint) ? { ...r, content: EDITED } : r));
    check(`${variant} day after delete`, byKey(await del.bridge.query('messages', q)), dayDel);
    check(`${variant} day after update`, byKey(await upd.bridge.query('messages', q)), dayUpd);
    const gbBefore = await before.bridge.sql(GROUP_BY);
    check(`${variant} GROUP BY before vs oracle`, gbBefore, inputs.oracleGroupBy);
    const lost = new Map<bigint, bigint>();
    for (const k of inputs.deleteKeys) lost.set(inputs.typeOf.get(k)!, (lost.get(inputs.typeOf.get(k)!) ?? 0n) + 1n);
    const gbDel = gbBefore.map((r) => ({ ...r, n: (r.n as bigint) - (lost.get(r.msg_type as bigint) ?? 0n) })).filter((r) => r.n > 0n);
    check(`${variant} GROUP BY after delete`, await del.bridge.sql(GROUP_BY), gbDel);
    check(`${variant} GROUP BY after update`, await upd.bridge.sql(GROUP_BY), gbBefore);
    const explainDel = await del.bridge.explain('messages', q);

    const dayCpu: Record<string, number[]> = {};
    const dayT = await race(dayRuns, 5, {
      before: () => before.bridge.query('messages', q),
      afterDelete: () => del.bridge.query('messages', q),
      afterUpdate: () => upd.bridge.query('messages', q),
    }, dayCpu);
    log(`  ${variant} one day: after delete ${JSON.stringify(ratio(dayT.afterDelete!, dayT.before!))}, after update ${JSON.stringify(ratio(dayT.afterUpdate!, dayT.before!))}`);
    const gbCpu: Record<string, number[]> = {};
    const gbT = await race(groupRuns, 3, {
      before: () => before.bridge.sql(GROUP_BY),
      afterDelete: () => del.bridge.sql(GROUP_BY),
      afterUpdate: () => upd.bridge.sql(GROUP_BY),
    }, gbCpu);
    log(`  ${variant} GROUP BY: after delete ${JSON.stringify(ratio(gbT.afterDelete!, gbT.before!))}, after update ${JSON.stringify(ratio(gbT.afterUpdate!, gbT.before!))}`);
    const live = liveFilesExact(before.hot.raw, 'messages');
    return {
      deleteMs: round(deleteMs, 1),
      updateMs: round(updateMs, 1),
      deleted,
      updated,
      markedFiles: { afterDelete: markedFiles(del), afterUpdate: markedFiles(upd), live: live.length },
      day: {
        what: `bridge.query('messages', { where: { create_time: { gte: ${inputs.day.lo}, lt: ${inputs.day.hi} } } }) = every message of ${inputs.day.date}`,
        rows: dayBefore.length,
        deletedKeysInDay: inputs.day.deletedInDay,
        updatedKeysInDay: inputs.day.updatedInDay,
        coldFilesRead: explainDel.coldFiles.length,
        markersAfterDelete: markerTotal(del.hot.raw, 'messages'),
        ...Object.fromEntries(Object.entries(dayT).map(([k, v]) => [k, summarize(v)])),
        cpuMs: Object.fromEntries(Object.entries(dayCpu).map(([k, v]) => [k, summarize(v)])),
      },
      groupBy: {
        what: `${GROUP_BY} (bridge.sql), all history`,
        ...Object.fromEntries(Object.entries(gbT).map(([k, v]) => [k, summarize(v)])),
        cpuMs: Object.fromEntries(Object.entries(gbCpu).map(([k, v]) => [k, summarize(v)])),
      },
      dayAfterDelete: ratio(dayT.afterDelete!, dayT.before!),
      groupByAfterDelete: ratio(gbT.afterDelete!, gbT.before!),
      dayAfterUpdate: ratio(dayT.afterUpdate!, dayT.before!),
      groupByAfterUpdate: ratio(gbT.afterUpdate!, gbT.before!),
      cpu: {
        dayAfterDelete: ratio(dayCpu.afterDelete!, dayCpu.before!),
        groupByAfterDelete: ratio(gbCpu.afterDelete!, gbCpu.before!),
        dayAfterUpdate: ratio(dayCpu.afterUpdate!, dayCpu.before!),
        groupByAfterUpdate: ratio(gbCpu.afterUpdate!, gbCpu.before!),
      },
    };
  } finally {
    for (const s of [before, del, upd]) await s.close();
    for (const n of ['before', 'delete', 'update']) rmSync(path.join(WORK_DIR, `${variant}-${n}`), { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// Erase vs plain DuckDB + SQLite.

/** The live messages files holding a row of the sender (manifest paths), found with plain DuckDB (not timed). */
async function affectedFiles(con: DuckDBConnection, dir: string, sender: string): Promise<string[]> {
  const store = new Database(path.join(dir, 'hot.db'), { readonly: true, fileMustExist: true });
  try {
    const files = liveFilesExact(store, 'messages').map((f) => f.path);
    const coldDir = path.join(dir, 'cold');
    const list = files.map((f) => sqlString(absoluteColdPath(coldDir, f))).join(', ');
    const rows = (await con.runAndReadAll(`SELECT DISTINCT filename FROM read_parquet([${list}], filename = true) WHERE chatroom_sender = ${sqlString(sender)}`)).getRowsJS();
    const hit = new Set(rows.map((r) => String(r[0])));
    return files.filter((f) => hit.has(absoluteColdPath(coldDir, f)));
  } finally {
    store.close();
  }
}

/** Plain DuckDB rewriting each affected file without the sender's rows (no fsync), then the SQLite DELETE. Returns ms and the parts. */
async function plainErase(con: DuckDBConnection, dir: string, files: readonly string[], sender: string, level: number): Promise<{ ms: number; copyMs: number; sqliteMs: number; rows: number }> {
  const out = path.join(dir, 'plain-out');
  mkdirSync(out, { recursive: true });
  const db = new Database(path.join(dir, 'hot.db'), { fileMustExist: true });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  try {
    const coldDir = path.join(dir, 'cold');
    const t0 = performance.now();
    for (const [i, f] of files.entries()) {
      await con.run(
        `COPY (SELECT * FROM read_parquet(${sqlString(absoluteColdPath(coldDir, f))}) WHERE chatroom_sender IS DISTINCT FROM ${sqlString(sender)}) ` +
          `TO ${sqlString(path.join(out, `f${i}.parquet`))} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL ${level}, ROW_GROUP_SIZE 122880)`,
      );
    }
    const t1 = performance.now();
    const rows = db.prepare('DELETE FROM messages WHERE chatroom_sender = ?').run(sender).changes;
    const t2 = performance.now();
    return { ms: t2 - t0, copyMs: t1 - t0, sqliteMs: t2 - t1, rows };
  } finally {
    db.close();
  }
}

interface EraseFigures {
  rounds: { order: string[]; eraseMs: number; plainMs: number; eraseCpuMs: number; plainCpuMs: number; plainCopyMs: number; plainSqliteMs: number; load: number[] }[];
  ratio: Ratio;
  cpuRatio: Ratio;
  erase: ReturnType<typeof summarize>;
  plain: ReturnType<typeof summarize>;
  filesTouched: number;
  filesLive: number;
  filesWithNoRowLeft: number;
  rowsErased: { hot: number; cold: number };
  receipt: EraseReceipt;
}

async function measureErase(base: string, variant: string, inputs: Inputs, rounds: number, duck: DuckDBConnection, level: number, mismatch: (m: string) => void): Promise<EraseFigures> {
  const sender = inputs.sender.id;
  const files = await affectedFiles(duck, base, sender);
  const liveCount = (() => {
    const db = new Database(path.join(base, 'hot.db'), { readonly: true, fileMustExist: true });
    try {
      return liveFilesExact(db, 'messages').length;
    } finally {
      db.close();
    }
  })();
  const out: EraseFigures['rounds'] = [];
  let receipt: EraseReceipt | undefined;
  for (let r = 0; r < rounds; r++) {
    const tdir = copyData(base, `${variant}-erase-tierdb`);
    const pdir = copyData(base, `${variant}-erase-plain`);
    const store = await open(tdir);
    let eraseMs = 0;
    let eraseCpuMs = 0;
    let plainCpuMs = 0;
    let plain = { ms: 0, copyMs: 0, sqliteMs: 0, rows: 0 };
    const cpuMs = (c0: NodeJS.CpuUsage): number => {
      const c = process.cpuUsage(c0);
      return (c.user + c.system) / 1000;
    };
    try {
      const sides: Record<string, () => Promise<void>> = {
        tierdb: async () => {
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          receipt = await store.erase('messages', { where: { chatroom_sender: sender } });
          eraseMs = performance.now() - t0;
          eraseCpuMs = cpuMs(c0);
        },
        plain: async () => {
          const c0 = process.cpuUsage();
          plain = await plainErase(duck, pdir, files, sender, level);
          plainCpuMs = cpuMs(c0);
        },
      };
      const order = r % 2 === 0 ? ['tierdb', 'plain'] : ['plain', 'tierdb'];
      for (const s of order) await sides[s]!();
      out.push({ order, eraseMs: round(eraseMs, 1), plainMs: round(plain.ms, 1), eraseCpuMs: round(eraseCpuMs, 1), plainCpuMs: round(plainCpuMs, 1), plainCopyMs: round(plain.copyMs, 1), plainSqliteMs: round(plain.sqliteMs, 1), load: loadavg() });
      log(`  ${variant} erase round ${r + 1}/${rounds} (${order.join(', ')}): store.erase ${eraseMs.toFixed(0)} ms (cpu ${eraseCpuMs.toFixed(0)}), plain ${plain.ms.toFixed(0)} ms (cpu ${plainCpuMs.toFixed(0)}; COPY ${plain.copyMs.toFixed(0)} + SQLite ${plain.sqliteMs.toFixed(0)}) (load ${loadavg().join(' ')})`);
      // The erase is exact: the sender's rows are gone, every other row is there.
      const rc = receipt!;
      if (rc.status !== 'complete') mismatch(`${variant} erase: receipt status ${rc.status}`);
      if (rc.hotRows + rc.coldRows !== inputs.sender.messages || rc.coldRows !== inputs.sender.cold) mismatch(`${variant} erase: ${rc.hotRows} hot + ${rc.coldRows} cold rows erased, expected ${inputs.sender.messages} (${inputs.sender.cold} cold)`);
      if (plain.rows !== inputs.sender.messages - inputs.sender.cold) mismatch(`${variant} plain erase deleted ${plain.rows} hot rows`);
      if (rc.files.length !== files.length || !isDeepStrictEqual(rc.files.map((f) => f.oldPath).sort(), [...files].sort())) mismatch(`${variant} erase touched ${rc.files.length} files, the plain search found ${files.length}`);
      const [left] = await store.bridge.sql('SELECT count(*) AS n FROM messages WHERE chatroom_sender = ?', [sender]);
      const [total] = await store.bridge.sql('SELECT count(*) AS n FROM messages');
      const want = inputs.oracleGroupBy.reduce((n, row) => n + (row.n as bigint), 0n) - BigInt(inputs.sender.messages);
      if (left!.n !== 0n || total!.n !== want) mismatch(`${variant} after erase: ${String(left!.n)} rows of the sender, ${String(total!.n)} rows in all (expected 0 and ${want})`);
    } finally {
      await store.close();
      rmSync(tdir, { recursive: true, force: true });
      rmSync(pdir, { recursive: true, force: true });
    }
  }
  const rc = receipt!;
  return {
    rounds: out,
    ratio: ratio(out.map((x) => x.eraseMs), out.map((x) => x.plainMs)),
    cpuRatio: ratio(out.map((x) => x.eraseCpuMs), out.map((x) => x.plainCpuMs)),
    erase: summarize(out.map((x) => x.eraseMs)),
    plain: summarize(out.map((x) => x.plainMs)),
    filesTouched: rc.files.length,
    filesLive: liveCount,
    filesWithNoRowLeft: rc.files.filter((f) => f.newPath === null).length,
    rowsErased: { hot: rc.hotRows, cold: rc.coldRows },
    receipt: rc,
  };
}

// ---------------------------------------------------------------------------
// The run.

interface Goal {
  id: string;
  what: string;
  goal: string;
  figure: number | null;
  detail?: string;
  pass: boolean | null;
}

export async function run(): Promise<void> {
  const rows = intEnv('BENCH_CHANGE_ROWS', 1_000_000);
  const days = intEnv('BENCH_CHANGE_DAYS', 400);
  const keys = Math.max(1, intEnv('BENCH_CHANGE_KEYS', 1_000));
  const dayRuns = Math.max(1, intEnv('BENCH_CHANGE_DAY_RUNS', 40));
  const groupRuns = Math.max(1, intEnv('BENCH_CHANGE_GROUPBY_RUNS', 20));
  const eraseRounds = Math.max(1, intEnv('BENCH_CHANGE_ERASE_ROUNDS', 3));
  const withCompacted = intEnv('BENCH_CHANGE_COMPACTED', 1) !== 0;
  const started = Date.now();
  const load: Record<string, number[]> = { start: loadavg() };
  log(`change bench: ${rows} messages over ${days} days, ${keys} keys; load average ${load.start!.join(' ')}`);

  const data = await ensureQueryData(rows, days);
  mkdirSync(WORK_DIR, { recursive: true });
  const inputs = chooseInputs(data.oracle, keys);
  log(`  day ${inputs.day.date} (${inputs.day.deletedInDay} deleted, ${inputs.day.updatedInDay} updated keys in it); sender ${inputs.sender.id}: ${inputs.sender.messages} messages (${inputs.sender.cold} cold)`);

  const config = benchConfig(data.dir, ENV);
  const level = config.archiveZstdLevel;
  const spill = path.join(WORK_DIR, 'plain-spill');
  mkdirSync(spill, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:', { threads: String(config.archiveMaxWorkers), memory_limit: config.duckdbMemoryLimit, temp_directory: spill });
  const duck = await instance.connect();
  const mismatches: string[] = [];
  const check = (name: string, a: readonly Row[], b: readonly Row[]): void => {
    const d = difference(a, b);
    if (d) mismatches.push(`${name}: ${d}`);
  };
  const variants: Record<string, { changes: ChangeFigures; erase: EraseFigures }> = {};
  const bases: { name: string; dir: string }[] = [{ name: 'archived', dir: data.dir }];
  try {
    if (withCompacted) {
      const dir = copyData(data.dir, 'compacted-base');
      const store = await open(dir);
      try {
        const t0 = performance.now();
        const report = await store.maintenance.compact();
        for (const t of report.tables) if (t.error) throw new Error(`compacting ${t.table} failed: ${t.error}`);
        log(`  compacted in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${report.tables.map((t) => `${t.table} ${t.filesBefore} -> ${t.filesAfter}`).join(', ')}`);
        store.hot.raw.pragma('wal_checkpoint(TRUNCATE)');
      } finally {
        await store.close();
      }
      bases.push({ name: 'compacted', dir });
    }
    for (const b of bases) {
      const changes = await measureChanges(b.dir, b.name, inputs, dayRuns, groupRuns, check);
      load[`${b.name}AfterQueries`] = loadavg();
      const erase = await measureErase(b.dir, b.name, inputs, eraseRounds, duck, level, (m) => mismatches.push(m));
      load[`${b.name}AfterErase`] = loadavg();
      variants[b.name] = { changes, erase };
    }
  } finally {
    duck.closeSync();
    instance.closeSync();
    rmSync(spill, { recursive: true, force: true });
    rmSync(path.join(WORK_DIR, 'compacted-base'), { recursive: true, force: true });
  }
  load.end = loadavg();

  const goals: Goal[] = [];
  for (const [v, f] of Object.entries(variants)) {
    const c = f.changes;
    goals.push(
      { id: `${v}.dayAfterDelete`, what: `one-day bridge.query after deleting ${keys} random cold keys / the same query before (${v})`, goal: '<= 1.1', figure: c.dayAfterDelete.p50, detail: `p90 ${c.dayAfterDelete.p90}, paired median ${c.dayAfterDelete.pairedMedian}, cpu ${c.cpu.dayAfterDelete.p50}; ${inputs.day.deletedInDay} deleted keys in the day`, pass: c.dayAfterDelete.p50 <= 1.1 },
      { id: `${v}.groupByAfterDelete`, what: `all-history GROUP BY through bridge.sql after the delete / before (${v})`, goal: '<= 1.1', figure: c.groupByAfterDelete.p50, detail: `p90 ${c.groupByAfterDelete.p90}, paired median ${c.groupByAfterDelete.pairedMedian}, cpu ${c.cpu.groupByAfterDelete.p50}; ${c.markedFiles.afterDelete} of ${c.markedFiles.live} files marked`, pass: c.groupByAfterDelete.p50 <= 1.1 },
      { id: `${v}.eraseVsPlain`, what: `store.erase of one sender (${f.erase.filesTouched} files touched) / plain DuckDB COPY per affected file + SQLite DELETE (${v})`, goal: '<= 1.5', figure: f.erase.ratio.p50, detail: `median ${f.erase.erase.p50} ms vs ${f.erase.plain.p50} ms; paired median ${f.erase.ratio.pairedMedian}, cpu ${f.erase.cpuRatio.p50}`, pass: f.erase.ratio.p50 <= 1.5 },
      { id: `${v}.updateMs`, what: `store.update of ${keys} cold rows, ms (${v})`, goal: 'report', figure: c.updateMs, detail: `delete of ${keys} cold keys ${c.deleteMs} ms`, pass: null },
      { id: `${v}.dayAfterUpdate`, what: `one-day bridge.query after the update / before (${v})`, goal: 'report (<= 1.1)', figure: c.dayAfterUpdate.p50, detail: `p90 ${c.dayAfterUpdate.p90}, paired median ${c.dayAfterUpdate.pairedMedian}, cpu ${c.cpu.dayAfterUpdate.p50}; ${inputs.day.updatedInDay} updated keys in the day`, pass: c.dayAfterUpdate.p50 <= 1.1 },
      { id: `${v}.groupByAfterUpdate`, what: `all-history GROUP BY after the update / before (${v})`, goal: 'report (<= 1.1)', figure: c.groupByAfterUpdate.p50, detail: `p90 ${c.groupByAfterUpdate.p90}, paired median ${c.groupByAfterUpdate.pairedMedian}, cpu ${c.cpu.groupByAfterUpdate.p50}`, pass: c.groupByAfterUpdate.p50 <= 1.1 },
    );
  }
  const table = (rowsT: string[][]): string => {
    const w = rowsT[0]!.map((_, i) => Math.max(...rowsT.map((r) => r[i]!.length)));
    return rowsT.map((r) => r.map((c, i) => c.padEnd(w[i]!)).join('  ')).join('\n');
  };
  const figures = [['goal', 'figure', 'target', 'pass', 'detail'], ...goals.map((g) => [g.id, g.figure === null ? '-' : String(g.figure), g.goal, g.pass === null ? 'report' : g.pass ? 'PASS' : 'FAIL', g.detail ?? ''])];
  process.stdout.write(`\nchange: figures vs goals (ratios: p50 of interleaved samples)\n${table(figures)}\n\n`);

  // The example receipt: the compacted tree's (2 files, whole) when measured, else the archived tree's with its first files.
  const example = variants.compacted?.erase.receipt ?? variants.archived?.erase.receipt;
  const exampleReceipt = example && (example.files.length <= 5 ? example : { ...example, files: example.files.slice(0, 3), filesNote: `first 3 of ${example.files.length}` });
  writeResult('change', {
    rows,
    days,
    keys,
    env: ENV,
    inputs: { day: inputs.day, sender: { ...inputs.sender, column: 'chatroom_sender' }, deleteKeysSample: inputs.deleteKeys.slice(0, 5).map(String) },
    goals,
    variants: Object.fromEntries(Object.entries(variants).map(([v, f]) => [v, { changes: f.changes, erase: { ...f.erase, receipt: undefined } }])),
    exampleReceipt,
    archivedReceiptFirstFiles: variants.archived && { files: variants.archived.erase.receipt.files.slice(0, 3), of: variants.archived.erase.receipt.files.length, backups: variants.archived.erase.receipt.backups },
    load,
    sameAnswers: mismatches.length === 0,
    ...(mismatches.length > 0 ? { mismatches } : {}),
    durationSeconds: round((Date.now() - started) / 1000, 1),
    note:
      'erase: TIERDB_ERASE_GRACE_SECONDS=0 (the replaced files unlinked at once; the default 30 s grace would add 30 s); plain = DuckDB COPY of each affected file without the rows ' +
      '(the file list given to it for free, no fsync, no verification) + one SQLite DELETE (no secure_delete, no VACUUM); store.erase timed alone (the store already open)',
  });
  if (mismatches.length > 0) throw new Error(`change bench: answers differ: ${mismatches.join('; ')}`);
}
