/**
 * Watches one store and serves what it sees: `/healthz` and Prometheus
 * `/metrics` on 127.0.0.1 (MetricsServer), fed by the store's RunNotifier.
 * The newest run the store recorded before (in `_tierdb_runs`) seeds both, so
 * a daemon restarted after a failed run still reports the failure.
 */
import type { Logger } from '../logger.js';
import { coldTotals } from '../manifest/manifestFiles.js';
import { lastEndedRuns, type RunKind } from '../manifest/runLog.js';
import { hotBytesOnDisk } from '../archive/reclaimSpace.js';
import { NOTIFIED_KINDS, type RunStatus } from '../notify/RunSummary.js';
import type { TierStore } from '../store/openTierStore.js';
import { MetricsServer } from './MetricsServer.js';
import { healthRunOf, RunHealth, type HealthRun } from './RunHealth.js';
import { RunMetrics } from './RunMetrics.js';

export interface StartMetricsServerOptions {
  /** 1..65535, or 0 for any free port (default the store's TIERDB_METRICS_PORT). */
  port?: number;
  /** /healthz is 503 when nothing ended for longer than this (default TIERDB_HEALTH_MAX_AGE_HOURS). */
  maxAgeHours?: number;
  logger?: Logger;
}

/** A running metrics server and what feeds it; `close()` stops both. */
export interface WatchedMetricsServer extends AsyncDisposable {
  readonly port: number;
  readonly url: string;
  readonly metrics: RunMetrics;
  readonly health: RunHealth;
  close(): Promise<void>;
}

/**
 * Per kind that notifies its runs, the newest ended run of `_tierdb_runs`, as health sees it
 * (`crashed`: failed), oldest first. A kind that does not notify is left out: the running server
 * would never hear of its next run, so a recorded failure of it could never clear.
 */
function recordedRuns(store: TierStore): HealthRun[] {
  return lastEndedRuns(store.hot.raw, NOTIFIED_KINDS).flatMap((row) => {
    if (row.ended_at_ms === null) return [];
    const status: RunStatus = row.status === 'ok' || row.status === 'aborted' ? row.status : 'failed';
    const run: HealthRun = {
      kind: row.kind as RunKind,
      runId: row.id,
      status,
      startedAt: new Date(row.started_at_ms).toISOString(),
      endedAt: new Date(row.ended_at_ms).toISOString(),
      durationMs: row.ended_at_ms - row.started_at_ms,
    };
    if (status === 'failed') run.error = row.error ?? (row.status === 'crashed' ? 'the run crashed (its process died or lost the lease)' : 'failed');
    return [run];
  });
}

/**
 * @example
 * await using server = await startMetricsServer(store, { port: 9464 });
 * // GET http://127.0.0.1:9464/healthz, /metrics
 */
export async function startMetricsServer(store: TierStore, options: StartMetricsServerOptions = {}): Promise<WatchedMetricsServer> {
  const port = options.port ?? store.config.metricsPort ?? 0;
  const maxAgeHours = options.maxAgeHours ?? store.config.healthMaxAgeHours;
  const metrics = new RunMetrics({
    coldTotals: () => store.tables.map((t) => ({ table: t.table, ...coldTotals(store.hot.raw, t.table) })),
    hotFileBytes: () => hotBytesOnDisk(store.config.hotPath),
  });
  const health = new RunHealth({ maxAgeMs: maxAgeHours * 3_600_000 });
  // Every kind's newest recorded run: a compaction that ended after a failed archive run must not hide it.
  for (const seeded of recordedRuns(store)) {
    health.record(seeded);
    metrics.recordLastRun(seeded);
  }
  const offRunEnd = store.notifier.onRunEnd((summary) => {
    metrics.record(summary);
    health.record(healthRunOf(summary));
  });
  const offDelivery = store.notifier.onWebhookDelivery((delivery) => metrics.recordDelivery(delivery));
  let server: MetricsServer;
  try {
    server = await MetricsServer.listen({ port, metrics, health, ...(options.logger ? { logger: options.logger } : {}) });
  } catch (error) {
    offRunEnd();
    offDelivery();
    throw error;
  }
  const close = async () => {
    offRunEnd();
    offDelivery();
    await server.close();
  };
  return { port: server.port, url: server.url, metrics, health, close, [Symbol.asyncDispose]: close };
}
