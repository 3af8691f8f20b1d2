/**
 * The cold tree in S3-compatible object storage (AWS S3, Cloudflare R2, MinIO,
 * Ceph): `TIERDB_COLD_URL=s3://bucket/prefix`. Object keys are the prefix plus
 * the manifest path.
 *
 * - `put` uploads a verified staged file (multipart past `partSize`, through
 *   `@aws-sdk/lib-storage`) with its sha256 as object metadata
 *   (`x-amz-meta-sha256`), then confirms the object with HEAD — size and that
 *   sha256 — before resolving; only then may the manifest name it. The staged
 *   file becomes the cache's copy.
 * - Reads go through a local read-through cache (ColdFileCache): DuckDB reads
 *   checked local copies; a query fetches only the files its plan lists and
 *   never lists the bucket. `list` (ListObjectsV2) is for recovery, validate
 *   and the tree's identity check only.
 * - Nothing relies on conditional writes or suffix ranges (not every
 *   S3-compatible server has them).
 * - Every SDK failure is a ColdStoreError naming the object and the endpoint.
 *
 * @example
 * const cold = await S3ColdStore.open({ url: parseColdUrl('s3://history/app')!, s3: config.s3,
 *   stagingDir: 'data/cold-staging', cacheDir: 'data/cold-cache', cacheBytes: 10e9, orphanSafetyAgeMs: 3_600_000 });
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import path from 'node:path';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { ColdUrl, S3Settings } from '../config.js';
import { ColdFileError, ColdStoreError, ConfigError } from '../errors.js';
import { ColdFileCache, type ColdFileCacheStats } from './ColdFileCache.js';
import { ICEBERG_DIR } from './coldLayout.js';
import type { ColdFileRef, ColdObjectInfo, ColdReadHandle, ColdStore } from './ColdStore.js';

/** The metadata key the whole-file sha256 is stored under (`x-amz-meta-sha256`). */
export const SHA256_METADATA = 'sha256';
/** Files up to this size go up in one PUT; larger ones in parts of this size. */
export const DEFAULT_PART_SIZE = 16 * 2 ** 20;

export interface S3ColdStoreOptions {
  url: ColdUrl;
  s3: S3Settings;
  /** Local folder for staged files and DuckDB spill. */
  stagingDir: string;
  cacheDir: string;
  cacheBytes: number;
  orphanSafetyAgeMs: number;
  /** Multipart part size (at least 5 MiB, S3's minimum). */
  partSize?: number;
}

/** The SDK's error in a few words: its name, HTTP status, and the network code underneath. */
export function describeS3Error(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const parts: string[] = [];
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const inner = error instanceof AggregateError && error.errors.length > 0 ? (error.errors[0] as Error) : error;
  const code = (inner as NodeJS.ErrnoException).code ?? (error as NodeJS.ErrnoException).code;
  const message = inner.message || error.message;
  if (error.name && error.name !== 'Error' && error.name !== 'AggregateError') parts.push(error.name);
  if (code && !parts.includes(code)) parts.push(code);
  if (status !== undefined) parts.push(`HTTP ${status}`);
  if (message && !parts.some((p) => message.includes(p))) parts.push(message);
  else if (message && parts.length === 0) parts.push(message);
  return parts.join(': ') || 'unknown error';
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}

function isNoSuchUpload(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchUpload' || e?.$metadata?.httpStatusCode === 404;
}

/** A server without this part of the API (s3rver has no ListMultipartUploads). */
function isNotImplemented(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotImplemented' || e?.$metadata?.httpStatusCode === 501 || e?.$metadata?.httpStatusCode === 405;
}

function isNoSuchBucket(error: unknown): boolean {
  return (error as { name?: string })?.name === 'NoSuchBucket';
}

/** Uploads of one object that did not land whole before put gives up, and the pause between them. */
const PUT_ATTEMPTS = 2;
const PUT_RETRY_MS = 200;

export class S3ColdStore implements ColdStore {
  readonly kind = 's3';
  readonly location: string;
  readonly stagingDir: string;
  readonly readableDirs: readonly string[];
  readonly orphanSafetyAgeMs: number;
  /** The endpoint as messages name it. */
  readonly endpoint: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly cache: ColdFileCache;
  readonly #client: S3Client;
  readonly #partSize: number;

  private constructor(options: S3ColdStoreOptions, client: S3Client, region: string) {
    this.location = options.url.url;
    this.bucket = options.url.bucket;
    this.prefix = options.url.prefix;
    this.stagingDir = path.resolve(options.stagingDir);
    this.orphanSafetyAgeMs = options.orphanSafetyAgeMs;
    this.endpoint = options.s3.endpoint ?? `AWS S3 (${region})`;
    this.#client = client;
    this.#partSize = Math.max(5 * 2 ** 20, options.partSize ?? DEFAULT_PART_SIZE);
    this.cache = new ColdFileCache({
      dir: options.cacheDir,
      maxBytes: options.cacheBytes,
      describe: (p) => this.describe(p),
      fetch: (ref, tmp) => this.#download(ref, tmp),
    });
    this.readableDirs = [this.cache.dir];
  }

  /**
   * A client for the settings, checked before anything is read: a region must
   * be known (AWS_REGION, or the shared config file) and credentials found,
   * else a ConfigError naming the variables. The bucket is first reached by the
   * caller (the tree's marker), which names the endpoint when it does not answer.
   */
  static async open(options: S3ColdStoreOptions): Promise<S3ColdStore> {
    const s3 = options.s3;
    const config: S3ClientConfig = {
      forcePathStyle: s3.forcePathStyle,
      // tierdb checks every object's size and sha256 itself; the SDK's default CRC trailers are not understood by every S3-compatible server.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
      maxAttempts: 3,
    };
    if (s3.endpoint !== undefined) config.endpoint = s3.endpoint;
    if (s3.region !== undefined) config.region = s3.region;
    if (s3.credentials !== undefined) config.credentials = { ...s3.credentials };
    const client = new S3Client(config);
    let region: string;
    try {
      region = await client.config.region();
      if (!region) throw new Error('no region');
    } catch (cause) {
      client.destroy();
      throw new ConfigError(
        `TIERDB_COLD_URL=${options.url.url} needs a region: set AWS_REGION (us-east-1 for MinIO and most self-hosted servers, auto for Cloudflare R2), or a region in the AWS config file`,
        { cause },
      );
    }
    try {
      const credentials = await client.config.credentials();
      if (!credentials.accessKeyId) throw new Error('no access key id');
    } catch (cause) {
      client.destroy();
      throw new ConfigError(
        `TIERDB_COLD_URL=${options.url.url} needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run where a role provides them (${describeS3Error(cause)})`,
        { cause },
      );
    }
    mkdirSync(options.stagingDir, { recursive: true });
    return new S3ColdStore(options, client, region);
  }

  /** The object key of a manifest path. */
  key(rel: string): string {
    return `${this.prefix}${rel}`;
  }

  describe(rel: string): string {
    return `s3://${this.bucket}/${this.key(rel)}`;
  }

  #fail(action: string, rel: string, cause: unknown): ColdStoreError {
    if (cause instanceof ColdStoreError) return cause;
    const bucketHint = isNoSuchBucket(cause) ? ` (the bucket ${this.bucket} does not exist: create it, or check TIERDB_COLD_URL)` : '';
    return new ColdStoreError(this.location, `cannot ${action} ${this.describe(rel)} at ${this.endpoint}: ${describeS3Error(cause)}${bucketHint}`, { cause });
  }

  async put(localFile: string, rel: string, expect: { bytes: number; sha256: string }): Promise<void> {
    const Key = this.key(rel);
    let size: number;
    try {
      size = statSync(localFile).size;
    } catch (cause) {
      throw this.#fail('upload to', rel, cause);
    }
    if (size !== expect.bytes) {
      throw new ColdStoreError(this.location, `cannot upload ${localFile} to ${this.describe(rel)}: it has ${size} bytes, expected ${expect.bytes}; nothing was uploaded`);
    }
    // An object that did not land whole (a gateway's glitch, an aborted earlier PUT of the same key
    // finishing late on a server that writes objects in place) is removed and uploaded once more.
    for (let attempt = 1; ; attempt++) {
      const mismatch = await this.#putOnce(localFile, rel, Key, size, expect);
      if (mismatch === undefined) break;
      if (attempt === PUT_ATTEMPTS) throw new ColdStoreError(this.location, `${mismatch} (${PUT_ATTEMPTS} attempts)`);
      await new Promise((resolve) => setTimeout(resolve, PUT_RETRY_MS));
    }
    this.cache.adopt(localFile, { path: rel, bytes: expect.bytes, sha256: expect.sha256 });
  }

  /** One upload and its check (HEAD: size and sha256 metadata). Undefined when it landed whole; else why not (the object removed again). */
  async #putOnce(localFile: string, rel: string, Key: string, size: number, expect: { bytes: number; sha256: string }): Promise<string | undefined> {
    const params = { Bucket: this.bucket, Key, ContentType: 'application/vnd.apache.parquet', Metadata: { [SHA256_METADATA]: expect.sha256 } };
    let upload: Upload | undefined;
    try {
      if (size <= this.#partSize) {
        // A buffer, not a stream: the SDK can then retry the PUT.
        await this.#client.send(new PutObjectCommand({ ...params, Body: readFileSync(localFile) }));
      } else {
        upload = new Upload({ client: this.#client, params: { ...params, Body: createReadStream(localFile) }, partSize: this.#partSize, queueSize: 4, leavePartsOnError: false });
        await upload.done();
      }
    } catch (cause) {
      const error = this.#fail('upload to', rel, cause);
      if (upload?.uploadId !== undefined) {
        // lib-storage aborts a failed multipart upload (leavePartsOnError: false), but that abort can fail
        // too (the server went away) and then replaces the error: abort again, and say what may be left.
        const aborted = await this.#abortUpload(Key, upload.uploadId);
        if (!aborted) {
          error.message += `; its incomplete multipart upload ${upload.uploadId} could not be aborted: a later run aborts it once older than TIERDB_COLD_ORPHAN_AGE_SECONDS (where the server lists uploads), or a lifecycle rule does`;
        }
      }
      throw error;
    }
    let head;
    try {
      head = await this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
    } catch (cause) {
      throw this.#fail('confirm the upload of', rel, cause);
    }
    const got = head.Metadata?.[SHA256_METADATA];
    if (head.ContentLength === expect.bytes && got === expect.sha256) return undefined;
    await this.delete(rel).catch(() => undefined);
    return `the upload of ${this.describe(rel)} to ${this.endpoint} did not land whole: the object has ${head.ContentLength} bytes and sha256 ${got ?? '(none)'}, expected ${expect.bytes} bytes and ${expect.sha256}; it was removed again`;
  }

  /** Aborts one multipart upload; true when it is gone (aborted now or before). */
  async #abortUpload(Key: string, UploadId: string): Promise<boolean> {
    try {
      await this.#client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId }));
      return true;
    } catch (error) {
      return isNoSuchUpload(error);
    }
  }

  /**
   * Aborts the incomplete multipart uploads under the prefix that were started
   * more than `orphanSafetyAgeMs` ago: uploads of runs that died (SIGKILL, a
   * lost server) hold their parts, billed, until aborted. Aborting one never
   * touches a completed object, so no run proof is needed — only the safety
   * age, for a slow upload still under way. Returns how many were aborted; 0
   * on a server that cannot list uploads (s3rver), where a lifecycle rule does it.
   */
  async abortIncompleteUploads(now = Date.now()): Promise<number> {
    let aborted = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      let page;
      try {
        page = await this.#client.send(
          new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: this.prefix, ...(keyMarker ? { KeyMarker: keyMarker } : {}), ...(uploadIdMarker ? { UploadIdMarker: uploadIdMarker } : {}) }),
        );
      } catch (cause) {
        if (isNotImplemented(cause)) return aborted;
        throw this.#fail('list the incomplete uploads under', '', cause);
      }
      for (const u of page.Uploads ?? []) {
        if (u.Key === undefined || u.UploadId === undefined || !u.Key.startsWith(this.prefix) || !u.Key.endsWith('.parquet')) continue;
        if (u.Initiated === undefined || now - u.Initiated.getTime() < this.orphanSafetyAgeMs) continue;
        if (await this.#abortUpload(u.Key, u.UploadId)) aborted++;
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
    return aborted;
  }

  openForRead(files: readonly ColdFileRef[], options: { fresh?: boolean } = {}): Promise<ColdReadHandle> {
    if (options.fresh) for (const f of files) this.cache.forget(f.path);
    return this.cache.open(files);
  }

  /**
   * Fetches one object into a local file, hashing it on the way (never a
   * second read). Objects up to `partSize` are gathered in memory and written
   * with one call; larger ones stream to disk.
   */
  async #download(ref: ColdFileRef, tmp: string): Promise<{ bytes: number; sha256: string }> {
    let body: Readable;
    let length: number | undefined;
    try {
      const got = await this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(ref.path) }));
      body = got.Body as Readable;
      length = got.ContentLength;
    } catch (cause) {
      if (isNotFound(cause)) {
        throw new ColdFileError(this.describe(ref.path), `cold file ${this.describe(ref.path)} is missing from the bucket (the manifest lists it): run tierdb validate`, { cause });
      }
      throw this.#fail('download', ref.path, cause);
    }
    const hash = createHash('sha256');
    let bytes = 0;
    if (length !== undefined && length <= this.#partSize) {
      try {
        const chunks: Buffer[] = [];
        for await (const chunk of body) {
          hash.update(chunk as Buffer);
          bytes += (chunk as Buffer).length;
          chunks.push(chunk as Buffer);
        }
        writeFileSync(tmp, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, bytes));
      } catch (cause) {
        body.destroy();
        throw this.#fail('download', ref.path, cause);
      }
      return { bytes, sha256: hash.digest('hex') };
    }
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, tap, createWriteStream(tmp));
    } catch (cause) {
      throw this.#fail('download', ref.path, cause);
    }
    return { bytes, sha256: hash.digest('hex') };
  }

  async stat(rel: string): Promise<ColdObjectInfo | undefined> {
    try {
      const head = await this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(rel) }));
      return { path: rel, bytes: head.ContentLength ?? 0, mtimeMs: head.LastModified?.getTime() ?? 0, sha256: head.Metadata?.[SHA256_METADATA] };
    } catch (cause) {
      if (isNotFound(cause) && !isNoSuchBucket(cause)) return undefined;
      throw this.#fail('stat', rel, cause);
    }
  }

  async list(prefix = ''): Promise<ColdObjectInfo[]> {
    const out: ColdObjectInfo[] = [];
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.#client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.key(prefix), ...(token ? { ContinuationToken: token } : {}) }));
      } catch (cause) {
        throw this.#fail('list', prefix, cause);
      }
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined || !o.Key.endsWith('.parquet') || !o.Key.startsWith(this.prefix) || o.Key.includes(`/${ICEBERG_DIR}/`)) continue;
        out.push({ path: o.Key.slice(this.prefix.length), bytes: o.Size ?? 0, mtimeMs: o.LastModified?.getTime() ?? 0 });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async delete(rel: string): Promise<void> {
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(rel) }));
    } catch (cause) {
      if (!isNotFound(cause) || isNoSuchBucket(cause)) throw this.#fail('delete', rel, cause);
    }
    this.cache.forget(rel);
  }

  async readText(rel: string): Promise<string | undefined> {
    try {
      const got = await this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(rel) }));
      return (await got.Body?.transformToString('utf8')) ?? '';
    } catch (cause) {
      if (isNotFound(cause) && !isNoSuchBucket(cause)) return undefined;
      throw this.#fail('read', rel, cause);
    }
  }

  async writeText(rel: string, text: string): Promise<void> {
    try {
      await this.#client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key(rel), Body: text, ContentType: 'application/json' }));
    } catch (cause) {
      throw this.#fail('write', rel, cause);
    }
  }

  /** What the read-through cache did (for benchmarks and tests). */
  cacheStats(): ColdFileCacheStats {
    return this.cache.stats();
  }

  async close(): Promise<void> {
    try {
      this.cache.close();
    } finally {
      this.#client.destroy();
    }
  }
}
