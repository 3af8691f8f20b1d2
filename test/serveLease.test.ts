/**
 * Issue 7 item 10: a `tierdb serve` tick that finds another archiver holding
 * the lease is skipped and logged at info, not as a failed run.
 */
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import path from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Lease } from '../src/archive/lease.js';
import { createArchiveTick } from '../src/cli/createArchiveTick.js';
import { openTierStore } from '../src/store/openTierStore.js';
import { seedTaskQueue } from './archiveFixtures.js';
import { cliEnv, REPO_ROOT, tempDir, testConfig } from './helpers.js';

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

const INFO = 30;

/** A pino logger at info level whose JSON lines land in `lines`. */
function capturingLogger(lines: LogLine[]): pino.Logger {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return pino({ level: 'info' }, sink);
}

const flush = () => new Promise((r) => setTimeout(r, 20));

describe('serve: a tick skipped for a held lease is info, not a failed run', () => {
  it('the tick logs the skip at info naming the holder; with the lease free it runs; other errors stay errors', async () => {
    const dir = tempDir();
    const env = { HOT_DAYS_TASK: '7', ARCHIVE_BATCH_SIZE: '500' };
    await seedTaskQueue(dir, 200, 3, env);
    const store = await openTierStore({ config: testConfig(dir, env) });
    const other = new Database(path.join(dir, 'hot.db'));
    try {
      const lease = Lease.acquire(other);
      const lines: LogLine[] = [];
      const job = createArchiveTick(store.archiver, capturingLogger(lines), new AbortController().signal);
      await job.tick();
      await flush();
      expect(lines.map((l) => [l.level, l.msg])).toEqual([[INFO, 'archive tick skipped: another archiver holds the lease']]);
      expect(String(lines[0]!.reason)).toContain(`pid ${process.pid}`);

      lease.release();
      lines.length = 0;
      await job.tick();
      await flush();
      expect(lines.map((l) => [l.level, l.msg])).toEqual([[INFO, 'archive run finished']]);

      lines.length = 0;
      const failing = createArchiveTick({ run: () => Promise.reject(new Error('disk on fire')) }, capturingLogger(lines), new AbortController().signal);
      await failing.tick();
      await flush();
      expect(lines.map((l) => [l.level, l.msg])).toEqual([[50, 'archive run failed']]);
    } finally {
      other.close();
      await store.close();
    }
  });

  it('a short-lived `tierdb serve` (LOG_LEVEL=info) logs the skipped tick at info and exits 0', async () => {
    const dir = tempDir();
    const env = { HOT_DAYS_TASK: '7' };
    await seedTaskQueue(dir, 50, 3, env);
    const other = new Database(path.join(dir, 'hot.db'));
    const lease = Lease.acquire(other);
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/tierdb.mjs'), '--data-dir', dir, 'serve'], {
      cwd: REPO_ROOT,
      env: cliEnv({ ...env, ARCHIVE_CRON: '* * * * * *', LOG_LEVEL: 'info', AUTO_ARCHIVE_ENABLED: 'true' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const parsed = () =>
      log
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as LogLine);
    try {
      const deadline = Date.now() + 30_000;
      // Whatever the first tick logs (the lease is held all along).
      while (!parsed().some((l) => /^archive (tick|run) /.test(l.msg))) {
        if (Date.now() > deadline) throw new Error(`no tick logged: ${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      child.kill('SIGTERM');
      lease.release();
      other.close();
    }
    expect(await exited, log).toBe(0);
    const tickLines = parsed().filter((l) => /^archive (tick|run) /.test(l.msg));
    expect(tickLines.length).toBeGreaterThan(0);
    for (const l of tickLines) expect([l.level, l.msg], log).toEqual([INFO, 'archive tick skipped: another archiver holds the lease']);
    expect(parsed().filter((l) => l.level >= 50)).toEqual([]);
  }, 60_000);
});
