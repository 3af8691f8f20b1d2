/**
 * An S3 server for tests: npm's `s3rver` on 127.0.0.1 with an ephemeral port,
 * its objects in a temp folder. A protocol stand-in (PUT/GET/HEAD/LIST/DELETE
 * and multipart work; suffix ranges and conditional puts do not, and tierdb
 * uses neither). `stop` and `start` again keep the objects and the port, for
 * tests of an endpoint that goes away in the middle of a run.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { onTestFinished } from 'vitest';

export const TEST_BUCKET = 'tierdb-test';

// The SDK warns once per process that its releases after January 2027 need Node 22; not a test's concern.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export interface TestS3Server {
  readonly endpoint: string;
  readonly port: number;
  /** The folder s3rver keeps the objects in (`<dir>/<bucket>/<key>._S3rver_object`). */
  readonly dir: string;
  /** The environment a store (or a CLI child) needs to use `s3://<bucket>/<prefix>`. */
  env(prefix?: string, extra?: Record<string, string>): Record<string, string>;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export interface S3ServerOptions {
  /**
   * The folder of another (stopped) server whose objects this one starts with: a bucket a test file
   * built once as a template (copied, timestamps kept; the template is left as it was).
   */
  from?: string;
  /** false: the server outlives the test (a template built in beforeAll); the caller stops it and removes `dir`. */
  stopAfterTest?: boolean;
}

/** Starts a server for this test; it stops (and its folder goes) when the test finishes. */
export async function startS3Server(options: S3ServerOptions = {}): Promise<TestS3Server> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tierdb-s3rver-'));
  if (options.from !== undefined) cpSync(options.from, dir, { recursive: true, preserveTimestamps: true });
  let port = 0;
  let server: S3rver | undefined;
  const start = async () => {
    if (server) return;
    // The signature check relaxed: listing with the SDK's signatures is not always accepted by s3rver.
    const s = new S3rver({ address: '127.0.0.1', port, silent: true, directory: dir, configureBuckets: [{ name: TEST_BUCKET }], allowMismatchedSignatures: true, vhostBuckets: false });
    const address = await s.run();
    port = address.port;
    server = s;
  };
  const stop = async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    const closed = s.close();
    // Abruptly, like a server that goes away: uploads and downloads under way are cut.
    s.httpServer?.closeAllConnections();
    await closed;
  };
  await start();
  if (options.stopAfterTest !== false) {
    onTestFinished(async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    });
  }
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    port,
    dir,
    env: (prefix = 'cold', extra = {}) => ({
      TIERDB_COLD_URL: `s3://${TEST_BUCKET}/${prefix}`,
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      TIERDB_S3_FORCE_PATH_STYLE: 'true',
      TIERDB_COLD_ORPHAN_AGE_SECONDS: '0',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AWS_EC2_METADATA_DISABLED: 'true',
      ...extra,
    }),
    stop,
    start,
  };
}
