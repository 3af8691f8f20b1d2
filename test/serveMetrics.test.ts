/**
 * Issue 9 item 5: `tierdb serve` with TIERDB_METRICS_PORT serves /healthz and
 * Prometheus /metrics on 127.0.0.1 only, shows its scheduled runs there, posts
 * each run's summary to ARCHIVE_WEBHOOK_URL, and closes the port on SIGTERM.
 * The built CLI in a child process, as test/serve.test.ts runs it.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import type { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../src/notify/RunSummary.js';
import type { HealthBody } from '../src/serve/RunHealth.js';
import { openTierStore } from '../src/store/openTierStore.js';
import { NOW_MS, seedTaskQueue } from './archiveFixtures.js';
import { httpGet, webhookReceiver } from './httpFixtures.js';
import { parsePrometheusText } from './promText.js';
import { cliEnv, REPO_ROOT, tempDir, testConfig } from './helpers.js';

const DAY_S = 86_400;
/** A cron that fires only at midnight on January 1st: in practice never during a test. */
const NEVER = '0 0 1 1 *';

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

interface Served {
  child: ChildProcessByStdio<null, Readable, Readable>;
  log: () => string;
  lines: () => LogLine[];
  exited: Promise<number | null>;
}

function startServe(dir: string, env: Record<string, string>): Served {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/tierdb.mjs'), '--data-dir', dir, 'serve'], {
    cwd: REPO_ROOT,
    env: cliEnv({ LOG_LEVEL: 'info', AUTO_ARCHIVE_ENABLED: 'true', TIERDB_METRICS_PORT: '0', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const lines = () =>
    log
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LogLine);
  return { child, log: () => log, lines, exited };
}

async function waitFor<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The port serve said it listens on (it was asked for 0: any free port). */
async function servedPort(served: Served): Promise<number> {
  const line = await waitFor(() => served.lines().find((l) => l.msg.startsWith('health and metrics on ')), `the metrics port in the log: ${served.log()}`);
  expect(line).toMatchObject({ host: '127.0.0.1' });
  return line.port as number;
}

/** Whether a TCP connection to host:port is accepted (refused, unreachable or silent: false). */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Local addresses of listening TCP sockets on `port`, from /proc/net/tcp{,6} (Linux), as hex `ADDR`. */
function listeningAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6']
    .filter((f) => existsSync(f))
    .flatMap((f) => readFileSync(f, 'utf8').split('\n').slice(1))
    .map((l) => l.trim().split(/\s+/))
    .filter((cols) => cols[1]?.endsWith(`:${hexPort}`) && cols[3] === '0A')
    .map((cols) => cols[1]!.split(':')[0]!);
}

async function stop(served: Served): Promise<number | null | 'hung'> {
  served.child.kill('SIGTERM');
  return Promise.race([served.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000))]);
}

describe('tierdb serve with TIERDB_METRICS_PORT', () => {
  it('serves /healthz and /metrics on 127.0.0.1 only, with its runs in them, posts each run\'s summary, and closes the port on SIGTERM', async () => {
    const dir = tempDir();
    // Only the archive's runs are looked at here: COMPACT_ENABLED=false keeps serve's maintenance out.
    const env = { HOT_DAYS_TASK: '7', ARCHIVE_BATCH_SIZE: '1000', COMPACT_ENABLED: 'false' };
    const store = await openTierStore({ config: testConfig(dir, env) });
    const nowS = Math.floor(Date.now() / 1000);
    const ins = store.hot.raw.prepare(`INSERT INTO task_queue (task_type, status, payload, created_at) VALUES ('old', 'done', '{}', ?)`);
    store.hot.raw.transaction(() => {
      for (let i = 0; i < 500; i++) ins.run(nowS - 10 * DAY_S - i * 600);
    })();
    await store.close();
    const hook = await webhookReceiver();

    const served = startServe(dir, { ...env, ARCHIVE_CRON: '* * * * * *', ARCHIVE_WEBHOOK_URL: hook.url });
    let port: number | undefined;
    try {
      port = await servedPort(served);
      // Runs are scheduled every second: wait for the one that moved the 500 rows to be posted.
      const moved = await waitFor(
        () => hook.received.map((r) => JSON.parse(r.body) as RunSummary).find((s) => s.totals.rows > 0),
        `a posted summary with rows: ${served.log()}`,
      );
      expect(moved).toMatchObject({ kind: 'archive', status: 'ok', totals: { rows: 500, errors: 0 } });
      expect(moved.tables.find((t) => t.table === 'task_queue')).toMatchObject({ rows: 500, errors: [] });

      const url = `http://127.0.0.1:${port}`;
      const health = await httpGet(`${url}/healthz`);
      expect(health.status, health.body).toBe(200);
      const body = JSON.parse(health.body) as HealthBody;
      expect(body).toMatchObject({ status: 'ok', lastRun: { kind: 'archive', status: 'ok' }, maxAgeSeconds: 26 * 3600 });
      expect(body.lastRun!.runId).toBeGreaterThanOrEqual(moved.runId!);
      expect(body.ageSeconds).toBeGreaterThanOrEqual(0);

      const res = await httpGet(`${url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      const metrics = parsePrometheusText(res.body);
      const db = new Database(path.join(dir, 'hot.db'), { readonly: true });
      const cold = db.prepare(`SELECT count(*) AS files, sum(rows) AS rows, sum(bytes) AS bytes FROM _tierdb_files WHERE table_name = 'task_queue' AND state = 'live'`).get() as {
        files: number;
        rows: number;
        bytes: number;
      };
      db.close();
      expect(metrics.value('tierdb_runs_total', { kind: 'archive', status: 'ok' })).toBeGreaterThanOrEqual(1);
      expect(metrics.value('tierdb_runs_total', { kind: 'archive', status: 'failed' })).toBe(0);
      expect(metrics.value('tierdb_run_rows_total', { kind: 'archive', table: 'task_queue' })).toBe(500);
      expect(metrics.value('tierdb_run_files_total', { kind: 'archive', table: 'task_queue' })).toBe(cold.files);
      expect(metrics.value('tierdb_cold_rows', { table: 'task_queue' })).toBe(500);
      expect(metrics.value('tierdb_cold_files', { table: 'task_queue' })).toBe(cold.files);
      expect(metrics.value('tierdb_cold_bytes', { table: 'task_queue' })).toBe(cold.bytes);
      expect(metrics.value('tierdb_last_run_success', { kind: 'archive' })).toBe(1);
      expect(metrics.value('tierdb_last_run_timestamp_seconds', { kind: 'archive' })).toBeGreaterThan(nowS - 60);
      expect(metrics.value('tierdb_webhook_deliveries_total', { result: 'delivered' })).toBeGreaterThanOrEqual(1);

      // Only 127.0.0.1: not the rest of the loopback range, not IPv6 loopback, not the wildcard address.
      expect(await accepts('127.0.0.1', port)).toBe(true);
      if (process.platform === 'linux') {
        expect(await accepts('127.0.0.2', port)).toBe(false);
        expect(listeningAddresses(port)).toEqual(['0100007F']);
      }
      expect(await accepts('::1', port)).toBe(false);
    } finally {
      const code = await stop(served);
      expect(code, served.log()).toBe(0);
    }
    expect(served.log()).toContain('"msg":"stopped"');
    expect(await accepts('127.0.0.1', port)).toBe(false);
    expect(served.lines().filter((l) => l.level >= 50)).toEqual([]);
  }, 90_000);

  it('after a restart, /healthz still reports the failed run the store recorded (503), and /metrics its last-run gauges', async () => {
    const dir = tempDir();
    const env = { HOT_DAYS_TASK: '7', ARCHIVE_BATCH_SIZE: '100', LOG_LEVEL: 'silent' };
    await seedTaskQueue(dir, 1000, 20, env);
    const store = await openTierStore({ config: testConfig(dir, env) });
    let failedRunId: number;
    try {
      // A run whose lease is taken over mid-run fails (LeaseLostError); the taker then lets it go.
      const stolen = { done: false };
      await store.archiver
        .run({
          now: NOW_MS,
          tables: ['task_queue'],
          onProgress: () => {
            if (stolen.done) return;
            stolen.done = true;
            store.hot.raw.prepare(`UPDATE _tierdb_leases SET token = 'another-holder'`).run();
          },
        })
        .catch(() => undefined);
      store.hot.raw.prepare('DELETE FROM _tierdb_leases').run();
      failedRunId = store.hot.raw.prepare(`SELECT id FROM _tierdb_runs WHERE status = 'failed'`).pluck().get() as number;
      expect(failedRunId).toBeGreaterThan(0);
    } finally {
      await store.close();
    }

    const served = startServe(dir, { HOT_DAYS_TASK: '7', ARCHIVE_CRON: NEVER, TIERDB_HEALTH_MAX_AGE_HOURS: '48' });
    try {
      const port = await servedPort(served);
      const health = await httpGet(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(503);
      const body = JSON.parse(health.body) as HealthBody;
      expect(body).toMatchObject({ status: 'failed', maxAgeSeconds: 48 * 3600, lastRun: { kind: 'archive', runId: failedRunId, status: 'failed' } });
      expect(body.reason).toMatch(/lease/);
      const metrics = parsePrometheusText((await httpGet(`http://127.0.0.1:${port}/metrics`)).body);
      expect(metrics.value('tierdb_last_run_success', { kind: 'archive' })).toBe(0);
      expect(metrics.value('tierdb_runs_total', { kind: 'archive', status: 'failed' })).toBe(0);
    } finally {
      expect(await stop(served), served.log()).toBe(0);
    }
  }, 60_000);

  it('a metrics port already in use stops serve at start, naming it', async () => {
    const dir = tempDir();
    const first = startServe(dir, { ARCHIVE_CRON: NEVER });
    try {
      const port = await servedPort(first);
      const second = startServe(tempDir(), { ARCHIVE_CRON: NEVER, TIERDB_METRICS_PORT: String(port) });
      expect(await second.exited).toBe(1);
      expect(second.log()).toContain(`cannot serve /healthz and /metrics on 127.0.0.1:${port} (TIERDB_METRICS_PORT): EADDRINUSE`);
    } finally {
      expect(await stop(first), first.log()).toBe(0);
    }
  }, 60_000);
});
