import { spawn } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openTierStore } from '../src/store/openTierStore.js';
import { runCli } from './archiveFixtures.js';
import { cliEnv, REPO_ROOT, tempDir, testConfig } from './helpers.js';

const DAY_S = 86_400;

async function waitFor(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('tierdb serve', () => {
  it('archives new old rows on every cron tick and stops cleanly on SIGTERM', async () => {
    const dir = tempDir();
    const env = { HOT_DAYS_TASK: '7', ARCHIVE_BATCH_SIZE: '1000' };
    const store = await openTierStore({ config: testConfig(dir, env) });
    const nowS = Math.floor(Date.now() / 1000);
    const insertOld = (db: Database.Database, n: number, tag: string) => {
      const ins = db.prepare(`INSERT INTO task_queue (task_type, status, payload, created_at) VALUES (?, 'done', '{}', ?)`);
      db.transaction(() => {
        for (let i = 0; i < n; i++) ins.run(tag, nowS - 10 * DAY_S - i * 600);
      })();
    };
    insertOld(store.hot.raw, 500, 'first');
    store.hot.raw.prepare(`INSERT INTO task_queue (task_type, status, payload, created_at) VALUES ('recent', 'done', '{}', ?)`).run(nowS);
    await store.close();

    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/tierdb.mjs'), '--data-dir', dir, 'serve'], {
      cwd: REPO_ROOT,
      env: { ...cliEnv(env), ARCHIVE_CRON: '* * * * * *', LOG_LEVEL: 'info', AUTO_ARCHIVE_ENABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const db = new Database(path.join(dir, 'hot.db'));
    db.pragma('busy_timeout = 5000');
    const oldRows = () => db.prepare('SELECT count(*) FROM task_queue WHERE created_at < ?').pluck().get(nowS - 8 * DAY_S) as number;
    const coldRows = () => (db.prepare(`SELECT coalesce(sum(rows), 0) FROM _tierdb_files WHERE state = 'live'`).pluck().get() as number);
    try {
      await waitFor(() => oldRows() === 0, 'the first scheduled run');
      expect(coldRows()).toBe(500);
      insertOld(db, 200, 'late');
      await waitFor(() => oldRows() === 0, 'a later scheduled run to move the late rows');
      expect(coldRows()).toBe(700);
      expect(db.prepare('SELECT count(*) FROM task_queue').pluck().get()).toBe(1);
    } finally {
      db.close();
      child.kill('SIGTERM');
    }
    const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000))]);
    expect(code, log).toBe(0);
    expect(log).toContain('archive run finished');
    expect(log).toContain('"msg":"stopped"');
  }, 90_000);

  it('says so and schedules nothing when AUTO_ARCHIVE_ENABLED=false', async () => {
    const dir = tempDir();
    const result = await runCli(['--data-dir', dir, 'serve'], { AUTO_ARCHIVE_ENABLED: 'false', LOG_LEVEL: 'info' });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('AUTO_ARCHIVE_ENABLED=false');
  });
});
