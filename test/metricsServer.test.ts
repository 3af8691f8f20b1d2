/**
 * Issue 9 item 5: /healthz and Prometheus /metrics, in process, over real HTTP
 * on 127.0.0.1: what health answers before any run, after a failed and an ok
 * run, when stale; two servers in one process; a store's runs seen through
 * its notifier, and its recorded failure remembered after a restart.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { TierError } from '../src/errors.js';
import type { RunSummary } from '../src/notify/RunSummary.js';
import { MetricsServer } from '../src/serve/MetricsServer.js';
import { RunHealth, healthRunOf, type HealthBody } from '../src/serve/RunHealth.js';
import { RunMetrics } from '../src/serve/RunMetrics.js';
import { startMetricsServer } from '../src/serve/startMetricsServer.js';
import { openTierStore } from '../src/store/openTierStore.js';
import { NOW_MS, seedTaskQueue } from './archiveFixtures.js';
import { httpGet } from './httpFixtures.js';
import { parsePrometheusText } from './promText.js';
import { tempDir, testConfig } from './helpers.js';

const HOUR = 3_600_000;

function summary(over: Partial<RunSummary> = {}): RunSummary {
  return {
    schemaVersion: 1,
    kind: 'archive',
    status: 'ok',
    runId: 1,
    startedAt: new Date(Date.now() - 2000).toISOString(),
    endedAt: new Date().toISOString(),
    durationMs: 2000,
    host: 'test',
    hotPath: '/tmp/hot.db',
    tables: [{ table: 'events', rows: 10, files: 1, bytes: 1234, errors: [], warnings: [] }],
    totals: { rows: 10, files: 1, bytes: 1234, errors: 0 },
    ...over,
  };
}

async function serve(maxAgeMs = 26 * HOUR): Promise<{ server: MetricsServer; metrics: RunMetrics; health: RunHealth }> {
  const metrics = new RunMetrics({ processMetrics: false });
  const health = new RunHealth({ maxAgeMs });
  const server = await MetricsServer.listen({ port: 0, metrics, health });
  onTestFinished(() => server.close());
  return { server, metrics, health };
}

async function healthz(url: string): Promise<{ status: number; body: HealthBody }> {
  const res = await httpGet(`${url}/healthz`);
  expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  return { status: res.status, body: JSON.parse(res.body) as HealthBody };
}

describe('/healthz', () => {
  it('is 200 before any run, 503 naming the error after a failed run, 200 again after an ok one', async () => {
    const { server, metrics, health } = await serve();
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    const first = await healthz(server.url);
    expect(first).toMatchObject({ status: 200, body: { status: 'ok', reason: 'no run yet', lastRun: null, ageSeconds: null, maxAgeSeconds: 26 * 3600 } });

    const failed = summary({ runId: 7, status: 'failed', tables: [{ table: 'events', rows: 0, files: 0, bytes: 0, errors: ['disk on fire'], warnings: [] }] });
    metrics.record(failed);
    health.record(healthRunOf(failed));
    const second = await healthz(server.url);
    expect(second.status).toBe(503);
    expect(second.body).toMatchObject({ status: 'failed', lastRun: { kind: 'archive', runId: 7, status: 'failed', error: 'events: disk on fire' } });
    expect(second.body.reason).toContain('the last archive run (7) failed: events: disk on fire');
    expect(second.body.ageSeconds).toBeGreaterThanOrEqual(0);

    const ok = summary({ runId: 8 });
    health.record(healthRunOf(ok));
    const third = await healthz(server.url);
    expect(third).toMatchObject({ status: 200, body: { status: 'ok', lastRun: { runId: 8, status: 'ok', startedAt: ok.startedAt, endedAt: ok.endedAt } } });
    // An older run arriving late does not replace the newer one.
    health.record(healthRunOf(summary({ runId: 6, status: 'failed', endedAt: new Date(Date.now() - HOUR).toISOString() })));
    expect((await healthz(server.url)).body.lastRun!.runId).toBe(8);
  });

  it('is 503 `stale` when the newest run ended longer ago than the limit, or nothing ran since a start that long ago', () => {
    const start = Date.UTC(2026, 0, 1);
    const health = new RunHealth({ maxAgeMs: 26 * HOUR, sinceMs: start });
    expect(health.report(start + 25 * HOUR).httpStatus).toBe(200);
    const never = health.report(start + 27 * HOUR);
    expect(never).toMatchObject({ httpStatus: 503, body: { status: 'stale', lastRun: null } });
    expect(never.body.reason).toMatch(/^no run has ended in the 27\.0 h since/);
    health.record({ kind: 'archive', runId: 1, status: 'ok', startedAt: new Date(start + 28 * HOUR).toISOString(), endedAt: new Date(start + 28 * HOUR + 1000).toISOString(), durationMs: 1000 });
    expect(health.report(start + 30 * HOUR)).toMatchObject({ httpStatus: 200, body: { ageSeconds: 2 * 3600 - 1 } });
    const stale = health.report(start + 60 * HOUR);
    expect(stale).toMatchObject({ httpStatus: 503, body: { status: 'stale' } });
    expect(stale.body.reason).toMatch(/^the last run ended 32\.0 h ago \(limit 26\.0 h\)/);
    // An aborted run (SIGTERM) is not a failure.
    health.record({ kind: 'archive', runId: 2, status: 'aborted', startedAt: new Date(start + 61 * HOUR).toISOString(), endedAt: new Date(start + 61 * HOUR).toISOString(), durationMs: 0 });
    expect(health.report(start + 62 * HOUR).httpStatus).toBe(200);
  });

  it('answers GET and HEAD only, 404 elsewhere; a port in use is an error naming it', async () => {
    const { server, metrics, health } = await serve();
    expect((await httpGet(`${server.url}/healthz`, 'POST')).status).toBe(405);
    expect((await httpGet(`${server.url}/metrics`, 'DELETE')).headers.allow).toBe('GET, HEAD');
    const head = await httpGet(`${server.url}/healthz`, 'HEAD');
    expect([head.status, head.body]).toEqual([200, '']);
    expect((await httpGet(`${server.url}/`)).status).toBe(404);
    expect((await httpGet(`${server.url}/healthz/../secrets`)).status).toBe(404);
    const taken = await MetricsServer.listen({ port: server.port, metrics, health }).catch((e: unknown) => e);
    expect(taken).toBeInstanceOf(TierError);
    expect((taken as TierError).code).toBe('TIERDB_METRICS_SERVER');
    expect((taken as TierError).message).toContain(`127.0.0.1:${server.port} (TIERDB_METRICS_PORT): EADDRINUSE`);
  });
});

describe('/metrics', () => {
  it('is Prometheus text with the run counters and last-run gauges; two servers in one process keep their own', async () => {
    const a = await serve();
    const b = await serve();
    const before = parsePrometheusText((await httpGet(`${a.server.url}/metrics`)).body);
    expect(before.value('tierdb_runs_total', { kind: 'archive', status: 'ok' })).toBe(0);
    expect(before.value('tierdb_last_run_success', { kind: 'archive' })).toBeUndefined();

    const ok = summary();
    a.metrics.record(ok);
    a.metrics.record(summary({ status: 'failed', tables: [{ table: 'events', rows: 5, files: 1, bytes: 100, errors: ['x'], warnings: [] }] }));
    a.metrics.recordDelivery({ ok: false, target: 'http://127.0.0.1:1', deliveryId: 'd', attempts: [{ attempt: 1, waitedMs: 0 }, { attempt: 2, waitedMs: 500 }], error: 'x' });
    const res = await httpGet(`${a.server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = parsePrometheusText(res.body);
    expect(text.types.get('tierdb_runs_total')).toBe('counter');
    expect(text.types.get('tierdb_last_run_success')).toBe('gauge');
    expect(text.value('tierdb_runs_total', { kind: 'archive', status: 'ok' })).toBe(1);
    expect(text.value('tierdb_runs_total', { kind: 'archive', status: 'failed' })).toBe(1);
    expect(text.value('tierdb_run_rows_total', { kind: 'archive', table: 'events' })).toBe(15);
    expect(text.value('tierdb_run_files_total', { kind: 'archive', table: 'events' })).toBe(2);
    expect(text.value('tierdb_run_bytes_total', { kind: 'archive', table: 'events' })).toBe(1334);
    expect(text.value('tierdb_run_table_errors_total', { kind: 'archive', table: 'events' })).toBe(1);
    expect(text.value('tierdb_last_run_success', { kind: 'archive' })).toBe(0);
    expect(text.value('tierdb_last_run_duration_seconds', { kind: 'archive' })).toBe(2);
    expect(text.value('tierdb_webhook_deliveries_total', { result: 'failed' })).toBe(1);
    expect(text.value('tierdb_webhook_attempts_total')).toBe(2);

    const other = parsePrometheusText((await httpGet(`${b.server.url}/metrics`)).body);
    expect(other.value('tierdb_runs_total', { kind: 'archive', status: 'ok' })).toBe(0);
  });
});

describe('startMetricsServer(store)', () => {
  it('counts the store\'s runs, shows its cold tier per table, and remembers a failed run across a restart', async () => {
    const dir = tempDir();
    const env = { HOT_DAYS_TASK: '7', ARCHIVE_BATCH_SIZE: '100' };
    await seedTaskQueue(dir, 3000, 20, env);
    const store = await openTierStore({ config: testConfig(dir, env) });
    let failedRunId: number;
    try {
      const watched = await startMetricsServer(store, { port: 0 });
      try {
        const report = await store.archiver.run({ now: NOW_MS, tables: ['task_queue'], onProgress: () => store.hot.raw.prepare(`UPDATE _tierdb_leases SET token = 'another-holder'`).run() }).catch((e: unknown) => e);
        expect(report).toBeInstanceOf(Error);
        failedRunId = store.hot.raw.prepare('SELECT max(id) FROM _tierdb_runs').pluck().get() as number;
        const text = parsePrometheusText((await httpGet(`${watched.url}/metrics`)).body);
        const cold = store.hot.raw.prepare(`SELECT count(*) AS files, sum(coalesce(drained_rows, rows)) AS rows, sum(bytes) AS bytes FROM _tierdb_files WHERE table_name = 'task_queue' AND state = 'live'`).get() as { files: number; rows: number; bytes: number };
        // The run stops at the first commit after the lease moved; files committed before it stay (drains run beside later
        // chunks), and a file still draining counts its drained prefix as cold (its other rows are still hot).
        expect(cold.files).toBeGreaterThanOrEqual(1);
        expect(text.value('tierdb_runs_total', { kind: 'archive', status: 'failed' })).toBe(1);
        expect(text.value('tierdb_cold_files', { table: 'task_queue' })).toBe(cold.files);
        expect(text.value('tierdb_cold_rows', { table: 'task_queue' })).toBe(cold.rows);
        expect(text.value('tierdb_cold_bytes', { table: 'task_queue' })).toBe(cold.bytes);
        expect(text.value('tierdb_cold_files', { table: 'messages' })).toBe(0);
        expect(text.value('tierdb_hot_file_bytes')).toBeGreaterThan(0);
        expect(text.value('process_cpu_user_seconds_total')).toBeGreaterThan(0);
        expect((await healthz(watched.url)).status).toBe(503);
      } finally {
        await watched.close();
      }
      // A new server over the same store (a restarted daemon) starts from the recorded failure.
      const restarted = await startMetricsServer(store, { port: 0 });
      try {
        const { status, body } = await healthz(restarted.url);
        expect(status).toBe(503);
        expect(body.lastRun).toMatchObject({ kind: 'archive', runId: failedRunId, status: 'failed' });
        expect(body.lastRun!.error).toMatch(/lease/);
        const text = parsePrometheusText((await httpGet(`${restarted.url}/metrics`)).body);
        expect(text.value('tierdb_last_run_success', { kind: 'archive' })).toBe(0);
        expect(text.value('tierdb_runs_total', { kind: 'archive', status: 'failed' })).toBe(0);

        // The holder that took the lease over lets it go; the next run succeeds.
        store.hot.raw.prepare('DELETE FROM _tierdb_leases').run();
        const ok = await store.archiver.run({ now: NOW_MS });
        const after = await healthz(restarted.url);
        expect(after).toMatchObject({ status: 200, body: { lastRun: { runId: ok.runId, status: 'ok' } } });
      } finally {
        await restarted.close();
      }
    } finally {
      await store.close();
    }
  });

  it('a restarted server starts from every kind\'s newest recorded run: a compaction after a failed archive run does not hide it', async () => {
    const dir = tempDir();
    const env = { HOT_DAYS_TASK: '7', ARCHIVE_BATCH_SIZE: '100' };
    await seedTaskQueue(dir, 3000, 20, env);
    const store = await openTierStore({ config: testConfig(dir, env) });
    try {
      const failed = await store.archiver.run({ now: NOW_MS, tables: ['task_queue'], onProgress: () => store.hot.raw.prepare(`UPDATE _tierdb_leases SET token = 'another-holder'`).run() }).catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(Error);
      const failedRunId = store.hot.raw.prepare(`SELECT max(id) FROM _tierdb_runs WHERE kind = 'archive'`).pluck().get() as number;
      store.hot.raw.prepare('DELETE FROM _tierdb_leases').run();
      const compacted = await store.maintenance.compact({ tables: ['task_queue'], minFiles: 2 });
      const compactRunId = store.hot.raw.prepare(`SELECT max(id) FROM _tierdb_runs WHERE kind = 'compact'`).pluck().get() as number;
      expect(compactRunId, JSON.stringify(compacted)).toBeGreaterThan(failedRunId);
      // A failed run of a kind that never notifies (an Iceberg publish): left out, or it could never clear.
      store.hot.raw
        .prepare(`INSERT INTO _tierdb_runs (kind, started_at_ms, ended_at_ms, status, pid, dry_run, token, error) VALUES ('publish', ?, ?, 'failed', ?, 0, 'feedbeef', 'the catalog was unreachable')`)
        .run(Date.now() - 5, Date.now(), process.pid);
      await using watched = await startMetricsServer(store, { port: 0 });
      const { status, body } = await healthz(watched.url);
      expect(status).toBe(503);
      expect(body.lastRun).toMatchObject({ kind: 'compact', runId: compactRunId, status: 'ok' });
      expect(body.runs).toMatchObject({ archive: { runId: failedRunId, status: 'failed' }, compact: { runId: compactRunId, status: 'ok' } });
      expect(Object.keys(body.runs).sort()).toEqual(['archive', 'compact']);
      const text = parsePrometheusText((await httpGet(`${watched.url}/metrics`)).body);
      expect(text.value('tierdb_last_run_success', { kind: 'archive' })).toBe(0);
      expect(text.value('tierdb_last_run_success', { kind: 'compact' })).toBe(1);
    } finally {
      await store.close();
    }
  });
});
