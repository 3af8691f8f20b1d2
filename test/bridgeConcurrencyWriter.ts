/**
 * The other process of test/bridgeConcurrency.test.ts: an application writing
 * and archiving while the test queries. Started with fork() (IPC) as
 * `node --import tsx test/bridgeConcurrencyWriter.ts <dataDir> <startNowMs> <endNowMs>`.
 *
 * Each round:
 *  1. inserts deterministic `backfill` rows into old (mostly already archived)
 *     days and a few `new` rows at the simulated clock (task_queue; the
 *     test's fixed rows have task_type 'fixed' and are never touched);
 *  2. runs archiver.run({ now }) — the fixed rows move hot → cold a day at a
 *     time while the clock advances, the backfill rows every round;
 *  3. every second round, compacts up to 8 archived days that have several
 *     live files (each into one file), as compaction must (DESIGN.md): the new file is listed
 *     and the old ones retired in one transaction, and the retired files are
 *     unlinked RETIRE_UNLINK_MS later (real compaction waits 10 minutes; the
 *     test's queries take milliseconds, but a loaded CI machine can stall one for seconds).
 * The clock advances by STEP_MS a round until endNowMs, then stays there.
 *
 * Backfill row k: msg_id = k, priority = k % 7, payload = `b<k>`,
 * created_at = backfillTime(k) — the test checks every backfill row it sees.
 *
 * Messages to the parent: { ready }, { round, rowsMoved, files, compacted }
 * after each round, { error } (then exit 1); on { stop } it finishes the
 * round, closes the store and replies { done: stats }.
 */
import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import registry from '../archive-registry.js';
import { Lease } from '../src/archive/lease.js';
import { insertManifestFile, listFiles, type ManifestFile } from '../src/manifest/manifestFiles.js';
import { bumpManifestVersion } from '../src/manifest/manifestVersion.js';
import { absoluteColdPath, TMP_DIR } from '../src/cold/coldLayout.js';
import { DuckDbEngine, sqlString } from '../src/cold/DuckDbEngine.js';
import { fsyncFile } from '../src/cold/fsyncFile.js';
import { readBackKeys } from '../src/cold/ParquetChunkWriter.js';
import { loadConfig } from '../src/config.js';
import { openTierStore } from '../src/store/openTierStore.js';

export const DAY_S = 86_400;
export const STEP_MS = 6 * 3_600_000;
export const RETIRE_UNLINK_MS = 10_000;
/** Pause between rounds: the archiver commits several times a second without taking a whole core. */
export const ROUND_PAUSE_MS = 250;
/** Where backfill rows fall: the 30 days before this (seconds). */
export const BACKFILL_END_S = Math.floor(Date.UTC(2026, 5, 15) / 1000);

/** The created_at of backfill row k: 20 rows a day (so a round touches 2 days), cycling through the 30 days before BACKFILL_END_S. */
export function backfillTime(k: number): number {
  const day = Math.floor(k / 20) % 30;
  return BACKFILL_END_S - (day + 1) * DAY_S + ((k * 7_919) % DAY_S);
}

async function main(): Promise<void> {
  const [dataDir, startArg, endArg] = process.argv.slice(2);
  if (!dataDir || !startArg || !endArg || !process.send) throw new Error('usage: fork test/bridgeConcurrencyWriter.ts <dataDir> <startNowMs> <endNowMs>');
  const send = (m: unknown): void => void process.send!(m);
  let stopping = false;
  process.on('message', (m: { stop?: boolean }) => {
    if (m.stop) stopping = true;
  });
  const config = loadConfig({ env: { LOG_LEVEL: 'silent', HOT_DAYS_TASK: '7' }, envFile: false, dataDir });
  const store = await openTierStore({ config, registry });
  const raw = store.hot.raw;
  const engine = await DuckDbEngine.create({ memoryLimit: '256MB', threads: 1 });
  const insert = raw.prepare(
    `INSERT INTO task_queue (task_type, status, priority, msg_id, payload, attempts, created_at) VALUES (?, 'done', ?, ?, ?, 0, ?)`,
  );
  let k = Number(raw.prepare(`SELECT coalesce(max(msg_id), 0) FROM task_queue WHERE task_type = 'backfill'`).pluck().get()) + 1;
  let now = Number(startArg);
  const end = Number(endArg);
  const stats = { rounds: 0, rowsMoved: 0, files: 0, compacted: 0, retiredUnlinked: 0, backfill: 0 };
  const toUnlink: { at: number; files: ManifestFile[] }[] = [];
  send({ ready: true });
  while (!stopping) {
    raw.transaction(() => {
      for (let i = 0; i < 40; i++, k++) insert.run('backfill', k % 7, k, `b${k}`, backfillTime(k));
      for (let i = 0; i < 5; i++) insert.run('new', 0, null, null, Math.floor(now / 1000) - i);
    })();
    stats.backfill += 40;
    const report = await store.archiver.run({ now, tables: ['task_queue'] });
    const t = report.tables[0]!;
    if (t.error) throw new Error(`archive round ${stats.rounds}: ${t.error}`);
    stats.rowsMoved += t.rowsMoved;
    stats.files += t.files;
    let compacted = 0;
    if (stats.rounds % 2 === 1) for (let i = 0; i < 8; i++) compacted += await compactOneDay(store.config.coldDir, raw, engine, toUnlink);
    stats.compacted += compacted;
    while (toUnlink.length > 0 && toUnlink[0]!.at <= Date.now()) {
      const { files } = toUnlink.shift()!;
      raw.transaction(() => {
        for (const f of files) raw.prepare('DELETE FROM _tierdb_files WHERE id = ?').run(f.id);
        bumpManifestVersion(raw);
      })();
      for (const f of files) rmSync(absoluteColdPath(store.config.coldDir, f.path), { force: true });
      stats.retiredUnlinked += files.length;
    }
    stats.rounds++;
    send({ round: stats.rounds, rowsMoved: t.rowsMoved, files: t.files, compacted, now });
    if (now < end) now = Math.min(end, now + STEP_MS);
    await new Promise((resolve) => setTimeout(resolve, ROUND_PAUSE_MS));
  }
  engine.close();
  await store.close();
  // The IPC channel keeps a forked child alive: leave it once the reply is out.
  process.send!({ done: stats }, () => process.disconnect());
}

/** Merges the live files of the day with the most files (≥ 2) into one; returns how many files it retired. */
async function compactOneDay(coldDir: string, raw: import('better-sqlite3').Database, engine: DuckDbEngine, toUnlink: { at: number; files: ManifestFile[] }[]): Promise<number> {
  const lease = Lease.acquire(raw);
  try {
    const live = listFiles(raw, 'task_queue', ['live']);
    const byDay = new Map<string, ManifestFile[]>();
    for (const f of live) byDay.set(f.partition, [...(byDay.get(f.partition) ?? []), f]);
    const [day, files] = [...byDay.entries()].sort((a, b) => b[1].length - a[1].length)[0] ?? [];
    if (!day || !files || files.length < 2) return 0;
    const id = `c${process.pid}-${Date.now()}`;
    const tmp = path.join(coldDir, TMP_DIR, `task_queue-${id}.parquet.tmp`);
    const rel = `${path.posix.dirname(files[0]!.path)}/part-${id}.parquet`;
    const abs = absoluteColdPath(coldDir, rel);
    const list = files.map((f) => sqlString(absoluteColdPath(coldDir, f.path))).join(', ');
    mkdirSync(path.dirname(tmp), { recursive: true });
    await engine.connection.run(
      `COPY (SELECT * FROM read_parquet([${list}]) ORDER BY created_at, id) TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    fsyncFile(tmp);
    const back = await readBackKeys(engine, tmp, 'id');
    const rows = files.reduce((a, f) => a + f.rows, 0);
    if (back.rows !== rows) throw new Error(`compaction of ${day}: ${back.rows} rows read back, expected ${rows}`);
    renameSync(tmp, abs);
    const num = (v: unknown): number => Number(v);
    raw
      .transaction(() => {
        insertManifestFile(raw, {
          table_name: 'task_queue',
          path: rel,
          partition: day,
          rows,
          min_time_ms: Math.min(...files.map((f) => num(f.min_time_ms))),
          max_time_ms: Math.max(...files.map((f) => num(f.max_time_ms))),
          min_key: Math.min(...files.map((f) => num(f.min_key))),
          max_key: Math.max(...files.map((f) => num(f.max_key))),
          bytes: statSync(abs).size,
          hot_bytes: null,
          checksum: back.checksum,
          file_sha256: null,
          schema_json: files[0]!.schema_json,
          state: 'live',
          run_id: null,
          created_at_ms: Date.now(),
          visible_after_ms: null,
        });
        const retire = raw.prepare(`UPDATE _tierdb_files SET state = 'retired', retired_at_ms = ? WHERE id = ? AND state = 'live'`);
        for (const f of files) if (retire.run(Date.now(), f.id).changes !== 1) throw new Error(`file ${f.path} changed meanwhile`);
        bumpManifestVersion(raw);
      })
      .immediate();
    toUnlink.push({ at: Date.now() + RETIRE_UNLINK_MS, files });
    return files.length;
  } finally {
    lease.release();
  }
}

// Run only as the forked script (the test imports the constants above).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.send?.({ error: error instanceof Error ? `${error.message}\n${error.stack}` : String(error) });
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 100);
  });
}
