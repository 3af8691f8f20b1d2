/**
 * A table with at least ARCHIVE_THREAD_MIN_ROWS rows to move is read, staged and
 * written to temp files on the archive worker thread (WorkerChunkProducer,
 * chunkWorker); below it, on the archiver's own thread. Both must give the same
 * cold tier: the same files (partitions, rows, keys, checksums, row
 * fingerprints) and, through the bridge, every row exactly as it was. Real
 * SQLite, Parquet and DuckDB; the crash tests (test/crash.test.ts) kill every
 * step with the worker too.
 */
import { cpSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openTierStore } from '../src/store/openTierStore.js';
import { NOW_MS, seedTaskQueue } from './archiveFixtures.js';
import { tempDir, testConfig } from './helpers.js';

const ENV = { ARCHIVE_BATCH_SIZE: '60', HOT_DAYS_TASK: '7', LOG_LEVEL: 'silent' };
const ROWS = 6000;

interface Outcome {
  workerThread: boolean;
  rowsMoved: number;
  files: { partition: string; rows: number; min_key: string; max_key: string; checksum: string }[];
  rows: Record<string, unknown>[];
}

async function seedTemplate(): Promise<{ template: string; due: number; rows: Record<string, unknown>[] }> {
  const template = tempDir();
  await seedTaskQueue(template, ROWS, 40, ENV);
  const store = await openTierStore({ config: testConfig(template, ENV) });
  try {
    const due = store.hot.raw.prepare(`SELECT count(*) FROM task_queue WHERE created_at < ?`).pluck().get(NOW_MS / 1000 - 7 * 86_400) as number;
    return { template, due, rows: await store.bridge.sql('SELECT * FROM task_queue ORDER BY id') };
  } finally {
    await store.close();
  }
}

/** Runs `body` with the process's environment extended by `env` (the worker thread inherits it when it starts). */
async function withEnv<T>(env: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await body();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

async function archiveWith(template: string, minRows: string): Promise<Outcome> {
  const dir = tempDir();
  cpSync(template, dir, { recursive: true });
  const store = await openTierStore({ config: testConfig(dir, { ...ENV, ARCHIVE_THREAD_MIN_ROWS: minRows }) });
  try {
    const report = await store.archiver.run({ tables: ['task_queue'], now: NOW_MS });
    const t = report.tables[0]!;
    expect(t.error).toBeUndefined();
    const files = store.hot.raw
      .prepare(`SELECT partition, rows, min_key, max_key, checksum FROM _tierdb_files WHERE table_name = 'task_queue' AND state = 'live' ORDER BY partition, min_key`)
      .all() as Outcome['files'];
    const rows = await store.bridge.sql('SELECT * FROM task_queue ORDER BY id');
    return { workerThread: t.workerThread === true, rowsMoved: t.rowsMoved, files, rows };
  } finally {
    await store.close();
  }
}

describe('the archive worker thread', () => {
  it('moves a table at ARCHIVE_THREAD_MIN_ROWS on the worker and one row below it on this thread: the same files, every row exact', async () => {
    const { template, ...before } = await seedTemplate();
    expect(before.due).toBeGreaterThan(ROWS / 2);
    // The whole days before the cutoff: at least the rows due (a partial day of them stays hot).
    const onWorker = await archiveWith(template, String(before.due - 200));
    const here = await archiveWith(template, String(before.due + 100_000));
    expect(onWorker.workerThread).toBe(true);
    expect(here.workerThread).toBe(false);
    expect(onWorker.rowsMoved).toBeGreaterThan(0);
    expect(onWorker.rowsMoved).toBe(here.rowsMoved);
    // Chunks of ARCHIVE_BATCH_SIZE rows, several per day: the cursor carried across the threads.
    expect(onWorker.files.length).toBeGreaterThan(60);
    expect(onWorker.files.some((f) => f.rows === 60)).toBe(true);
    expect(onWorker.files).toEqual(here.files);
    expect(onWorker.rows).toEqual(before.rows);
    expect(here.rows).toEqual(before.rows);
  });

  // A fault part-way (the 5th chunk): the table's run fails with the fault named, nothing is lost, hidden or
  // doubled, no temp file is left once the next run has recovered, and that run moves the rest.
  const faults = [
    { fault: 'worker-exits', minRows: '0', error: /archive worker thread exited \(code 70\)/ },
    { fault: 'temp-write-fails', minRows: '0', error: /injected fault temp-write-fails/ },
    { fault: 'temp-write-fails', minRows: '999999999', error: /injected fault temp-write-fails/ },
  ] as const;
  for (const { fault, minRows, error } of faults) {
    it(`${fault} ${minRows === '0' ? 'on the worker' : 'on this thread'}: the run fails naming it, every row stays exactly once, the next run moves them`, async () => {
      const { template, rows: before } = await seedTemplate();
      const clean = await archiveWith(template, minRows);
      const dir = tempDir();
      cpSync(template, dir, { recursive: true });
      const config = testConfig(dir, { ...ENV, ARCHIVE_THREAD_MIN_ROWS: minRows });
      const first = await withEnv({ TIERDB_FAULT: fault, TIERDB_FAULT_HIT: '5' }, async () => {
        const store = await openTierStore({ config });
        try {
          const t = (await store.archiver.run({ tables: ['task_queue'], now: NOW_MS })).tables[0]!;
          expect(t.error).toMatch(error);
          expect(t.workerThread === true).toBe(minRows === '0');
          expect(await store.bridge.sql('SELECT * FROM task_queue ORDER BY id')).toEqual(before);
          return t.rowsMoved;
        } finally {
          await store.close();
        }
      });
      expect(first).toBeLessThan(clean.rowsMoved);
      const store = await openTierStore({ config });
      try {
        const t = (await store.archiver.run({ tables: ['task_queue'], now: NOW_MS })).tables[0]!;
        expect(t.error).toBeUndefined();
        expect(first + t.rowsMoved).toBe(clean.rowsMoved);
        expect(await store.bridge.sql('SELECT * FROM task_queue ORDER BY id')).toEqual(before);
        expect(readdirSync(store.cold.stagingDir).filter((f) => f.endsWith('.parquet'))).toEqual([]);
      } finally {
        await store.close();
      }
    });
  }
});

