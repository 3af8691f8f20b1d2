/**
 * Crash safety, tested by crashing: the archiver process is SIGKILLed at each
 * step of the move protocol, and at random moments, then reopened. No row may
 * be lost, duplicated or hidden, no orphan file may survive recovery, and the
 * next run must complete.
 */
import Database from 'better-sqlite3';
import { cpSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAILPOINTS } from '../src/archive/failpoint.js';
import { openTierStore } from '../src/store/openTierStore.js';
import { DAY_S, NOW_MS, NOW_S, expectExactlyOnce, readTierState, runCli, seedTaskQueue, type TierState } from './archiveFixtures.js';
import { TemplateFolders } from './templateFolders.js';
import { rerunInProcess, tempDir, testConfig } from './helpers.js';
import { startS3Server } from './s3Server.js';

const ENV = { ARCHIVE_BATCH_SIZE: '400', HOT_DAYS_TASK: '7', LOG_LEVEL: 'silent' };
const NOW_ISO = new Date(NOW_MS).toISOString();

async function reopen(dir: string, env: Record<string, string> = ENV): Promise<void> {
  // Opening the store runs recovery (temp files and orphans removed).
  const store = await openTierStore({ config: testConfig(dir, env) });
  await store.close();
}

/**
 * The run after a crash, in this process: what `tierdb archive --table task_queue --now NOW_ISO` runs
 * (the random rounds and the lease test below run the CLI itself); the table's error, if any.
 */
function archiveAgain(dir: string, env: Record<string, string>): Promise<string | undefined> {
  return rerunInProcess({ config: testConfig(dir, env) }, async (store) => (await store.archiver.run({ tables: ['task_queue'], now: NOW_MS })).tables[0]?.error);
}

/**
 * Where the cold tree lives: the local folder, or a bucket of an S3 server this test starts (CLI children get its env);
 * `from`: the folder of a stopped server whose objects the new one starts with (a template's bucket).
 */
const TIERS: { name: string; coldEnv: (from?: string) => Promise<Record<string, string>>; s3: boolean; randomRounds: number; points?: readonly (typeof FAILPOINTS)[number][] }[] = [
  // Every failpoint is also killed at deterministically above; the random rounds add kills between steps.
  { name: 'local folder', coldEnv: async () => ({}), s3: false, randomRounds: 12 },
  { name: 'S3 bucket', coldEnv: async (from) => (await startS3Server({ from })).env(), s3: true, randomRounds: 6 },
  // Chunks read, staged and written to temp files on the archive worker thread (a large table's path): after-write is then killed there.
  // The steps after a file is handed to the archiver's thread run the same code as above; killed here are the ones
  // that meet the worker: its write, the verify of a file it wrote, a commit while it reads ahead (and the random rounds).
  { name: 'local folder, chunks on the archive worker thread', coldEnv: async () => ({ ARCHIVE_THREAD_MIN_ROWS: '0' }), s3: false, randomRounds: 6, points: ['after-write', 'after-verify', 'inside-commit'] },
];

/** The failpoint tests' seeded store: 4000 rows over 30 days, nothing archived yet. */
const FAILPOINT_ROWS = 4000;
const FAILPOINT_DAYS = 30;

function expectNoOrphans(state: TierState): void {
  expect(state.tmpFiles, 'temp files left after recovery').toEqual([]);
  expect([...state.treeFiles].sort(), 'files in the tree that the manifest does not list').toEqual([...state.liveFiles].sort());
}

function dueRows(dir: string): number {
  const db = new Database(path.join(dir, 'hot.db'), { readonly: true });
  try {
    return db.prepare('SELECT count(*) FROM task_queue WHERE created_at < ?').pluck().get(NOW_S - 7 * DAY_S) as number;
  } finally {
    db.close();
  }
}

for (const tier of TIERS) {
  describe(`crash safety, cold tier in the ${tier.name}`, () => {
    // The failpoint tests start from the same seeded store: seeded once (with the bucket's server, then stopped)
    // into a template, and each test gets a copy of its data folder (and of its bucket's objects, on a server of its own).
    let template: { dir: string; s3Dir?: string } | undefined;
    const folders = new TemplateFolders();
    beforeAll(async () => {
      const dir = folders.make('tierdb-crash-template-');
      template = { dir };
      const server = tier.s3 ? await startS3Server({ stopAfterTest: false }) : undefined;
      template.s3Dir = server && folders.adopt(server.dir);
      try {
        await seedTaskQueue(dir, FAILPOINT_ROWS, FAILPOINT_DAYS, { ...ENV, ...server?.env() });
      } finally {
        await server?.stop();
      }
    }, 120_000);
    afterAll(() => {
      folders.removeAll();
    });

    for (const point of tier.points ?? FAILPOINTS) {
      it(`SIGKILL at ${point}: nothing lost, duplicated or hidden; recovery cleans up; the next run completes`, async () => {
        const dir = tempDir();
        cpSync(template!.dir, dir, { recursive: true });
        const coldEnv = await tier.coldEnv(template!.s3Dir);
        const env = { ...ENV, ...coldEnv };
        const total = FAILPOINT_ROWS;
        const args = ['--data-dir', dir, 'archive', '--table', 'task_queue', '--now', NOW_ISO];
        const crashed = await runCli(args, { ...env, TIERDB_FAILPOINT: point, TIERDB_FAILPOINT_HIT: point === 'during-vacuum' ? '1' : '3' });
        expect(crashed.signal, crashed.stderr).toBe('SIGKILL');

        // Straight after the crash, before any recovery: every row is visible exactly once.
        expectExactlyOnce(await readTierState(dir, 'task_queue', 'id', coldEnv), total);
        await reopen(dir, env);
        const recovered = await readTierState(dir, 'task_queue', 'id', coldEnv);
        expectExactlyOnce(recovered, total);
        expectNoOrphans(recovered);
        if (point === 'after-commit' || point === 'during-vacuum') expect(recovered.liveFiles.length).toBeGreaterThan(0);

        expect(await archiveAgain(dir, env)).toBeUndefined();
        const final = await readTierState(dir, 'task_queue', 'id', coldEnv);
        expectExactlyOnce(final, total);
        expectNoOrphans(final);
        expect(dueRows(dir)).toBe(0);
      });
    }

    it(`SIGKILL at random moments, ${tier.randomRounds} times, with backfill between: every state is exact`, async () => {
      const dir = tempDir();
      const coldEnv = await tier.coldEnv();
      const env0 = { ...ENV, ...coldEnv };
      let total = await seedTaskQueue(dir, 6000, 40, env0);
      let seed = 7;
      const rand = () => {
        seed = (seed * 48271) % 2147483647;
        return seed / 2147483647;
      };
      let killedAtStep = 0;
      for (let round = 0; round < tier.randomRounds; round++) {
        // Odd rounds: a kill at a random step of the protocol (a failpoint and which hit of it), whatever the
        // machine's speed. Even rounds: a kill at a random moment, which may also land between steps or after the end.
        const atStep = round % 2 === 1;
        const point = FAILPOINTS[Math.floor(rand() * (FAILPOINTS.length - 1))]!; // not during-vacuum: it needs a whole run
        const env = atStep ? { ...env0, TIERDB_FAILPOINT: point, TIERDB_FAILPOINT_HIT: String(1 + Math.floor(rand() * 2)) } : env0;
        const result = await runCli(
          ['--data-dir', dir, 'archive', '--table', 'task_queue', '--now', NOW_ISO],
          env,
          atStep ? undefined : 400 + Math.floor(rand() * 1800),
        );
        if (result.signal === 'SIGKILL') {
          if (atStep) killedAtStep++;
        } else expect(result.code, result.stderr).toBe(0);
        expectExactlyOnce(await readTierState(dir, 'task_queue', 'id', coldEnv), total);
        // Late rows for old, already archived days: they move on a later run into new files.
        const db = new Database(path.join(dir, 'hot.db'));
        db.pragma('busy_timeout = 5000');
        const ins = db.prepare(`INSERT INTO task_queue (task_type, status, payload, created_at) VALUES ('late', 'done', ?, ?)`);
        db.transaction(() => {
          for (let i = 0; i < 300; i++) ins.run(`{"round":${round}}`, NOW_S - 8 * DAY_S - Math.floor(rand() * 30 * DAY_S));
        })();
        db.close();
        total += 300;
      }
      // Every round backfills 300 late rows, so every failpoint round has a chunk to write and commit: each one kills.
      expect(killedAtStep).toBe(tier.randomRounds / 2);
      const finished = await runCli(['--data-dir', dir, 'archive', '--table', 'task_queue', '--now', NOW_ISO], env0);
      expect(finished.code, finished.stderr).toBe(0);
      const final = await readTierState(dir, 'task_queue', 'id', coldEnv);
      expectExactlyOnce(final, total);
      expectNoOrphans(final);
      expect(dueRows(dir)).toBe(0);
    }, 300_000);
  });
}

describe('crash safety', () => {
  it('two concurrent archive processes: exactly one works, the other exits naming the holder', async () => {
    const dir = tempDir();
    const total = await seedTaskQueue(dir, 30000, 120, { ...ENV, ARCHIVE_BATCH_SIZE: '100' });
    const env = { ...ENV, ARCHIVE_BATCH_SIZE: '100' };
    const args = ['--data-dir', dir, 'archive', '--table', 'task_queue', '--now', NOW_ISO];
    const first = runCli(args, env);
    const probe = new Database(path.join(dir, 'hot.db'), { readonly: true });
    let holder: number | undefined;
    const deadline = Date.now() + 20_000;
    while (holder === undefined && Date.now() < deadline) {
      holder = probe.prepare(`SELECT owner_pid FROM _tierdb_leases WHERE name = 'archiver'`).pluck().get() as number | undefined;
      if (holder === undefined) await new Promise((r) => setTimeout(r, 20));
    }
    probe.close();
    expect(holder, 'the first archiver never took the lease').toBeDefined();
    const second = await runCli(args, env);
    const firstResult = await first;
    expect(firstResult.code, firstResult.stderr).toBe(0);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain(`pid ${holder}`);
    expectExactlyOnce(await readTierState(dir), total);
    expect(dueRows(dir)).toBe(0);
  }, 120_000);
});

describe('a file killed while its rows drain', () => {
  it('a row the app deletes or changes after its file was committed, before its drain, never comes back from the file', async () => {
    const dir = tempDir();
    const total = await seedTaskQueue(dir, 1200, 10, ENV);
    const args = ['--data-dir', dir, 'archive', '--table', 'task_queue', '--now', NOW_ISO];
    // The first drain transaction takes part of the first file; the kill comes right after it.
    const crashed = await runCli(args, { ...ENV, TIERDB_FAILPOINT: 'after-drain', TIERDB_FAILPOINT_HIT: '1' });
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    const db = new Database(path.join(dir, 'hot.db'));
    db.pragma('busy_timeout = 5000');
    const draining = db
      .prepare(`SELECT path, rows, drained_rows, min_time_ms, max_time_ms FROM _tierdb_files WHERE state = 'live' AND drained_rows IS NOT NULL`)
      .all() as { path: string; rows: number; drained_rows: number; min_time_ms: number; max_time_ms: number }[];
    expect(draining).toHaveLength(1);
    const file = draining[0]!;
    expect(file.drained_rows).toBeGreaterThan(0);
    expect(file.drained_rows).toBeLessThan(file.rows - 2);
    // Two rows of the file not yet drained: still hot. The app deletes one and changes the other.
    const undrained = db
      .prepare(`SELECT id FROM task_queue WHERE created_at BETWEEN ? AND ? ORDER BY created_at, id`)
      .pluck()
      .all(file.min_time_ms / 1000, file.max_time_ms / 1000) as number[];
    expect(undrained).toHaveLength(file.rows - file.drained_rows);
    const [gone, changed] = [undrained.at(-1)!, undrained.at(-2)!];
    const inFile = (await readTierState(dir)).hotKeys.length;
    expect(inFile).toBe(total - file.drained_rows);
    db.prepare('DELETE FROM task_queue WHERE id = ?').run(gone);
    db.prepare(`UPDATE task_queue SET status = 'changed-after-commit' WHERE id = ?`).run(changed);
    db.close();

    const check = async (): Promise<void> => {
      expectExactlyOnce(await readTierState(dir), total - 1);
      const store = await openTierStore({ config: testConfig(dir, ENV) });
      try {
        expect(await store.bridge.query('task_queue', { where: { id: gone } })).toEqual([]);
        expect((await store.bridge.query('task_queue', { where: { id: changed } })).map((r) => r.status)).toEqual(['changed-after-commit']);
        expect((await store.bridge.sql('SELECT count(*) AS n FROM task_queue')) as unknown).toEqual([{ n: BigInt(total - 1) }]);
      } finally {
        await store.close();
      }
    };
    await check();
    const finished = await runCli(args, ENV);
    expect(finished.code, finished.stderr).toBe(0);
    await check();
    expect(dueRows(dir)).toBe(0);
  });
});
