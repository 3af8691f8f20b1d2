/**
 * What the S3 cold store adds to the ColdStore contract: the upload confirmed
 * by size and sha256 metadata, multipart uploads, the read-through cache
 * (checked copies, corrupted copies fetched again, a cap smaller than one
 * reader's files, pins that outlive another process's eviction, no pin left by
 * a failed fetch), failed multipart uploads aborted, and failures that name
 * the variable or the endpoint.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { parseColdUrl } from '../src/config.js';
import { ColdFileCache } from '../src/cold/ColdFileCache.js';
import { createColdStore } from '../src/cold/createColdStore.js';
import { fileSha256 } from '../src/cold/fileSha256.js';
import { S3ColdStore } from '../src/cold/S3ColdStore.js';
import { ColdFileError, ColdStoreError, ConfigError } from '../src/errors.js';
import { tempDir, testConfig } from './helpers.js';
import { startS3Server, TEST_BUCKET, type TestS3Server } from './s3Server.js';

async function s3Store(server: TestS3Server, extra: Record<string, string> = {}): Promise<S3ColdStore> {
  const store = await createColdStore(testConfig(tempDir(), server.env('t/tree', extra)));
  expect(store).toBeInstanceOf(S3ColdStore);
  return store as S3ColdStore;
}

async function putText(store: S3ColdStore, rel: string, content: string | Buffer): Promise<{ path: string; bytes: number; sha256: string }> {
  const file = path.join(store.stagingDir, `${randomBytes(4).toString('hex')}.tmp`);
  writeFileSync(file, content);
  const ref = { path: rel, bytes: Buffer.byteLength(content), sha256: await fileSha256(file) };
  await store.put(file, rel, { bytes: ref.bytes, sha256: ref.sha256 });
  return ref;
}

function rawClient(server: TestS3Server): S3Client {
  return new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
}

/**
 * A gateway in front of the test server that misreports the size of an object
 * whose key contains `glitch` in its first `lies` HEAD answers (as a flaky proxy,
 * or an aborted earlier PUT of the key finishing late, would show it).
 */
async function glitchingGateway(server: TestS3Server, lies: number): Promise<{ endpoint: string; lied: () => number }> {
  let lied = 0;
  const gateway = http.createServer((req, res) => {
    const upstream = http.request({ host: '127.0.0.1', port: server.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      const headers = { ...up.headers };
      if (req.method === 'HEAD' && req.url?.includes('glitch') && up.statusCode === 200 && lied < lies) {
        lied++;
        headers['content-length'] = '0';
      }
      res.writeHead(up.statusCode ?? 502, headers);
      up.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => gateway.close(() => resolve())));
  return { endpoint: `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`, lied: () => lied };
}

describe('S3ColdStore', () => {
  it('an upload that did not land whole is removed and uploaded once more; twice, and put fails naming it, nothing left', async () => {
    const server = await startS3Server();
    const once = await glitchingGateway(server, 1);
    const store = await s3Store(server, { AWS_ENDPOINT_URL: once.endpoint });
    const ref = await putText(store, 'events/year=2026/part-1-1-glitch01.parquet', 'some parquet bytes');
    expect(once.lied()).toBe(1);
    const client = rawClient(server);
    try {
      const head = await client.send(new HeadObjectCommand({ Bucket: TEST_BUCKET, Key: 't/tree/events/year=2026/part-1-1-glitch01.parquet' }));
      expect(head.ContentLength).toBe(ref.bytes);

      const always = await glitchingGateway(server, Infinity);
      const failing = await s3Store(server, { AWS_ENDPOINT_URL: always.endpoint });
      const err = await putText(failing, 'events/year=2026/part-1-2-glitch02.parquet', 'other bytes').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ColdStoreError);
      expect((err as Error).message).toMatch(/part-1-2-glitch02\.parquet .*did not land whole: the object has 0 bytes.*expected 11 bytes.*it was removed again \(2 attempts\)/);
      await expect(client.send(new HeadObjectCommand({ Bucket: TEST_BUCKET, Key: 't/tree/events/year=2026/part-1-2-glitch02.parquet' }))).rejects.toThrow();
    } finally {
      client.destroy();
    }
  });

  it('put stores the sha256 with the object and confirms it with HEAD; the staged file becomes the cached copy', async () => {
    const server = await startS3Server();
    const store = await s3Store(server);
    try {
      const ref = await putText(store, 'events/year=2026/part-1-1-aaaaaaaa.parquet', 'some parquet bytes');
      const client = rawClient(server);
      const head = await client.send(new HeadObjectCommand({ Bucket: TEST_BUCKET, Key: 't/tree/events/year=2026/part-1-1-aaaaaaaa.parquet' }));
      client.destroy();
      expect(head.ContentLength).toBe(ref.bytes);
      expect(head.Metadata).toEqual({ sha256: ref.sha256 });
      expect(store.cache.has(ref.path)).toBe(true);
      const read = await store.openForRead([ref]);
      expect(readFileSync(read.paths[0]!, 'utf8')).toBe('some parquet bytes');
      read.release();
      expect(store.cacheStats()).toMatchObject({ fetches: 0, hits: 1 });
      expect(store.describe(ref.path)).toBe(`s3://${TEST_BUCKET}/t/tree/events/year=2026/part-1-1-aaaaaaaa.parquet`);
    } finally {
      await store.close();
    }
  });

  it('uploads a file larger than one part in parts, and reads it back whole', async () => {
    const server = await startS3Server();
    const dir = tempDir();
    const config = testConfig(dir, server.env('mp'));
    const store = await S3ColdStore.open({
      url: config.coldUrl!,
      s3: config.s3,
      stagingDir: config.coldStagingDir,
      cacheDir: config.coldCacheDir,
      cacheBytes: 1,
      orphanSafetyAgeMs: 0,
      partSize: 5 * 2 ** 20,
    });
    try {
      const big = randomBytes(11 * 2 ** 20 + 17);
      const ref = await putText(store, 'big/part-1-1-bbbbbbbb.parquet', big);
      expect(await store.stat(ref.path)).toMatchObject({ bytes: big.length });
      const read = await store.openForRead([ref]);
      expect(readFileSync(read.paths[0]!).equals(big)).toBe(true);
      read.release();
    } finally {
      await store.close();
    }
  });

  it('a corrupted cached copy is detected and fetched again; a damaged or missing object fails naming it', async () => {
    const server = await startS3Server();
    const store = await s3Store(server);
    try {
      const ref = await putText(store, 'e/part-1-1-cccccccc.parquet', 'the real content');
      // Another process (a fresh cache over the same folder) sees the copy unchecked; corrupt it on disk, same size.
      writeFileSync(store.cache.pathOf(ref.path), 'the fake content');
      const second = await s3Store(server, { TIERDB_COLD_CACHE_DIR: store.cache.dir });
      try {
        const read = await second.openForRead([ref]);
        expect(readFileSync(read.paths[0]!, 'utf8')).toBe('the real content');
        read.release();
        expect(second.cacheStats()).toMatchObject({ corrupt: 1, fetches: 1 });
        // Corrupted again after this process checked it: the changed mtime makes it check again.
        await new Promise((r) => setTimeout(r, 20));
        writeFileSync(second.cache.pathOf(ref.path), 'the fake content');
        const again = await second.openForRead([ref]);
        expect(readFileSync(again.paths[0]!, 'utf8')).toBe('the real content');
        again.release();
        expect(second.cacheStats()).toMatchObject({ corrupt: 2, fetches: 2 });
      } finally {
        await second.close();
      }

      // The object itself replaced by other bytes: the fresh download does not match the manifest.
      const client = rawClient(server);
      await client.send(new PutObjectCommand({ Bucket: TEST_BUCKET, Key: 't/tree/e/part-1-1-cccccccc.parquet', Body: 'other bytes, same!' }));
      client.destroy();
      store.cache.forget(ref.path);
      const damaged = await store.openForRead([ref]).catch((e: unknown) => e);
      expect(damaged).toBeInstanceOf(ColdFileError);
      expect((damaged as Error).message).toContain(`s3://${TEST_BUCKET}/t/tree/e/part-1-1-cccccccc.parquet`);

      const missing = await store.openForRead([{ path: 'e/part-9-9-dddddddd.parquet', bytes: 3, sha256: 'ab' }]).catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(ColdFileError);
      expect((missing as Error).message).toMatch(/part-9-9-dddddddd\.parquet is missing from the bucket/);
    } finally {
      await store.close();
    }
  });

  it('a cache cap smaller than one reader\'s files: every file readable while held, the cache shrinks under the cap after', async () => {
    const server = await startS3Server();
    const writer = await s3Store(server);
    const refs = [];
    for (let i = 0; i < 4; i++) refs.push(await putText(writer, `e/part-1-${i}-eeeeeeee.parquet`, `file number ${i} `.repeat(50)));
    await writer.close();
    const store = await s3Store(server, { TIERDB_COLD_CACHE_BYTES: '100' });
    try {
      const read = await store.openForRead(refs);
      refs.forEach((_r, i) => expect(readFileSync(read.paths[i]!, 'utf8')).toBe(`file number ${i} `.repeat(50)));
      // A second reader of the same files shares the pins.
      const again = await store.openForRead(refs.slice(0, 2));
      read.release();
      expect(readFileSync(again.paths[1]!, 'utf8')).toBe(`file number 1 `.repeat(50));
      again.release();
      expect(store.cacheStats().bytes).toBeLessThanOrEqual(100);
      expect(store.cacheStats().fetches).toBe(4);
    } finally {
      await store.close();
    }
  });

  it("a file another process evicts stays readable for this process's reader (its pin is a hard link)", async () => {
    const server = await startS3Server();
    const store = await s3Store(server);
    try {
      const ref = await putText(store, 'e/part-1-1-ffffffff.parquet', 'pinned bytes');
      const held = await store.openForRead([ref]);
      // Another process over the same folder with a tiny cap evicts everything it does not hold itself.
      const other = new ColdFileCache({ dir: store.cache.dir, maxBytes: 1, describe: (p) => p, fetch: () => Promise.reject(new Error('no fetch')) });
      other.adopt(path.join(store.stagingDir, 'nothing'), { path: 'x', bytes: 1, sha256: 'x' }); // starts it; evicts over the cap
      other.close();
      expect(store.cache.has(ref.path)).toBe(false);
      expect(readFileSync(held.paths[0]!, 'utf8')).toBe('pinned bytes');
      held.release();
      const read = await store.openForRead([ref]);
      expect(readFileSync(read.paths[0]!, 'utf8')).toBe('pinned bytes');
      read.release();
    } finally {
      await store.close();
    }
  });

  it('an endpoint that does not answer fails naming the endpoint and the object', async () => {
    const server = await startS3Server();
    const store = await s3Store(server);
    try {
      await server.stop();
      const error = await store.readText('_tierdb_store.json').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ColdStoreError);
      expect((error as Error).message).toContain(server.endpoint);
      expect((error as Error).message).toContain(`s3://${TEST_BUCKET}/t/tree/_tierdb_store.json`);
      expect((error as Error).message).toContain('ECONNREFUSED');
    } finally {
      await store.close();
    }
  });

  it('a reader whose fetch fails (an object missing, the server stopped) leaves no pin behind, and no half-done download', async () => {
    const server = await startS3Server();
    const writer = await s3Store(server);
    const refs = [];
    try {
      for (let i = 0; i < 8; i++) refs.push(await putText(writer, `e/part-1-${i + 1}-cccccccc.parquet`, `file ${i} `.repeat(1000 + i)));
    } finally {
      await writer.close();
    }
    const client = rawClient(server);
    await client.send(new DeleteObjectCommand({ Bucket: TEST_BUCKET, Key: `t/tree/${refs[5]!.path}` }));
    client.destroy();
    const store = await s3Store(server); // an empty cache of its own
    const pinFiles = () => readdirSync(path.join(store.cache.dir, 'pins')).flatMap((d) => readdirSync(path.join(store.cache.dir, 'pins', d)));
    try {
      // Fetched 4 at a time: when the missing one fails, others are still downloading; none may stay pinned.
      await expect(store.openForRead(refs)).rejects.toThrow(/is missing from the bucket/);
      expect(pinFiles()).toEqual([]);
      expect(readdirSync(path.join(store.cache.dir, 'tmp'))).toEqual([]);

      const held = await store.openForRead(refs.slice(0, 2));
      expect(pinFiles().length).toBe(2);
      await server.stop();
      const error = await store.openForRead(refs).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ColdStoreError);
      expect((error as Error).message).toContain(server.endpoint);
      expect(pinFiles().length, 'only the pins of the reader still holding them').toBe(2);
      held.release();
      expect(pinFiles()).toEqual([]);
      expect(readdirSync(path.join(store.cache.dir, 'tmp'))).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('a failed multipart upload is aborted (no incomplete upload left), and the error names the object and the endpoint', async () => {
    const server = await startS3Server();
    const config = testConfig(tempDir(), server.env('mp'));
    const store = await S3ColdStore.open({ url: config.coldUrl!, s3: config.s3, stagingDir: config.coldStagingDir, cacheDir: config.coldCacheDir, cacheBytes: 1e9, orphanSafetyAgeMs: 0, partSize: 5 * 2 ** 20 });
    const realSend = S3Client.prototype.send;
    const aborted: string[] = [];
    let parts = 0;
    // The second part fails; s3rver has no AbortMultipartUpload (405), so the abort is recorded here and answered as S3 would.
    const send = vi.spyOn(S3Client.prototype, 'send').mockImplementation(function (this: S3Client, command: unknown, ...rest: unknown[]) {
      if (command instanceof UploadPartCommand && ++parts === 2) return Promise.reject(Object.assign(new Error('part lost'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } }));
      if (command instanceof AbortMultipartUploadCommand) {
        aborted.push(command.input.UploadId!);
        return Promise.resolve({ $metadata: { httpStatusCode: 204 } });
      }
      return (realSend as (...a: unknown[]) => Promise<unknown>).call(this, command, ...rest);
    } as typeof realSend);
    try {
      const big = randomBytes(11 * 2 ** 20);
      const error = await putText(store, 'big/part-1-1-dddddddd.parquet', big).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ColdStoreError);
      expect((error as Error).message).toContain(`s3://${TEST_BUCKET}/mp/big/part-1-1-dddddddd.parquet`);
      expect((error as Error).message).toContain(server.endpoint);
      expect((error as Error).message).not.toMatch(/could not be aborted/);
      expect(aborted.length).toBeGreaterThan(0);
      expect(new Set(aborted).size, 'one upload, aborted').toBe(1);
      send.mockRestore();
      expect(await store.stat('big/part-1-1-dddddddd.parquet')).toBeUndefined();
    } finally {
      send.mockRestore();
      await store.close();
    }
  });

  it('recovery aborts incomplete multipart uploads under the prefix once older than the safety age; a server without the listing is no error', async () => {
    const server = await startS3Server();
    const config = testConfig(tempDir(), server.env('mp'));
    const store = await S3ColdStore.open({ url: config.coldUrl!, s3: config.s3, stagingDir: config.coldStagingDir, cacheDir: config.coldCacheDir, cacheBytes: 1e9, orphanSafetyAgeMs: 60_000 });
    try {
      expect(await store.abortIncompleteUploads(), 's3rver cannot list uploads').toBe(0);
      const realSend = S3Client.prototype.send;
      const now = Date.now();
      const aborted: string[] = [];
      const send = vi.spyOn(S3Client.prototype, 'send').mockImplementation(function (this: S3Client, command: unknown, ...rest: unknown[]) {
        if (command instanceof ListMultipartUploadsCommand) {
          expect(command.input.Prefix).toBe('mp/');
          return Promise.resolve({
            Uploads: [
              { Key: 'mp/t/part-1-1-eeeeeeee.parquet', UploadId: 'old', Initiated: new Date(now - 120_000) },
              { Key: 'mp/t/part-1-2-eeeeeeee.parquet', UploadId: 'young', Initiated: new Date(now - 10_000) },
              { Key: 'mp/notes.txt', UploadId: 'not-ours', Initiated: new Date(now - 120_000) },
            ],
            IsTruncated: false,
          });
        }
        if (command instanceof AbortMultipartUploadCommand) {
          aborted.push(command.input.UploadId!);
          return Promise.resolve({});
        }
        return (realSend as (...a: unknown[]) => Promise<unknown>).call(this, command, ...rest);
      } as typeof realSend);
      try {
        expect(await store.abortIncompleteUploads(now)).toBe(1);
        expect(aborted).toEqual(['old']);
      } finally {
        send.mockRestore();
      }
    } finally {
      await store.close();
    }
  });

  it('a bucket that does not exist is named', async () => {
    const server = await startS3Server();
    const store = await createColdStore(testConfig(tempDir(), { ...server.env(), TIERDB_COLD_URL: 's3://no-such-bucket/x' }));
    try {
      await expect(store.list()).rejects.toThrow(/the bucket no-such-bucket does not exist/);
    } finally {
      await store.close();
    }
  });

  it('without a region, fails at start naming AWS_REGION', async () => {
    vi.stubEnv('AWS_REGION', '');
    vi.stubEnv('AWS_DEFAULT_REGION', '');
    vi.stubEnv('AWS_CONFIG_FILE', path.join(tempDir(), 'none'));
    vi.stubEnv('AWS_PROFILE', '');
    try {
      const server = await startS3Server();
      const env = server.env();
      delete env.AWS_REGION;
      const error = await createColdStore(testConfig(tempDir(), env)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain('AWS_REGION');
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('parses the URL into a bucket and a key prefix', () => {
    expect(parseColdUrl('s3://b-1/a/b/')).toEqual({ url: 's3://b-1/a/b', bucket: 'b-1', prefix: 'a/b/' });
    expect(parseColdUrl('s3://192.168.1.1/x')).toBeUndefined();
  });
});
