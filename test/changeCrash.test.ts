/**
 * Crash safety of changes, tested by crashing: `tierdb delete`, `tierdb
 * update` and `tierdb erase` are SIGKILLed at each of their steps
 * (CHANGE_FAILPOINTS, ERASE_FAILPOINTS). Right after the kill (read-only, no
 * recovery) every row is visible exactly once with either
 * all of the change or none of it — never half; no file the manifest does not
 * know survives recovery; the same command then completes, and after an erase
 * no cold file anywhere in the tree still holds an erased row.
 */
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANGE_FAILPOINTS, ERASE_FAILPOINTS } from '../src/archive/failpoint.js';
import { DuckDbEngine, sqlString } from '../src/cold/DuckDbEngine.js';
import { wechatPreset } from '../src/presets/wechat/wechatPreset.js';
import { openTierStore, type TierStore } from '../src/store/openTierStore.js';
import { NOW_MS, readTierState, runCli, seedTaskQueue } from './archiveFixtures.js';
import { rerunInProcess, tempDir, testConfig } from './helpers.js';

const ENV = { HOT_DAYS_TASK: '7', LOG_LEVEL: 'silent', TIERDB_ERASE_GRACE_SECONDS: '0', ARCHIVE_BACKUP_ENABLED: 'true' };
const ROWS = 1000;
let template: string;

interface Visible {
  rows: number;
  distinct: number;
  /** priority → rows; attempts of priority-2 rows → rows. */
  byPriority: Map<number, number>;
  attemptsOfTwo: Map<number, number>;
}

async function visible(dir: string): Promise<Visible> {
  const store = await openTierStore({ config: testConfig(dir, ENV), preset: wechatPreset, readonly: true });
  try {
    const [all] = await store.bridge.sql('SELECT count(*) AS n, count(DISTINCT id) AS d FROM task_queue');
    const byPriority = new Map((await store.bridge.sql('SELECT priority, count(*) AS n FROM task_queue GROUP BY 1')).map((r) => [Number(r.priority), Number(r.n)]));
    const attemptsOfTwo = new Map((await store.bridge.sql('SELECT attempts, count(*) AS n FROM task_queue WHERE priority = 2 GROUP BY 1')).map((r) => [Number(r.attempts), Number(r.n)]));
    return { rows: Number(all!.n), distinct: Number(all!.d), byPriority, attemptsOfTwo };
  } finally {
    await store.close();
  }
}

function expectOnlyListedFiles(dir: string, treeFiles: readonly string[], tmpFiles: readonly string[]): void {
  const db = new Database(path.join(dir, 'hot.db'), { readonly: true });
  try {
    const listed = new Set(db.prepare(`SELECT path FROM _tierdb_files WHERE state IN ('live', 'retired')`).pluck().all() as string[]);
    expect(treeFiles.filter((f) => !listed.has(f)), 'files in the tree the manifest does not list').toEqual([]);
    expect(tmpFiles, 'temp files left after recovery').toEqual([]);
  } finally {
    db.close();
  }
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** Rows with priority = 1 in any Parquet file anywhere in the cold tree (listed or not). */
async function priorityOneRowsInTree(dir: string): Promise<number> {
  const files = walk(path.join(dir, 'cold')).filter((f) => f.endsWith('.parquet') && statSync(f).size > 0);
  const engine = await DuckDbEngine.create({ memoryLimit: '256MB', threads: 1 });
  try {
    const rows = (await engine.connection.runAndReadAll(`SELECT count(*) FROM read_parquet([${files.map(sqlString).join(', ')}]) WHERE priority = 1`)).getRowsJS();
    return Number(rows[0]![0]);
  } finally {
    engine.close();
  }
}

describe('crash safety of delete, update and erase', () => {
  beforeAll(async () => {
    template = mkdtempSync(path.join(tmpdir(), 'tierdb-template-'));
    await seedTaskQueue(template, ROWS, 30);
    const store = await openTierStore({ config: testConfig(template, ENV), preset: wechatPreset });
    try {
      await store.archiver.run({ now: NOW_MS });
    } finally {
      await store.close();
    }
  }, 120_000);
  afterAll(() => {
    if (template) rmSync(template, { recursive: true, force: true });
  });

  const PER_PRIORITY = ROWS / 5;
  const cases = [
    {
      name: 'delete',
      points: CHANGE_FAILPOINTS,
      args: ['delete', '--table', 'task_queue', '--where', 'priority=3'],
      again: (store: TierStore) => store.delete('task_queue', { where: { priority: 3 } }),
      check: (v: Visible) => {
        expect([ROWS, ROWS - PER_PRIORITY]).toContain(v.rows);
        expect(v.byPriority.get(3) ?? 0).toBe(v.rows === ROWS ? PER_PRIORITY : 0);
      },
      done: (v: Visible) => expect(v.byPriority.get(3) ?? 0).toBe(0),
    },
    {
      name: 'update',
      points: CHANGE_FAILPOINTS,
      args: ['update', '--table', 'task_queue', '--where', 'priority=2', '--set', 'attempts=77'],
      again: (store: TierStore) => store.update('task_queue', { where: { priority: 2 }, set: { attempts: 77 } }),
      check: (v: Visible) => {
        expect(v.rows).toBe(ROWS);
        const updated = v.attemptsOfTwo.get(77) ?? 0;
        expect([0, PER_PRIORITY]).toContain(updated);
      },
      done: (v: Visible) => expect(v.attemptsOfTwo.get(77)).toBe(PER_PRIORITY),
    },
    {
      name: 'erase',
      points: ERASE_FAILPOINTS,
      args: ['erase', '--table', 'task_queue', '--where', 'priority=1'],
      again: (store: TierStore) => store.erase('task_queue', { where: { priority: 1 } }),
      check: (v: Visible) => {
        expect([ROWS, ROWS - PER_PRIORITY]).toContain(v.rows);
        expect(v.byPriority.get(1) ?? 0).toBe(v.rows === ROWS ? PER_PRIORITY : 0);
      },
      done: (v: Visible) => expect(v.byPriority.get(1) ?? 0).toBe(0),
    },
  ];

  for (const c of cases) {
    for (const point of c.points) {
      it(`${c.name}: SIGKILL at ${point}; every row once, the change all or nothing; the rerun recovers, completes and leaves only listed files`, async () => {
        const dir = tempDir();
        cpSync(template, dir, { recursive: true });
        const args = ['--data-dir', dir, ...c.args];
        const crashed = await runCli(args, { ...ENV, TIERDB_FAILPOINT: point });
        expect(crashed.signal, `${crashed.stdout}\n${crashed.stderr}`).toBe('SIGKILL');
        const first = await visible(dir);
        expect(first.distinct).toBe(first.rows);
        c.check(first);

        // The rerun recovers first (its run's recovery removes the crashed run's leftovers), then completes; in this
        // process, the same call the CLI command is thin over.
        await rerunInProcess({ config: testConfig(dir, ENV), preset: wechatPreset }, (store): Promise<unknown> => c.again(store));
        const final = await visible(dir);
        expect(final.distinct).toBe(final.rows);
        c.done(final);
        if (c.name === 'erase') {
          expect(await priorityOneRowsInTree(dir)).toBe(0);
          const db = new Database(path.join(dir, 'hot.db'), { readonly: true });
          try {
            expect(db.prepare(`SELECT count(*) FROM _tierdb_erasures WHERE status <> 'complete'`).pluck().get()).toBe(0);
          } finally {
            db.close();
          }
        }
        const after = await readTierState(dir);
        expectOnlyListedFiles(dir, after.treeFiles, after.tmpFiles);
      });
    }
  }
});
