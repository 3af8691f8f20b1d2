/**
 * The Prometheus metrics of `tierdb serve`, in a registry of their own (never
 * prom-client's global one, so two stores served in one process do not
 * collide). Run counters come from run summaries; the cold tier's files, rows
 * and bytes per table and the hot file's size are read at scrape time.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { RunKind, RunStatus, RunSummary } from '../notify/RunSummary.js';
import type { WebhookDelivery } from '../notify/WebhookNotifier.js';
import type { HealthRun } from './RunHealth.js';

/** A table's live cold files, as scraped. */
export interface ColdTableTotals {
  table: string;
  files: number;
  rows: number;
  bytes: number;
}

export interface RunMetricsOptions {
  /** The cold tier per table, read at each scrape (errors leave the gauges empty for that scrape). */
  coldTotals?: () => readonly ColdTableTotals[];
  /** The hot file's bytes (with its WAL), read at each scrape. */
  hotFileBytes?: () => number;
  /** Node's process metrics (CPU, memory, event loop, GC); default true. */
  processMetrics?: boolean;
}

const KINDS: readonly RunKind[] = ['archive', 'compact', 'retention', 'restore'];
const STATUSES: readonly RunStatus[] = ['ok', 'failed', 'aborted'];

/**
 * @example
 * const metrics = new RunMetrics();
 * store.notifier.onRunEnd((s) => metrics.record(s));
 * const text = await metrics.registry.metrics();
 */
export class RunMetrics {
  /** This instance's registry: `registry.metrics()` is the /metrics body. */
  readonly registry = new Registry();
  readonly #runs: Counter<'kind' | 'status'>;
  readonly #rows: Counter<'kind' | 'table'>;
  readonly #files: Counter<'kind' | 'table'>;
  readonly #bytes: Counter<'kind' | 'table'>;
  readonly #tableErrors: Counter<'kind' | 'table'>;
  readonly #lastEnd: Gauge<'kind'>;
  readonly #lastDuration: Gauge<'kind'>;
  readonly #lastSuccess: Gauge<'kind'>;
  readonly #deliveries: Counter<'result'>;
  readonly #attempts: Counter;

  constructor(options: RunMetricsOptions = {}) {
    const registers = [this.registry];
    this.#runs = new Counter({ name: 'tierdb_runs_total', help: 'Runs that ended, by kind (archive, compact, retention) and status (ok, failed, aborted)', labelNames: ['kind', 'status'], registers });
    this.#rows = new Counter({ name: 'tierdb_run_rows_total', help: 'Rows runs handled, per table (archive: rows moved to cold)', labelNames: ['kind', 'table'], registers });
    this.#files = new Counter({ name: 'tierdb_run_files_total', help: 'Parquet files runs wrote, per table', labelNames: ['kind', 'table'], registers });
    this.#bytes = new Counter({ name: 'tierdb_run_bytes_total', help: 'Parquet bytes runs wrote, per table', labelNames: ['kind', 'table'], registers });
    this.#tableErrors = new Counter({ name: 'tierdb_run_table_errors_total', help: 'Tables that failed in a run (the run went on with the others)', labelNames: ['kind', 'table'], registers });
    this.#lastEnd = new Gauge({ name: 'tierdb_last_run_timestamp_seconds', help: 'When the newest run of a kind ended (unix seconds)', labelNames: ['kind'], registers });
    this.#lastDuration = new Gauge({ name: 'tierdb_last_run_duration_seconds', help: 'How long the newest run of a kind took', labelNames: ['kind'], registers });
    this.#lastSuccess = new Gauge({ name: 'tierdb_last_run_success', help: '1 when the newest run of a kind did not fail (ok or aborted), 0 when it failed', labelNames: ['kind'], registers });
    this.#deliveries = new Counter({ name: 'tierdb_webhook_deliveries_total', help: 'Run summaries POSTed to ARCHIVE_WEBHOOK_URL, by result (delivered, failed)', labelNames: ['result'], registers });
    this.#attempts = new Counter({ name: 'tierdb_webhook_attempts_total', help: 'HTTP attempts made to deliver run summaries (retries included)', registers });
    for (const kind of KINDS) for (const status of STATUSES) this.#runs.inc({ kind, status }, 0);
    for (const result of ['delivered', 'failed']) this.#deliveries.inc({ result }, 0);
    const { coldTotals, hotFileBytes } = options;
    if (coldTotals) {
      const gauge = (name: string, help: string, pick: (t: ColdTableTotals) => number) =>
        new Gauge({
          name,
          help,
          labelNames: ['table'],
          registers,
          collect() {
            this.reset();
            let totals: readonly ColdTableTotals[];
            try {
              totals = coldTotals();
            } catch {
              return; // the store is closing: nothing to say this scrape
            }
            for (const t of totals) this.set({ table: t.table }, pick(t));
          },
        });
      gauge('tierdb_cold_files', 'Live cold Parquet files per table', (t) => t.files);
      gauge('tierdb_cold_rows', 'Rows in live cold files per table', (t) => t.rows);
      gauge('tierdb_cold_bytes', 'Bytes of live cold files per table', (t) => t.bytes);
    }
    if (hotFileBytes) {
      new Gauge({
        name: 'tierdb_hot_file_bytes',
        help: 'Bytes of the hot SQLite file and its WAL',
        registers,
        collect() {
          try {
            this.set(hotFileBytes());
          } catch {
            // the file is being replaced: keep the last value
          }
        },
      });
    }
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** A run has ended: its counters, and its kind's last-run gauges. */
  record(summary: RunSummary): void {
    this.#runs.inc({ kind: summary.kind, status: summary.status });
    for (const t of summary.tables) {
      const labels = { kind: summary.kind, table: t.table };
      this.#rows.inc(labels, t.rows);
      this.#files.inc(labels, t.files);
      this.#bytes.inc(labels, t.bytes);
      this.#tableErrors.inc(labels, t.errors.length > 0 ? 1 : 0);
    }
    this.recordLastRun(summary);
  }

  /** The last-run gauges only (a run recorded before this process started, from `_tierdb_runs`). */
  recordLastRun(run: HealthRun): void {
    this.#lastEnd.set({ kind: run.kind }, Date.parse(run.endedAt) / 1000);
    this.#lastDuration.set({ kind: run.kind }, run.durationMs / 1000);
    this.#lastSuccess.set({ kind: run.kind }, run.status === 'failed' ? 0 : 1);
  }

  /** A webhook delivery's outcome. */
  recordDelivery(delivery: WebhookDelivery): void {
    this.#deliveries.inc({ result: delivery.ok ? 'delivered' : 'failed' });
    this.#attempts.inc(delivery.attempts.length);
  }
}
