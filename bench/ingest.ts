/**
 * Ingest throughput: `store.hot.appendMessages` (validation + dedupe + one
 * transaction per batch) against a plain better-sqlite3 prepared INSERT of the
 * same rows into the same table, with the same pragmas and the same batches.
 * Rounds alternate between the two and the median of each is reported.
 *
 * BENCH_INGEST_ROWS (default 200000), BENCH_INGEST_ROUNDS (default 3).
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { loadConfig } from '../src/config.js';
import { APP_MIGRATIONS } from '../src/presets/wechat/wechatPreset.js';
import { generateMessages, type DemoMessage } from '../src/demo/generateDemoData.js';
import { MESSAGE_COLUMNS } from '../src/presets/wechat/messageRow.js';
import { openTierStore } from '../src/store/openTierStore.js';
import registry from '../archive-registry.js';
import { BENCH_DATA_DIR, round, writeResult } from './lib.js';

const BATCH = 1000;

/** Fixed end of the generated time range, so every run inserts the same rows. */
const NOW = Date.UTC(2026, 0, 1);

/** N realistic WeChat-like messages from the demo generator (64-bit msg_ids, XML content, extra_fields JSON). */
function demoMessages(n: number): DemoMessage[] {
  return [...generateMessages({ rows: n, seed: 42, now: NOW })];
}

function freshDir(name: string): string {
  const dir = path.join(BENCH_DATA_DIR, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The `messages` DDL exactly as the app migrations create it (table + indexes). */
function messagesDdl(): string {
  const sql = readFileSync(path.join(APP_MIGRATIONS, '0000_demo_schema.sql'), 'utf8');
  return sql
    .split('--> statement-breakpoint')
    .map((s) => s.trim())
    .filter((s) => /^CREATE (TABLE|INDEX) `?messages/.test(s) || /ON `messages`/.test(s))
    .join(';\n');
}

async function runTierdb(rows: readonly DemoMessage[], round: number): Promise<number> {
  const dir = freshDir(`ingest-tierdb-${round}`);
  const config = loadConfig({ env: { LOG_LEVEL: 'silent' }, envFile: false, dataDir: dir });
  const store = await openTierStore({ config, registry });
  try {
    const t0 = performance.now();
    let inserted = 0;
    for (let i = 0; i < rows.length; i += BATCH) {
      const r = await store.hot.appendMessages(rows.slice(i, i + BATCH));
      inserted += r.inserted;
      if (r.rejected.length > 0) throw new Error(`bench rows rejected: ${JSON.stringify(r.rejected.slice(0, 3))}`);
    }
    const seconds = (performance.now() - t0) / 1000;
    if (inserted !== rows.length) throw new Error(`tierdb inserted ${inserted} of ${rows.length}`);
    return rows.length / seconds;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function runPlain(rows: readonly DemoMessage[], round: number): number {
  const dir = freshDir(`ingest-plain-${round}`);
  const db = new Database(path.join(dir, 'plain.db'));
  try {
    db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.exec(messagesDdl());
    const cols = MESSAGE_COLUMNS.map((c) => `"${c}"`).join(', ');
    const stmt = db.prepare(`INSERT INTO messages (${cols}) VALUES (${MESSAGE_COLUMNS.map(() => '?').join(', ')}) ON CONFLICT(msg_id) DO NOTHING`);
    const insertBatch = db.transaction((batch: readonly DemoMessage[]) => {
      let n = 0;
      for (const r of batch) {
        n += stmt.run(
          r.msg_id,
          r.from_username,
          r.to_username,
          r.content,
          r.create_time,
          r.msg_type,
          r.is_chatroom_msg,
          r.chatroom,
          r.chatroom_sender,
          r.desc,
          r.source,
          r.guid,
          r.notify_type,
          r.extra_fields,
        ).changes;
      }
      return n;
    });
    const t0 = performance.now();
    let inserted = 0;
    for (let i = 0; i < rows.length; i += BATCH) inserted += insertBatch(rows.slice(i, i + BATCH));
    const seconds = (performance.now() - t0) / 1000;
    if (inserted !== rows.length) throw new Error(`plain inserted ${inserted} of ${rows.length}`);
    return rows.length / seconds;
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

export async function run(): Promise<void> {
  const n = Number(process.env.BENCH_INGEST_ROWS ?? 200_000);
  const rounds = Number(process.env.BENCH_INGEST_ROUNDS ?? 3);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`BENCH_INGEST_ROWS must be a positive integer, got ${process.env.BENCH_INGEST_ROWS}`);
  if (!Number.isInteger(rounds) || rounds <= 0) throw new Error(`BENCH_INGEST_ROUNDS must be a positive integer`);
  mkdirSync(BENCH_DATA_DIR, { recursive: true });
  const rows = demoMessages(n);

  // Warm-up (JIT, page cache) on a slice, not measured.
  const warm = rows.slice(0, Math.min(n, 20_000));
  runPlain(warm, -1);
  await runTierdb(warm, -1);

  const tierdb: number[] = [];
  const plain: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // Alternate which goes first, so neither always runs on a warmer machine.
    if (r % 2 === 0) {
      plain.push(runPlain(rows, r));
      tierdb.push(await runTierdb(rows, r));
    } else {
      tierdb.push(await runTierdb(rows, r));
      plain.push(runPlain(rows, r));
    }
    process.stderr.write(`ingest round ${r + 1}/${rounds}: tierdb ${Math.round(tierdb.at(-1)!)} rows/s, plain ${Math.round(plain.at(-1)!)} rows/s\n`);
  }
  const tierdbRps = median(tierdb);
  const plainRps = median(plain);
  writeResult('ingest', {
    rows: n,
    batchSize: BATCH,
    rounds,
    tierdb: { rowsPerSec: Math.round(tierdbRps), samples: tierdb.map(Math.round) },
    plain: { rowsPerSec: Math.round(plainRps), samples: plain.map(Math.round) },
    ratio: round(tierdbRps / plainRps),
    goal: 0.7,
    note: 'tierdb = store.hot.appendMessages (validate + dedupe + transaction per batch); plain = prepared INSERT ... ON CONFLICT DO NOTHING of the same rows, same DDL and pragmas, same batches',
  });
}
