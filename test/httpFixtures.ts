/**
 * Real HTTP on 127.0.0.1 for the notification tests: a webhook receiver that
 * records what it was sent and answers as told (a status, or never), a port
 * nothing listens on, and a plain GET.
 */
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';

export interface Received {
  body: string;
  headers: IncomingHttpHeaders;
  /** Date.now() when the request's body had arrived. */
  at: number;
  /** Set when the client closed the connection before an answer came (it gave up). */
  abandoned: boolean;
}

export interface WebhookReceiver {
  url: string;
  received: Received[];
  /** Resolves once `n` requests have arrived. */
  waitFor(n: number): Promise<void>;
}

/** How the receiver answers its `n`th request (1-based): a status, or `hang` (never answers). */
export type Answer = (n: number) => number | 'hang';

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A webhook receiver on 127.0.0.1 for one test (closed when it finishes). */
export async function webhookReceiver(answer: Answer = () => 200, path = '/hook/secret-token?x=1'): Promise<WebhookReceiver> {
  const received: Received[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const entry: Received = { body, headers: req.headers, at: Date.now(), abandoned: false };
      received.push(entry);
      for (const w of waiters.filter((w) => received.length >= w.n)) w.resolve();
      const a = answer(received.length);
      if (a === 'hang') {
        res.on('close', () => (entry.abandoned = !res.writableEnded));
        return;
      }
      res.writeHead(a, { 'content-type': 'text/plain' });
      res.end(a < 300 ? 'thanks' : 'no');
    });
  });
  const port = await listen(server);
  onTestFinished(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return {
    url: `http://127.0.0.1:${port}${path}`,
    received,
    waitFor: (n) => (received.length >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }))),
  };
}

/** A 127.0.0.1 port that was free a moment ago and has nothing listening on it (connections are refused). */
export async function refusedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((r) => server.close(r));
  return port;
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A GET (or another method) to a URL on this machine. */
export function httpGet(url: string, method = 'GET'): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
