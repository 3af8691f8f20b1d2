/**
 * The app keeps updating old rows while another process archives them. An
 * update that lands between the archiver's read and the drain of that row must
 * never be lost: the row stays hot (its file copy masked) and moves on a later
 * run, so the value readers see always carries every update that succeeded.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../src/cold/DuckDbEngine.js';
import { readParquetRows } from '../src/cold/ParquetChunkWriter.js';
import { absoluteColdPath } from '../src/cold/coldLayout.js';
import type { ArchiveReport } from '../src/archive/ArchiveReport.js';
import { NOW_MS, expectExactlyOnce, readTierState, runCli, seedTaskQueue } from './archiveFixtures.js';
import { tempDir, testConfig } from './helpers.js';
import { openTierStore } from '../src/store/openTierStore.js';

/**
 * Every row's `attempts` as readers see it: through the bridge (hot rows, the
 * drained rows of live files, delete markers applied), and also straight from
 * the files with the same rules (readTierState's), which must agree.
 */
async function visibleAttempts(dir: string, env: Record<string, string>): Promise<Map<bigint, bigint>> {
  const store = await openTierStore({ config: testConfig(dir, env) });
  const out = new Map<bigint, bigint>();
  try {
    const rows = (await store.bridge.sql('SELECT id, attempts FROM task_queue')) as { id: bigint; attempts: bigint }[];
    for (const r of rows) {
      expect(out.has(r.id), `id ${r.id} read twice`).toBe(false);
      out.set(r.id, r.attempts);
    }
  } finally {
    await store.close();
  }
  const db = new Database(path.join(dir, 'hot.db'), { readonly: true });
  db.defaultSafeIntegers(true);
  const fromFiles = new Map<bigint, bigint>();
  try {
    for (const r of db.prepare('SELECT id, attempts FROM task_queue').all() as { id: bigint; attempts: bigint }[]) fromFiles.set(r.id, r.attempts);
    const files = db.prepare(`SELECT path, rows, drained_rows FROM _tierdb_files WHERE state = 'live'`).safeIntegers(false).all() as { path: string; rows: number; drained_rows: number | null }[];
    const masked = new Set((db.prepare('SELECT path, key FROM _tierdb_deletes').all() as { path: string; key: bigint }[]).map((m) => `${m.path}\0${m.key}`));
    const engine = await DuckDbEngine.create({ memoryLimit: '256MB', threads: 1 });
    try {
      for (const f of files) {
        const rows = await readParquetRows(engine, absoluteColdPath(path.join(dir, 'cold'), f.path), ['id', 'attempts']);
        for (const [id, value] of rows.slice(0, f.drained_rows ?? f.rows)) if (!masked.has(`${f.path}\0${String(id)}`)) fromFiles.set(id as bigint, value as bigint);
      }
    } finally {
      engine.close();
    }
  } finally {
    db.close();
  }
  expect(fromFiles).toEqual(out);
  return out;
}

describe('archiving while the app updates old rows', () => {
  it('loses no update: changed rows stay hot, their file copies masked, and move later', async () => {
    const dir = tempDir();
    const env = { ARCHIVE_BATCH_SIZE: '40', HOT_DAYS_TASK: '7', LOG_LEVEL: 'silent' };
    const total = await seedTaskQueue(dir, 4000, 30, env);
    const db = new Database(path.join(dir, 'hot.db'));
    db.pragma('busy_timeout = 5000');
    db.defaultSafeIntegers(true);
    const attempts = new Map<bigint, bigint>();
    for (const row of db.prepare('SELECT id, attempts FROM task_queue').all() as { id: bigint; attempts: bigint }[]) attempts.set(row.id, row.attempts);
    const ids = [...attempts.keys()];
    const bump = db.prepare('UPDATE task_queue SET attempts = attempts + 1 WHERE id = ?');

    let abandoned = 0;
    let updates = 0;
    for (let run = 0; run < 2; run++) {
      let done = false;
      const child = runCli(['--data-dir', dir, 'archive', '--table', 'task_queue', '--now', new Date(NOW_MS).toISOString(), '--json'], env).then((r) => {
        done = true;
        return r;
      });
      let seed = 99 + run;
      while (!done) {
        for (let i = 0; i < 25; i++) {
          seed = (seed * 48271) % 2147483647;
          const id = ids[seed % ids.length]!;
          if (bump.run(id).changes === 1) {
            attempts.set(id, attempts.get(id)! + 1n);
            updates++;
          }
        }
        await new Promise((r) => setTimeout(r, 1));
      }
      const result = await child;
      expect(result.code, result.stderr).toBe(0);
      abandoned += (JSON.parse(result.stdout) as ArchiveReport).tables[0]!.abandoned;
    }

    // Every row, hot or cold, carries every update that succeeded.
    db.close();
    const actual = await visibleAttempts(dir, env);
    const lost = ids.filter((id) => actual.get(id) !== attempts.get(id));
    expect(lost, 'rows whose final value misses an update').toEqual([]);
    expect(updates).toBeGreaterThan(500);
    expect(abandoned, 'no chunk raced with an update; the test did not exercise the check').toBeGreaterThan(0);
    expectExactlyOnce(await readTierState(dir), total);
  }, 120_000);

  it('in one process too: app writes through store.hot.raw while store.archiver.run awaits DuckDB', async () => {
    const dir = tempDir();
    const env = { ARCHIVE_BATCH_SIZE: '40', HOT_DAYS_TASK: '7', LOG_LEVEL: 'silent' };
    const total = await seedTaskQueue(dir, 3000, 30, env);
    const store = await openTierStore({ config: testConfig(dir, env) });
    const raw = store.hot.raw;
    const expected = new Map<number, number>();
    for (const row of raw.prepare('SELECT id, attempts FROM task_queue').all() as { id: number; attempts: number }[]) expected.set(row.id, row.attempts);
    const ids = [...expected.keys()];
    const bump = raw.prepare('UPDATE task_queue SET attempts = attempts + 1 WHERE id = ?');
    let running = true;
    let seed = 5;
    const hammer = (): void => {
      if (!running) return;
      for (let i = 0; i < 10; i++) {
        seed = (seed * 48271) % 2147483647;
        const id = ids[seed % ids.length]!;
        if (bump.run(id).changes === 1) expected.set(id, expected.get(id)! + 1);
      }
      setImmediate(hammer);
    };
    let report: ArchiveReport;
    try {
      setImmediate(hammer);
      report = await store.archiver.run({ now: NOW_MS, tables: ['task_queue'] });
    } finally {
      running = false;
    }
    await store.close();
    const visible = await visibleAttempts(dir, env);
    expect(ids.filter((id) => visible.get(BigInt(id)) !== BigInt(expected.get(id)!)), 'rows whose final value misses an update').toEqual([]);
    expect(report.tables[0]!.abandoned, 'no chunk raced with an update').toBeGreaterThan(0);
    expectExactlyOnce(await readTierState(dir), total);
  }, 120_000);
});
