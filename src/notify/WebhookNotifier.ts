/**
 * POSTs a JSON body to a webhook: each attempt bounded by its own timeout,
 * retried with exponential backoff on what a retry can fix (a network error,
 * a timeout, 408, 425, 429, 5xx), signed with HMAC-SHA256 when given a secret.
 * It never throws: the outcome, every attempt included, is the result, and a
 * failure is logged at warn. The longest a send can take is `maxDurationMs`.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ENV_VARS } from '../config.js';
import { ArgumentError } from '../errors.js';
import { noopLogger, type Logger } from '../logger.js';

/** The header carrying `sha256=<hex HMAC-SHA256 of the exact body bytes, keyed by the secret>`. */
export const SIGNATURE_HEADER = 'X-Tierdb-Signature';
/** The header carrying one id per delivery, the same on each of its attempts (receivers dedupe on it). */
export const DELIVERY_HEADER = 'X-Tierdb-Delivery';
/** The wait before the second attempt; each later wait doubles it (0.5 s, 1 s, 2 s...). */
export const WEBHOOK_BACKOFF_MS = 500;

export interface WebhookNotifierOptions {
  /** An http:// or https:// URL. */
  url: string;
  /** Signs each body (SIGNATURE_HEADER); the secret itself is never sent. */
  secret?: string | undefined;
  /** Milliseconds one attempt may take, connect to response headers (default ARCHIVE_WEBHOOK_TIMEOUT_MS's, 5000). */
  timeoutMs?: number;
  /** Attempts after the first (default ARCHIVE_WEBHOOK_RETRIES's, 2). */
  retries?: number;
  /** The first backoff (default WEBHOOK_BACKOFF_MS). */
  backoffMs?: number;
  logger?: Logger;
}

/** One POST of a delivery. */
export interface WebhookAttempt {
  /** 1 for the first. */
  attempt: number;
  /** The backoff waited before it. */
  waitedMs: number;
  /** The HTTP status, when an answer came. */
  status?: number;
  /** Why it did not succeed. */
  error?: string;
}

/** The outcome of one `send`. */
export interface WebhookDelivery {
  ok: boolean;
  /** The webhook's origin (scheme, host, port): its path or query may hold a token, so it is never shown. */
  target: string;
  deliveryId: string;
  attempts: WebhookAttempt[];
  /** The last attempt's error, when none succeeded. */
  error?: string;
}

let userAgent: string | undefined;
/** `tierdb/<version>` from the package's own package.json (src/ and dist/ both sit two folders below it). */
function tierdbUserAgent(): string {
  if (userAgent === undefined) {
    try {
      userAgent = `tierdb/${(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version}`;
    } catch {
      userAgent = 'tierdb';
    }
  }
  return userAgent;
}

/** Answers worth another attempt: the receiver was busy or broken, not the request wrong. */
function retryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/** A fetch failure in one line: a timeout, or undici's `fetch failed` with the socket's cause. */
function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `no answer within ${timeoutMs} ms`;
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}

/**
 * @example
 * const hook = new WebhookNotifier({ url: 'https://hooks.example.com/tierdb', secret: process.env.ARCHIVE_WEBHOOK_SECRET });
 * const delivery = await hook.send({ hello: 'world' });   // never throws
 * if (!delivery.ok) console.warn(delivery.error);
 */
export class WebhookNotifier {
  readonly #url: string;
  readonly #secret: string | undefined;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #backoffMs: number;
  readonly #logger: Logger;
  /** The webhook's origin, safe to log. */
  readonly target: string;

  constructor(options: WebhookNotifierOptions) {
    const url = URL.canParse(options.url) ? new URL(options.url) : undefined;
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.username !== '' || url.password !== '') {
      // fetch refuses a URL with user:password@ on every attempt: say so now.
      throw new ArgumentError(`webhook url ${JSON.stringify(options.url)} is not an http:// or https:// URL without user:password@`);
    }
    const timeoutMs = options.timeoutMs ?? Number(ENV_VARS.ARCHIVE_WEBHOOK_TIMEOUT_MS.default);
    const retries = options.retries ?? Number(ENV_VARS.ARCHIVE_WEBHOOK_RETRIES.default);
    const backoffMs = options.backoffMs ?? WEBHOOK_BACKOFF_MS;
    for (const [name, n] of [['timeoutMs', timeoutMs], ['retries', retries], ['backoffMs', backoffMs]] as const) {
      if (!Number.isInteger(n) || n < (name === 'timeoutMs' ? 1 : 0)) throw new ArgumentError(`webhook ${name} ${n} is not a whole number${name === 'timeoutMs' ? ' >= 1' : ' >= 0'}`);
    }
    this.#url = url.href;
    this.#secret = options.secret === '' ? undefined : options.secret;
    this.#timeoutMs = timeoutMs;
    this.#retries = retries;
    this.#backoffMs = backoffMs;
    this.#logger = options.logger ?? noopLogger;
    this.target = url.origin;
  }

  /** The longest a `send` can take: every attempt timing out, plus the backoffs between them. */
  get maxDurationMs(): number {
    let backoffs = 0;
    for (let i = 0; i < this.#retries; i++) backoffs += this.#backoffMs * 2 ** i;
    return (this.#retries + 1) * this.#timeoutMs + backoffs;
  }

  /** The signature header's value for a body: `sha256=<hex>`. */
  static sign(body: string, secret: string): string {
    return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
  }

  /** POSTs `payload` as JSON until one attempt gets a 2xx, or the attempts run out. Never throws. */
  async send(payload: unknown): Promise<WebhookDelivery> {
    const deliveryId = randomUUID();
    const delivery: WebhookDelivery = { ok: false, target: this.target, deliveryId, attempts: [] };
    let body: string;
    try {
      body = JSON.stringify(payload);
    } catch (error) {
      delivery.error = `the body is not JSON: ${describeFetchError(error, this.#timeoutMs)}`;
      this.#logger.warn({ target: this.target, deliveryId, error: delivery.error }, 'webhook not sent');
      return delivery;
    }
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': tierdbUserAgent(),
      [DELIVERY_HEADER]: deliveryId,
    };
    if (this.#secret !== undefined) headers[SIGNATURE_HEADER] = WebhookNotifier.sign(body, this.#secret);
    for (let attempt = 1; ; attempt++) {
      const waitedMs = attempt === 1 ? 0 : this.#backoffMs * 2 ** (attempt - 2);
      if (waitedMs > 0) await sleep(waitedMs);
      const a: WebhookAttempt = { attempt, waitedMs };
      delivery.attempts.push(a);
      let retry = true;
      try {
        // Not followed: a redirect would re-send the body and its signature somewhere else.
        const response = await fetch(this.#url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(this.#timeoutMs) });
        a.status = response.status;
        await response.body?.cancel().catch(() => {});
        if (response.status >= 200 && response.status < 300) {
          delivery.ok = true;
          this.#logger.debug({ target: this.target, deliveryId, attempts: attempt, status: response.status }, 'webhook delivered');
          return delivery;
        }
        a.error = `answered HTTP ${response.status}`;
        retry = retryableStatus(response.status);
      } catch (error) {
        a.error = describeFetchError(error, this.#timeoutMs);
      }
      if (!retry || attempt > this.#retries) break;
      this.#logger.debug({ target: this.target, deliveryId, attempt, error: a.error }, 'webhook attempt failed; retrying');
    }
    delivery.error = delivery.attempts.at(-1)?.error ?? 'not sent';
    this.#logger.warn(
      { target: this.target, deliveryId, attempts: delivery.attempts.length, error: delivery.error },
      'webhook not delivered (the run itself is unaffected)',
    );
    return delivery;
  }
}
