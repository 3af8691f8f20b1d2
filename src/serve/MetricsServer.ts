/**
 * The HTTP server of `/healthz` and `/metrics` (node:http), on 127.0.0.1 only:
 * it says how the store is doing, so it is for the machine's own scraper or a
 * reverse proxy, never the network. GET and HEAD only.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TierError } from '../errors.js';
import { noopLogger, type Logger } from '../logger.js';
import type { RunHealth } from './RunHealth.js';
import type { RunMetrics } from './RunMetrics.js';

/** The one address the server binds. */
export const METRICS_HOST = '127.0.0.1';

export interface MetricsServerOptions {
  /** 1..65535, or 0 for any free port (`server.port` says which). */
  port: number;
  metrics: RunMetrics;
  health: RunHealth;
  logger?: Logger;
}

/**
 * @example
 * await using server = await MetricsServer.listen({ port: 9464, metrics, health });
 * // curl http://127.0.0.1:9464/healthz ; curl http://127.0.0.1:9464/metrics
 */
export class MetricsServer implements AsyncDisposable {
  readonly #server: Server;
  /** The port it listens on (the chosen one when asked for 0). */
  readonly port: number;
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;

  private constructor(server: Server, port: number) {
    this.#server = server;
    this.port = port;
    this.url = `http://${METRICS_HOST}:${port}`;
  }

  /** Starts listening; a port in use (or not allowed) is a TierError naming it. */
  static async listen(options: MetricsServerOptions): Promise<MetricsServer> {
    const { port, metrics, health } = options;
    const logger = options.logger ?? noopLogger;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new TierError('TIERDB_METRICS_SERVER', `metrics port ${port} is not a whole number from 0 to 65535 (TIERDB_METRICS_PORT)`);
    }
    const server = createServer((req, res) => {
      handle(req, res, metrics, health).catch((error: unknown) => {
        logger.warn({ err: error, url: req.url }, 'metrics request failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('internal error\n');
      });
    });
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        reject(
          new TierError('TIERDB_METRICS_SERVER', `cannot serve /healthz and /metrics on ${METRICS_HOST}:${port} (TIERDB_METRICS_PORT): ${error.code ?? error.message}${error.code === 'EADDRINUSE' ? ' (another process uses the port)' : ''}`, { cause: error }),
        );
      };
      server.once('error', onError);
      server.listen({ port, host: METRICS_HOST, exclusive: true }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    return new MetricsServer(server, (server.address() as AddressInfo).port);
  }

  /** Stops listening and drops open connections. */
  async close(): Promise<void> {
    if (!this.#server.listening) return;
    await new Promise<void>((resolve, reject) => {
      this.#server.close((error) => (error ? reject(error) : resolve()));
      this.#server.closeAllConnections();
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

async function handle(req: IncomingMessage, res: ServerResponse, metrics: RunMetrics, health: RunHealth): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  const known = path === '/healthz' || path === '/metrics';
  if (known && req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
    res.end('method not allowed\n');
    return;
  }
  if (path === '/healthz') {
    const { httpStatus, body } = health.report();
    send(req, res, httpStatus, 'application/json; charset=utf-8', `${JSON.stringify(body)}\n`);
  } else if (path === '/metrics') {
    send(req, res, 200, metrics.registry.contentType, await metrics.registry.metrics());
  } else {
    send(req, res, 404, 'text/plain; charset=utf-8', 'not found: try /healthz or /metrics\n');
  }
}

function send(req: IncomingMessage, res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}
