/**
 * Crash safety of the cold tier's maintenance, tested by crashing: `tierdb
 * compact` (compaction, and retention when coldDays is set) and `tierdb
 * restore` are SIGKILLed at each step of the swap (SWAP_FAILPOINTS). Right
 * after the kill and after recovery, every row is visible exactly once — or,
 * for retention, the old rows are either all there or all gone — no file the
 * manifest does not know survives recovery, and the same command then completes.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SWAP_FAILPOINTS } from '../src/archive/failpoint.js';
import { openTierStore } from '../src/store/openTierStore.js';
import { wechatPreset } from '../src/presets/wechat/wechatPreset.js';
import { DAY_S, NOW_MS, NOW_S, expectExactlyOnce, readTierState, runCli, seedTaskQueue, type TierState } from './archiveFixtures.js';
import { tempDir, testConfig } from './helpers.js';
import Database from 'better-sqlite3';

const ENV = { HOT_DAYS_TASK: '7', LOG_LEVEL: 'silent' };
const ROWS = 2000;
const RETENTION_ENV = { ...ENV, COLD_DAYS_TASK_QUEUE: '20' };
const CUTOFF_S = Math.floor(Date.UTC(2026, 4, 26) / 1000); // UTC midnight of NOW − 20 days

let archivedDir: string;
let compactedDir: string;

async function prepare(compact: boolean): Promise<string> {
  // A template shared by the file's tests (tempDir is per test): removed in afterAll.
  const dir = mkdtempSync(path.join(tmpdir(), 'tierdb-template-'));
  await seedTaskQueue(dir, ROWS, 30);
  const store = await openTierStore({ config: testConfig(dir, ENV), preset: wechatPreset });
  try {
    await store.archiver.run({ now: NOW_MS });
    if (compact) await store.maintenance.compact({ minFiles: 2 });
  } finally {
    await store.close();
  }
  return dir;
}

function copyOf(template: string): string {
  const dir = tempDir();
  cpSync(template, dir, { recursive: true });
  return dir;
}

async function reopen(dir: string, env: Record<string, string>): Promise<void> {
  const store = await openTierStore({ config: testConfig(dir, env), preset: wechatPreset });
  await store.close();
}

/** After recovery the tree holds only listed files: live ones, and retired ones waiting out the grace delay. */
function expectOnlyListedFiles(dir: string, state: TierState): void {
  const db = new Database(path.join(dir, 'hot.db'), { readonly: true });
  try {
    const listed = new Set(db.prepare(`SELECT path FROM _tierdb_files WHERE state IN ('live', 'retired')`).pluck().all() as string[]);
    expect(state.treeFiles.filter((f) => !listed.has(f)), 'files in the tree that the manifest does not list').toEqual([]);
    expect(state.tmpFiles, 'temp files left after recovery').toEqual([]);
  } finally {
    db.close();
  }
}

/** The oracle: row ids by created_at, from seedTaskQueue's formula. */
const rowsAtOrAfter = (cutoffS: number): number => {
  let n = 0;
  for (let i = 0; i < ROWS; i++) if (NOW_S - 1 - Math.floor((i * 30 * DAY_S) / ROWS) >= cutoffS) n++;
  return n;
};

describe('crash safety of maintenance', () => {
  beforeAll(async () => {
    archivedDir = await prepare(false);
    compactedDir = await prepare(true);
  }, 120_000);
  afterAll(() => {
    for (const d of [archivedDir, compactedDir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  const cases = [
    { name: 'compact', template: () => archivedDir, env: ENV, args: ['compact', '--min-files', '2'] },
    {
      name: 'restore',
      template: () => archivedDir,
      env: ENV,
      args: ['restore', '--table', 'task_queue', '--since', new Date((NOW_S - 20 * DAY_S + 6 * 3600) * 1000).toISOString(), '--until', new Date((NOW_S - 15 * DAY_S + 6 * 3600) * 1000).toISOString()],
    },
    { name: 'retention', template: () => compactedDir, env: RETENTION_ENV, args: ['compact', '--min-files', '2', '--now', new Date(NOW_MS).toISOString()] },
  ] as const;

  for (const c of cases) {
    for (const point of SWAP_FAILPOINTS) {
      it(`${c.name}: SIGKILL at ${point}; every row exactly once (retention: all or exactly the old ones gone); recovery leaves only listed files; the rerun completes`, async () => {
        const dir = copyOf(c.template());
        const args = ['--data-dir', dir, ...c.args];
        const crashed = await runCli(args, { ...c.env, TIERDB_FAILPOINT: point });
        expect(crashed.signal, `${crashed.stdout}\n${crashed.stderr}`).toBe('SIGKILL');
        const check = async (): Promise<TierState> => {
          const state = await readTierState(dir);
          if (c.name === 'retention') {
            const expected = rowsAtOrAfter(CUTOFF_S);
            const ids = new Set([...state.hotKeys, ...state.coldKeys].map(String));
            expect(ids.size, 'a key visible twice').toBe(state.hotKeys.length + state.coldKeys.length);
            expect([ROWS, expected], `${ids.size} rows visible`).toContain(ids.size);
          } else expectExactlyOnce(state, ROWS);
          return state;
        };
        await check();
        await reopen(dir, c.env);
        expectOnlyListedFiles(dir, await check());

        const finished = await runCli(args, c.env);
        expect(finished.code, finished.stderr).toBe(0);
        const final = await check();
        expectOnlyListedFiles(dir, final);
        if (c.name === 'retention') expect(final.hotKeys.length + final.coldKeys.length).toBe(rowsAtOrAfter(CUTOFF_S));
      });
    }
  }
});
