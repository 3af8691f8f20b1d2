/**
 * Issue 9 item 5: every archive run ends with one JSON summary POSTed to
 * ARCHIVE_WEBHOOK_URL, success or failure; retries with backoff; a failing or
 * hanging webhook never fails the run. Real stores on temp folders, real HTTP
 * servers on 127.0.0.1.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { defineRegistry } from '../src/registry/defineRegistry.js';
import { LeaseLostError } from '../src/errors.js';
import type { RunSummary } from '../src/notify/RunSummary.js';
import { WebhookNotifier, type WebhookDelivery } from '../src/notify/WebhookNotifier.js';
import { openTierStore, type TierStore } from '../src/store/openTierStore.js';
import { DAY_S, NOW_MS, NOW_S, runCli, seedTaskQueue } from './archiveFixtures.js';
import { refusedPort, webhookReceiver } from './httpFixtures.js';
import { tempDir, testConfig } from './helpers.js';

const ENV = { HOT_DAYS_TASK: '7', ARCHIVE_BATCH_SIZE: '100' };

/** A store over `rows` task_queue rows spread over 20 days before NOW (13 days' worth are due to move). */
async function seededStore(env: Record<string, string>, rows = 300): Promise<{ dir: string; store: TierStore }> {
  const dir = tempDir();
  await seedTaskQueue(dir, rows, 20, ENV);
  const store = await openTierStore({ config: testConfig(dir, { ...ENV, ...env }) });
  return { dir, store };
}

/** Every webhook delivery the store's notifier makes. */
function deliveries(store: TierStore): WebhookDelivery[] {
  const seen: WebhookDelivery[] = [];
  store.notifier.onWebhookDelivery((d) => seen.push(d));
  return seen;
}

describe('the run-end webhook', () => {
  it('an archive run POSTs one JSON summary with each table\'s rows, files and bytes, signed with the secret', async () => {
    const hook = await webhookReceiver();
    const secret = 'correct horse battery staple';
    const { store } = await seededStore({ ARCHIVE_WEBHOOK_URL: hook.url, ARCHIVE_WEBHOOK_SECRET: secret });
    try {
      const report = await store.archiver.run({ now: NOW_MS });
      expect(hook.received).toHaveLength(1);
      const [post] = hook.received;
      expect(post!.headers['content-type']).toBe('application/json');
      expect(post!.headers['x-tierdb-signature']).toBe(`sha256=${createHmac('sha256', secret).update(post!.body).digest('hex')}`);
      expect(post!.headers['x-tierdb-delivery']).toMatch(/^[0-9a-f-]{36}$/);
      expect(post!.headers['user-agent']).toMatch(/^tierdb\/\d+\.\d+\.\d+/);
      expect(post!.body).not.toContain(secret);

      const summary = JSON.parse(post!.body) as RunSummary;
      const manifest = store.hot.raw
        .prepare(`SELECT count(*) AS files, sum(rows) AS rows, sum(bytes) AS bytes FROM _tierdb_files WHERE table_name = 'task_queue' AND state = 'live'`)
        .get() as { files: number; rows: number; bytes: number };
      const task = report.tables.find((t) => t.table === 'task_queue')!;
      expect(manifest.rows).toBeGreaterThan(0);
      expect(summary).toMatchObject({
        schemaVersion: 1,
        kind: 'archive',
        status: 'ok',
        runId: report.runId,
        startedAt: report.startedAt,
        endedAt: report.endedAt,
        durationMs: report.durationMs,
        hotPath: store.config.hotPath,
        totals: { rows: manifest.rows, files: manifest.files, bytes: manifest.bytes, errors: 0 },
      });
      expect(summary.error).toBeUndefined();
      expect(summary.tables.find((t) => t.table === 'task_queue')).toEqual({ table: 'task_queue', rows: manifest.rows, files: manifest.files, bytes: manifest.bytes, errors: [], warnings: [] });
      expect([task.rowsMoved, task.files, task.bytesOut]).toEqual([manifest.rows, manifest.files, manifest.bytes]);
      // Every registered table is listed, moved or not.
      expect(summary.tables.map((t) => t.table).sort()).toEqual(report.tables.map((t) => t.table).sort());

      // A dry run is no run: nothing is sent.
      await store.archiver.run({ now: NOW_MS, dryRun: true });
      expect(hook.received).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  it('a webhook answering 500 twice, then 200, gets three attempts of the same delivery with growing waits between them', async () => {
    const hook = await webhookReceiver((n) => (n <= 2 ? 500 : 200));
    const { store } = await seededStore({ ARCHIVE_WEBHOOK_URL: hook.url, ARCHIVE_WEBHOOK_RETRIES: '2' });
    const seen = deliveries(store);
    try {
      const report = await store.archiver.run({ now: NOW_MS });
      expect(report.tables.every((t) => t.error === undefined)).toBe(true);
      expect(hook.received).toHaveLength(3);
      const [a, b, c] = hook.received;
      expect(new Set(hook.received.map((r) => r.body)).size).toBe(1);
      expect(new Set(hook.received.map((r) => r.headers['x-tierdb-delivery'])).size).toBe(1);
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ ok: true, target: new URL(hook.url).origin });
      expect(seen[0]!.attempts).toEqual([
        { attempt: 1, waitedMs: 0, status: 500, error: 'answered HTTP 500' },
        { attempt: 2, waitedMs: 500, status: 500, error: 'answered HTTP 500' },
        { attempt: 3, waitedMs: 1000, status: 200 },
      ]);
      // The receiver saw the backoff: at least 0.5 s, then at least 1 s, between the attempts.
      expect(b!.at - a!.at).toBeGreaterThanOrEqual(490);
      expect(c!.at - b!.at).toBeGreaterThanOrEqual(990);
    } finally {
      await store.close();
    }
  });

  it('an answer a retry cannot fix (400) is not retried; running out of retries on 503 is a failed delivery, not a failed run', async () => {
    const bad = await webhookReceiver(() => 400);
    const once = await new WebhookNotifier({ url: bad.url, retries: 3, backoffMs: 10 }).send({ hello: 1 });
    expect(once).toMatchObject({ ok: false, error: 'answered HTTP 400' });
    expect(bad.received).toHaveLength(1);

    const busy = await webhookReceiver(() => 503);
    const { store } = await seededStore({ ARCHIVE_WEBHOOK_URL: busy.url, ARCHIVE_WEBHOOK_RETRIES: '1' });
    const seen = deliveries(store);
    try {
      const report = await store.archiver.run({ now: NOW_MS });
      expect(report.tables.find((t) => t.table === 'task_queue')!.rowsMoved).toBeGreaterThan(0);
      expect(busy.received).toHaveLength(2);
      expect(seen[0]).toMatchObject({ ok: false, error: 'answered HTTP 503' });
    } finally {
      await store.close();
    }
  });

  it('a webhook that never answers, or refuses the connection, does not fail the run, which ends once each attempt has timed out', async () => {
    const hang = await webhookReceiver(() => 'hang');
    const { store, dir } = await seededStore({ ARCHIVE_WEBHOOK_URL: hang.url, ARCHIVE_WEBHOOK_TIMEOUT_MS: '300', ARCHIVE_WEBHOOK_RETRIES: '1' });
    const seen = deliveries(store);
    try {
      expect(store.notifier.webhook!.maxDurationMs).toBe(2 * 300 + 500);
      const report = await store.archiver.run({ now: NOW_MS });
      expect(report.aborted).toBe(false);
      expect(report.tables.every((t) => t.error === undefined)).toBe(true);
      expect(report.tables.find((t) => t.table === 'task_queue')!.rowsMoved).toBeGreaterThan(0);
      // Both attempts were made, and the client gave up on each: it closed the connection (the server never answers).
      expect(hang.received).toHaveLength(2);
      await vi.waitFor(() => expect(hang.received.map((r) => r.abandoned)).toEqual([true, true]));
      expect(seen).toHaveLength(1);
      expect(seen[0]!.ok).toBe(false);
      expect(seen[0]!.attempts.map((a) => a.error)).toEqual(['no answer within 300 ms', 'no answer within 300 ms']);
      // The run is recorded as ok all the same, and the lease is free for the next one.
      expect(store.hot.raw.prepare('SELECT status FROM _tierdb_runs WHERE id = ?').pluck().get(report.runId)).toBe('ok');
      expect(store.hot.raw.prepare('SELECT count(*) FROM _tierdb_leases').pluck().get()).toBe(0);
    } finally {
      await store.close();
    }

    const port = await refusedPort();
    const refused = await openTierStore({
      config: testConfig(dir, { ...ENV, ARCHIVE_WEBHOOK_URL: `http://127.0.0.1:${port}/hook`, ARCHIVE_WEBHOOK_RETRIES: '1' }),
    });
    const seenRefused = deliveries(refused);
    try {
      const stmt = refused.hot.raw.prepare(`INSERT INTO task_queue (task_type, status, payload, created_at) VALUES ('late', 'done', '{}', ?)`);
      for (let i = 0; i < 10; i++) stmt.run(NOW_S - 12 * DAY_S + i);
      const report = await refused.archiver.run({ now: NOW_MS });
      expect(report.tables.find((t) => t.table === 'task_queue')!.rowsMoved).toBe(10);
      expect(seenRefused).toHaveLength(1);
      expect(seenRefused[0]!.ok).toBe(false);
      expect(seenRefused[0]!.attempts).toHaveLength(2);
      for (const a of seenRefused[0]!.attempts) expect(a.error).toMatch(/ECONNREFUSED/);
    } finally {
      await refused.close();
    }
  });

  it('a run stopped by its AbortSignal (SIGTERM) notifies `aborted`, counting what it moved before the stop', async () => {
    const hook = await webhookReceiver();
    const { store } = await seededStore({ ARCHIVE_WEBHOOK_URL: hook.url }, 3000);
    try {
      const controller = new AbortController();
      const report = await store.archiver.run({ now: NOW_MS, tables: ['task_queue'], signal: controller.signal, onProgress: () => controller.abort() });
      expect(report.aborted).toBe(true);
      expect(hook.received).toHaveLength(1);
      const summary = JSON.parse(hook.received[0]!.body) as RunSummary;
      expect(summary).toMatchObject({ status: 'aborted', runId: report.runId, totals: { rows: report.tables[0]!.rowsMoved, errors: 0 } });
      expect(summary.totals.rows).toBeGreaterThan(0);
      expect(summary.totals.rows).toBeLessThan(3000);
    } finally {
      await store.close();
    }
  });

  it('a run with a failed table notifies `failed` with the table\'s error; the other tables still count', async () => {
    const hook = await webhookReceiver();
    const dir = tempDir();
    const config = testConfig(dir, { ARCHIVE_WEBHOOK_URL: hook.url });
    const setup = await openTierStore({ config, registry: [], migrations: false });
    setup.hot.raw.exec(`
      CREATE TABLE events (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL); CREATE INDEX events_ts ON events (ts);
      CREATE TABLE logs (id INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL); CREATE INDEX logs_ts ON logs (ts);`);
    for (let i = 0; i < 40; i++) {
      setup.hot.raw.prepare('INSERT INTO events (ts) VALUES (?)').run(NOW_S - 10 * DAY_S + i);
      setup.hot.raw.prepare('INSERT INTO logs (ts) VALUES (?)').run(NOW_S - 10 * DAY_S + i);
    }
    await setup.close();
    // events has a rowid key and no appAssignsKeys: the table fails, logs moves.
    const registry = defineRegistry([
      { table: 'events', timeColumn: 'ts', timeUnit: 'unix_s', hotDays: 1 },
      { table: 'logs', timeColumn: 'ts', timeUnit: 'unix_s', hotDays: 1 },
    ]);
    const store = await openTierStore({ config, registry, migrations: false });
    try {
      const report = await store.archiver.run({ now: NOW_MS });
      expect(hook.received).toHaveLength(1);
      const summary = JSON.parse(hook.received[0]!.body) as RunSummary;
      expect(summary.status).toBe('failed');
      expect(summary.error).toBeUndefined();
      const events = summary.tables.find((t) => t.table === 'events')!;
      expect(events.rows).toBe(0);
      expect(events.errors).toEqual([report.tables.find((t) => t.table === 'events')!.error]);
      expect(events.errors[0]).toMatch(/INTEGER PRIMARY KEY without AUTOINCREMENT/);
      expect(summary.tables.find((t) => t.table === 'logs')).toMatchObject({ rows: 40, files: 1, errors: [] });
      expect(summary.totals).toMatchObject({ rows: 40, files: 1, errors: 1 });
    } finally {
      await store.close();
    }
  });

  it('a run that throws (its lease taken over) still notifies `failed` with the error, then rethrows it', async () => {
    const hook = await webhookReceiver();
    const { store } = await seededStore({ ARCHIVE_WEBHOOK_URL: hook.url }, 3000);
    let filesAtSteal = 0;
    try {
      let stolen = false;
      const error = await store.archiver
        .run({
          now: NOW_MS,
          tables: ['task_queue'],
          onProgress: () => {
            if (stolen) return;
            stolen = true;
            filesAtSteal = store.hot.raw.prepare(`SELECT count(*) FROM _tierdb_files WHERE state = 'live'`).pluck().get() as number;
            store.hot.raw.prepare(`UPDATE _tierdb_leases SET token = 'another-holder'`).run();
          },
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LeaseLostError);
      expect(hook.received).toHaveLength(1);
      const summary = JSON.parse(hook.received[0]!.body) as RunSummary;
      const recorded = store.hot.raw.prepare(`SELECT id, status, error FROM _tierdb_runs ORDER BY id DESC LIMIT 1`).get() as { id: number; status: string; error: string };
      expect(recorded.status).toBe('failed');
      expect(summary).toMatchObject({ kind: 'archive', status: 'failed', runId: recorded.id, error: (error as Error).message });
      expect(recorded.error).toBe((error as Error).message);
      // As far as it got: the chunks committed before the lease went are counted (one, or two when the
      // next chunk committed while the first drained), and nothing after.
      expect(summary.tables.map((t) => t.table)).toEqual(['task_queue']);
      expect(filesAtSteal).toBeGreaterThanOrEqual(1);
      expect(summary.tables[0]!.files).toBe(filesAtSteal);
      expect(Date.parse(summary.endedAt)).toBeGreaterThanOrEqual(Date.parse(summary.startedAt));
    } finally {
      await store.close();
    }
  });
});

describe('tierdb archive and the webhook', () => {
  it('the CLI run POSTs its summary; an unreachable webhook is a warning and the command still exits 0', async () => {
    const hook = await webhookReceiver();
    const dir = tempDir();
    await seedTaskQueue(dir, 200, 20, ENV);
    const now = new Date(NOW_MS).toISOString();
    const ok = await runCli(['--data-dir', dir, 'archive', '--now', now, '--table', 'task_queue', '--json'], { ...ENV, ARCHIVE_WEBHOOK_URL: hook.url });
    expect(ok.code, ok.stderr).toBe(0);
    expect(hook.received).toHaveLength(1);
    const report = JSON.parse(ok.stdout) as { runId: number; tables: { rowsMoved: number }[] };
    const summary = JSON.parse(hook.received[0]!.body) as RunSummary;
    expect(summary).toMatchObject({ status: 'ok', runId: report.runId, totals: { rows: report.tables[0]!.rowsMoved } });

    const port = await refusedPort();
    const down = await runCli(['--data-dir', dir, 'archive', '--now', now, '--table', 'task_queue'], {
      ...ENV,
      ARCHIVE_WEBHOOK_URL: `http://127.0.0.1:${port}/hook?token=do-not-log-me`,
      ARCHIVE_WEBHOOK_RETRIES: '0',
    });
    expect(down.code, down.stderr).toBe(0);
    expect(down.stderr).toContain('webhook not delivered (the run itself is unaffected)');
    expect(down.stderr).toContain(`http://127.0.0.1:${port}`);
    expect(down.stderr).not.toContain('do-not-log-me');
  });
});
