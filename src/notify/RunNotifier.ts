/**
 * Where every run ends: the archive run (and compaction and retention, built
 * on the same RunSummary) calls `notifyRunEnd(summary)` once, after the run
 * has finished and released its lease, success or failure. Listeners
 * (`tierdb serve`'s metrics and health) hear of it first, synchronously; then
 * the webhook, when one is configured, is awaited — bounded by its timeout ×
 * attempts plus backoffs (WebhookNotifier.maxDurationMs). Nothing here throws:
 * a failing listener or webhook is logged at warn and never fails the run.
 */
import type { TierConfig } from '../config.js';
import { noopLogger, type Logger } from '../logger.js';
import type { RunSummary } from './RunSummary.js';
import { WebhookNotifier, type WebhookDelivery } from './WebhookNotifier.js';

/** Hears of every run's end. */
export type RunEndListener = (summary: RunSummary) => void;
/** Hears of every webhook delivery's outcome. */
export type WebhookDeliveryListener = (delivery: WebhookDelivery, summary: RunSummary) => void;

export interface RunNotifierOptions {
  /** Where summaries are POSTed (none: no webhook). */
  webhook?: WebhookNotifier | undefined;
  logger?: Logger;
}

/**
 * @example
 * const off = store.notifier.onRunEnd((s) => console.log(s.kind, s.status, s.totals.rows));
 * await store.archiver.run();   // the listener hears of it; ARCHIVE_WEBHOOK_URL gets the summary
 * off();
 */
export class RunNotifier {
  readonly #runEnd = new Set<RunEndListener>();
  readonly #delivery = new Set<WebhookDeliveryListener>();
  readonly #logger: Logger;
  /** The configured webhook, if any. */
  readonly webhook: WebhookNotifier | undefined;

  constructor(options: RunNotifierOptions = {}) {
    this.webhook = options.webhook;
    this.#logger = options.logger ?? noopLogger;
  }

  /** The notifier a config asks for: a webhook when ARCHIVE_WEBHOOK_URL is set. */
  static fromConfig(config: TierConfig, logger: Logger = noopLogger): RunNotifier {
    const webhook =
      config.webhookUrl === undefined
        ? undefined
        : new WebhookNotifier({
            url: config.webhookUrl,
            secret: config.webhookSecret,
            timeoutMs: config.webhookTimeoutMs,
            retries: config.webhookRetries,
            logger,
          });
    return new RunNotifier({ webhook, logger });
  }

  /** Calls `listener` at the end of every run; returns the function that stops it. */
  onRunEnd(listener: RunEndListener): () => void {
    this.#runEnd.add(listener);
    return () => this.#runEnd.delete(listener);
  }

  /** Calls `listener` with each webhook delivery's outcome; returns the function that stops it. */
  onWebhookDelivery(listener: WebhookDeliveryListener): () => void {
    this.#delivery.add(listener);
    return () => this.#delivery.delete(listener);
  }

  /**
   * A run has ended: tells the listeners, then POSTs the summary to the webhook
   * (awaited, bounded). Resolves with the delivery (undefined without a webhook); never rejects.
   */
  async notifyRunEnd(summary: RunSummary): Promise<WebhookDelivery | undefined> {
    this.#logger.debug({ kind: summary.kind, runId: summary.runId, status: summary.status }, 'run ended');
    this.#call(this.#runEnd, (l) => l(summary));
    if (!this.webhook) return undefined;
    let delivery: WebhookDelivery;
    try {
      delivery = await this.webhook.send(summary);
    } catch (error) {
      // send never throws; this is only a belt for the promise above.
      this.#logger.warn({ err: error }, 'webhook not delivered (the run itself is unaffected)');
      return undefined;
    }
    this.#call(this.#delivery, (l) => l(delivery, summary));
    return delivery;
  }

  #call<L>(listeners: Set<L>, call: (listener: L) => void): void {
    for (const listener of listeners) {
      try {
        call(listener);
      } catch (error) {
        this.#logger.warn({ err: error }, 'a run-end listener threw; ignored');
      }
    }
  }
}
