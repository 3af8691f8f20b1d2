/**
 * What `/healthz` answers: the newest run of each kind, and whether all is well.
 * 503 when the newest run of any kind failed, or when the newest run of all
 * ended longer ago than `maxAgeMs` (with no run yet: when watching started
 * longer ago than that) — a stuck or never-firing schedule shows as stale.
 * An aborted run (SIGTERM) is not a failure.
 */
import type { RunKind, RunStatus, RunSummary } from '../notify/RunSummary.js';

/** The part of a run that health needs (a RunSummary is one; so is a row of `_tierdb_runs`). */
export interface HealthRun {
  kind: RunKind;
  runId: number | null;
  status: RunStatus;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  error?: string;
}

/** The JSON body of `/healthz`. */
export interface HealthBody {
  /** `ok`; `failed`: the newest run of some kind failed; `stale`: nothing ended within maxAgeSeconds. */
  status: 'ok' | 'failed' | 'stale';
  /** One line saying why. */
  reason: string;
  /** The newest run of any kind, or null before the first. */
  lastRun: HealthRun | null;
  /** Seconds since lastRun ended (null before the first). */
  ageSeconds: number | null;
  maxAgeSeconds: number;
  /** The newest run of each kind seen. */
  runs: Partial<Record<RunKind, HealthRun>>;
  /** When watching started (ISO-8601). */
  since: string;
}

export interface HealthReport {
  httpStatus: 200 | 503;
  body: HealthBody;
}

/** The fields of a RunSummary that health keeps (no tables). */
export function healthRunOf(summary: RunSummary): HealthRun {
  const run: HealthRun = {
    kind: summary.kind,
    runId: summary.runId,
    status: summary.status,
    startedAt: summary.startedAt,
    endedAt: summary.endedAt,
    durationMs: summary.durationMs,
  };
  if (summary.error !== undefined) run.error = summary.error;
  else if (summary.status === 'failed') run.error = summary.tables.flatMap((t) => t.errors.map((e) => `${t.table}: ${e}`)).join('; ');
  return run;
}

/**
 * @example
 * const health = new RunHealth({ maxAgeMs: 26 * 3_600_000 });
 * store.notifier.onRunEnd((s) => health.record(healthRunOf(s)));
 * const { httpStatus, body } = health.report();
 */
export class RunHealth {
  readonly #maxAgeMs: number;
  readonly #sinceMs: number;
  readonly #runs = new Map<RunKind, HealthRun>();

  constructor(options: { maxAgeMs: number; sinceMs?: number }) {
    this.#maxAgeMs = options.maxAgeMs;
    this.#sinceMs = options.sinceMs ?? Date.now();
  }

  /** A run has ended (a newer run of its kind replaces an older one; an older one is ignored). */
  record(run: HealthRun): void {
    const seen = this.#runs.get(run.kind);
    if (seen && Date.parse(seen.endedAt) > Date.parse(run.endedAt)) return;
    this.#runs.set(run.kind, run);
  }

  /** The answer at `nowMs` (default now). */
  report(nowMs = Date.now()): HealthReport {
    const runs = [...this.#runs.values()];
    const lastRun = runs.reduce<HealthRun | null>((a, r) => (a === null || Date.parse(r.endedAt) > Date.parse(a.endedAt) ? r : a), null);
    const ageMs = lastRun === null ? null : Math.max(0, nowMs - Date.parse(lastRun.endedAt));
    const body: HealthBody = {
      status: 'ok',
      reason: '',
      lastRun,
      ageSeconds: ageMs === null ? null : Math.round(ageMs / 1000),
      maxAgeSeconds: Math.round(this.#maxAgeMs / 1000),
      runs: Object.fromEntries(this.#runs),
      since: new Date(this.#sinceMs).toISOString(),
    };
    const failed = runs.filter((r) => r.status === 'failed');
    const hours = (ms: number) => `${(ms / 3_600_000).toFixed(1)} h`;
    if (failed.length > 0) {
      body.status = 'failed';
      body.reason = failed.map((r) => `the last ${r.kind} run${r.runId === null ? '' : ` (${r.runId})`} failed${r.error ? `: ${r.error}` : ''}`).join('; ');
    } else if (ageMs === null) {
      const waited = nowMs - this.#sinceMs;
      if (waited > this.#maxAgeMs) {
        body.status = 'stale';
        body.reason = `no run has ended in the ${hours(waited)} since ${body.since} (limit ${hours(this.#maxAgeMs)})`;
      } else body.reason = 'no run yet';
    } else if (ageMs > this.#maxAgeMs) {
      body.status = 'stale';
      body.reason = `the last run ended ${hours(ageMs)} ago (limit ${hours(this.#maxAgeMs)})`;
    } else body.reason = `the last ${lastRun!.kind} run ${lastRun!.status === 'aborted' ? 'was aborted' : 'succeeded'}`;
    return { httpStatus: body.status === 'ok' ? 200 : 503, body };
  }
}
