/**
 * All of tierdb's settings: one table of environment variables with their
 * defaults, and one function that turns env + options into a frozen config.
 * `.env.example` documents the same table (a test keeps the two in step).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import cron from 'node-cron';
import dotenv from 'dotenv';
import { z } from 'zod';
import { ConfigError } from './errors.js';

const wholeNumber = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, `a whole number from ${min} to ${max}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `a whole number from ${min} to ${max}`);

const nonNegativeNumber = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?$/, 'a number >= 0')
  .transform(Number);

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((s) => ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'].includes(s), 'true or false')
  .transform((s) => ['true', '1', 'yes', 'on'].includes(s));

/** DuckDB's byte units (KB = 1000 bytes, KiB = 1024). */
const MEMORY_UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };
/** The least DUCKDB_MEMORY_LIMIT accepted: below it DuckDB fails on the first query (0 or a few bytes) instead of at load. */
export const MIN_DUCKDB_MEMORY_BYTES = 16e6;
export const MIN_DUCKDB_MEMORY_PERCENT = 1;
const MEMORY_EXPECTED = `a size of at least 16MB such as 512MB, 2GB or 1.5GiB, or a share of RAM of at least ${MIN_DUCKDB_MEMORY_PERCENT}% such as 80%`;

/** DuckDB memory sizes: `512MB`, `1.5GiB`, `80%`; at least 16MB or 1%. */
const memorySize = z
  .string()
  .trim()
  .regex(/^(\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)|\d{1,2}(\.\d+)?%|100%)$/i, MEMORY_EXPECTED)
  .refine((s) => {
    const m = /^(\d+(?:\.\d+)?)\s*(%|[a-z]+)$/i.exec(s);
    if (!m || (m[2] !== '%' && MEMORY_UNITS[m[2]!.toLowerCase()] === undefined)) return true; // the regex reports it
    const n = Number(m[1]);
    return m[2] === '%' ? n >= MIN_DUCKDB_MEMORY_PERCENT : n * MEMORY_UNITS[m[2]!.toLowerCase()]! >= MIN_DUCKDB_MEMORY_BYTES;
  }, MEMORY_EXPECTED);

const cronExpression = z
  .string()
  .trim()
  .refine((s) => cron.validate(s), 'a cron expression such as "30 3 * * *"');

const text = z.string().trim().min(1, 'a non-empty value');

const HTTP_URL_EXPECTED = 'an http:// or https:// URL such as https://hooks.example.com/tierdb (without user:password@)';
/** An http(s) URL that `fetch` accepts (no credentials in it: fetch refuses those). */
const httpUrl = z
  .string()
  .trim()
  .refine((s) => {
    if (!URL.canParse(s)) return false;
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.username === '' && u.password === '';
  }, HTTP_URL_EXPECTED);


/** Where the cold tree lives when not in the local folder: `s3://bucket[/prefix]`. */
export interface ColdUrl {
  /** The URL as given, without a trailing `/`. */
  readonly url: string;
  readonly bucket: string;
  /** The key prefix of the tree: empty, or ending in `/` (`history/app/`). */
  readonly prefix: string;
}

/** S3 bucket naming rules: 3–63 characters of a-z, 0-9, `.` and `-`, starting and ending with a letter or digit, not an IP address. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const COLD_URL_EXPECTED = 's3://bucket or s3://bucket/prefix (a bucket name of 3-63 characters a-z, 0-9, . and -), or nothing for the local folder <TIERDB_DATA_DIR>/cold';

/** Parses `s3://bucket[/prefix]`; undefined when the text is not one. */
export function parseColdUrl(text: string): ColdUrl | undefined {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(text.trim());
  if (!m) return undefined;
  const bucket = m[1]!;
  if (!BUCKET_NAME.test(bucket) || bucket.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(bucket)) return undefined;
  const segments = (m[2] ?? '').split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..' || /[\\\u0000-\u001f]/.test(s))) return undefined;
  const prefix = segments.length === 0 ? '' : `${segments.join('/')}/`;
  return { url: `s3://${bucket}${prefix === '' ? '' : `/${prefix.slice(0, -1)}`}`, bucket, prefix };
}

const coldUrl = z
  .string()
  .trim()
  .refine((s) => parseColdUrl(s) !== undefined, COLD_URL_EXPECTED)
  .transform((s) => parseColdUrl(s)!);

const ICEBERG_LOCATION_EXPECTED = 'an absolute URL without query or fragment such as s3://bucket/prefix, s3a://bucket/prefix, file:///srv/cold or https://host/cold';
/** ICEBERG_LOCATION: an absolute URL, kept without a trailing `/`. */
const icebergLocation = z
  .string()
  .trim()
  .refine((s) => {
    if (!URL.canParse(s)) return false;
    const u = new URL(s);
    return /^[a-z][a-z0-9+.-]*:$/.test(u.protocol) && u.search === '' && u.hash === '' && u.username === '' && u.password === '' && (u.protocol === 'file:' ? u.pathname.length > 1 : u.host !== '');
  }, ICEBERG_LOCATION_EXPECTED)
  .transform((s) => s.replace(/\/+$/, ''));

interface EnvVar<T, D extends string = string> {
  readonly schema: z.ZodType<T, string>;
  /** The default; `''` means none: the variable is undefined unless given. */
  readonly default: D;
  readonly doc: string;
}
const v = <T, const D extends string>(schema: z.ZodType<T, string>, def: D, doc: string): EnvVar<T, D> => ({ schema, default: def, doc });

/** Days a table's rows stay hot (`HOT_DAYS_<TABLE>`). */
const HOT_DAYS_VALUE = wholeNumber(0, 36500);

/** The per-table variable that overrides a registered table's `hotDays`. */
export function hotDaysVariable(table: string): string {
  return `HOT_DAYS_${table.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** Days a table's rows are kept at all (`COLD_DAYS_<TABLE>`). */
const COLD_DAYS_VALUE = wholeNumber(1, 365_000);

/** The per-table variable that sets a registered table's `coldDays` (retention). */
export function coldDaysVariable(table: string): string {
  return `COLD_DAYS_${table.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** Byte sizes: `134217728`, `128MB`, `1.5GiB` (KB = 1000 bytes, KiB = 1024). */
const BYTE_SIZE = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?$/i;

/** A byte size as bytes, or undefined when the text is not one (a size of 0 is not one either). */
export function parseByteSize(text: string): number | undefined {
  const m = BYTE_SIZE.exec(text.trim());
  if (!m) return undefined;
  const bytes = Math.round(Number(m[1]) * (m[2] ? MEMORY_UNITS[m[2].toLowerCase()]! : 1));
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

const byteSize = (min: number) =>
  z
    .string()
    .trim()
    .refine((s) => (parseByteSize(s) ?? 0) >= min, `a size of at least ${min} bytes such as 128MB, 64MiB or 134217728`)
    .transform((s) => parseByteSize(s)!);

/** Every environment variable tierdb reads, with its default and meaning. */
export const ENV_VARS = {
  TIERDB_DATA_DIR: v(text, 'data', 'Folder for the hot SQLite file and the cold Parquet tree'),
  TIERDB_HOT_PATH: v(text, '', 'The hot SQLite file (default: <TIERDB_DATA_DIR>/hot.db); point it at an existing app database to adopt it'),
  TIERDB_REGISTRY: v(text, '', 'The registry module that lists the tiered tables (default: tierdb.config.ts, .mjs or .js, else archive-registry.ts, in the working folder)'),
  AUTO_ARCHIVE_ENABLED: v(bool, 'true', '`tierdb serve` runs the archiver on ARCHIVE_CRON when true'),
  HOT_DAYS_TASK: v(wholeNumber(0, 36500), '7', 'WeChat demo preset: days task_queue rows stay hot'),
  HOT_DAYS_LOG: v(wholeNumber(0, 36500), '30', 'WeChat demo preset: days rule_logs and audit_logs rows stay hot'),
  HOT_DAYS_SIGN: v(wholeNumber(0, 36500), '60', 'WeChat demo preset: days media_signatures rows stay hot'),
  HOT_DAYS_MESSAGES: v(wholeNumber(0, 36500), '7', 'WeChat demo preset: days messages rows stay hot'),
  ARCHIVE_BATCH_SIZE: v(wholeNumber(1, 10_000_000), '20000', 'Most rows moved in one chunk (one Parquet file); its hot rows are then deleted in short transactions (ARCHIVE_LOCK_TARGET_MS)'),
  ARCHIVE_LOCK_TARGET_MS: v(wholeNumber(1, 10_000), '4', "About how long one archiver transaction holds SQLite's write lock (ms): rows per transaction are sized from measured time, with a pause as long after each, so the app's writers get in between"),
  ARCHIVE_MAX_WORKERS: v(wholeNumber(1, 64), '2', 'Threads DuckDB uses to write and read Parquet'),
  ARCHIVE_THREAD_MIN_ROWS: v(wholeNumber(0, 1_000_000_000), '50000', "A table with at least this many rows to move is read and written to Parquet on a worker thread (its own read-only connection and DuckDB instance), beside the drain's deletes on the archiver's thread; 0: every table"),
  ARCHIVE_ZSTD_LEVEL: v(wholeNumber(1, 22), '6', 'zstd level of the cold Parquet files'),
  ARCHIVE_CRON: v(cronExpression, '30 3 * * *', 'When `tierdb serve` runs the archiver (node-cron syntax, local time)'),
  ARCHIVE_GRACE_HOURS: v(nonNegativeNumber, '0', 'Hours a written file stays invisible (rows kept hot) before a later run commits it'),
  ARCHIVE_BACKUP_ENABLED: v(bool, 'false', 'Take an online backup of the hot file before each archive run'),
  ARCHIVE_BACKUP_KEEP: v(wholeNumber(1, 1000), '3', 'How many hot-file backups to keep'),
  DUCKDB_MEMORY_LIMIT: v(memorySize, '1GB', 'Memory limit of the DuckDB instance used for writing and querying (the archive worker thread\'s instance has the same limit of its own); at least 16MB or 1%'),
  ARCHIVE_QUERY_CACHE_ENABLED: v(bool, 'true', 'Cache cold query results, keyed by the manifest version'),
  ARCHIVE_QUERY_CACHE_TTL: v(wholeNumber(0, 86_400 * 365), '300', 'Seconds a cached cold result lives'),
  ARCHIVE_WEBHOOK_URL: v(httpUrl, '', 'POST a JSON summary of every archive run (ok, failed or aborted) to this http(s) URL at its end; empty: off'),
  ARCHIVE_WEBHOOK_SECRET: v(text, '', 'Sign each webhook body: header X-Tierdb-Signature: sha256=<hex HMAC-SHA256 of the body with this secret>; empty: unsigned'),
  ARCHIVE_WEBHOOK_TIMEOUT_MS: v(wholeNumber(100, 300_000), '5000', 'Milliseconds one webhook attempt may take before it is abandoned'),
  ARCHIVE_WEBHOOK_RETRIES: v(wholeNumber(0, 10), '2', 'Webhook attempts after the first (on a network error, a timeout, 408, 429 or 5xx), 0.5 s, 1 s, 2 s... apart'),
  TIERDB_METRICS_PORT: v(wholeNumber(0, 65535), '', '`tierdb serve` serves /healthz and Prometheus /metrics on 127.0.0.1 at this port; empty: off; 0: any free port (logged)'),
  TIERDB_HEALTH_MAX_AGE_HOURS: v(wholeNumber(1, 24 * 366), '26', '/healthz answers 503 when the newest run ended longer ago than this (or, with none yet, serve started longer ago)'),
  TIERDB_SQLITE_SCAN: v(z.enum(['off', 'isolated'], 'off or isolated'), 'off', 'Let DuckDB read SQLite itself (isolated processes only; needs the sqlite extension)'),
  TIERDB_HOT_SQL: v(z.enum(['sqlite', 'duckdb'], 'sqlite or duckdb'), 'sqlite', 'Where bridge.sql runs a statement that needs no cold file: sqlite runs the statements DuckDB and SQLite answer alike on SQLite itself (no copy of the hot rows); duckdb copies the hot rows into DuckDB for every statement'),
  TIERDB_RETIRED_GRACE_SECONDS: v(wholeNumber(1, 86_400 * 30), '600', 'Seconds a cold file retired by compaction, retention or restore stays readable (queries that listed it finish) before it is unlinked'),
  TIERDB_ERASE_GRACE_SECONDS: v(wholeNumber(0, 3600), '30', 'Seconds the cold files an erase replaced stay readable (queries that listed them finish) before the erase unlinks them: the longest a query may run across an erase'),
  COMPACT_ENABLED: v(bool, 'true', '`tierdb serve` compacts (and applies retention) after each archive run when true'),
  COMPACT_TARGET_SIZE: v(byteSize(1024), '128MB', 'Size compaction merges small cold files up to (files below half of it are small)'),
  COMPACT_MIN_FILES: v(wholeNumber(2, 1_000_000), '8', 'Small files a table needs before compaction merges them'),
  TIERDB_COLD_URL: v(coldUrl, '', 'Where the cold tree lives: s3://bucket/prefix on S3-compatible object storage (default: the local folder <TIERDB_DATA_DIR>/cold)'),
  TIERDB_COLD_CACHE_DIR: v(text, '', 'Object storage only: the local read-through cache of cold files that queries read (default: <TIERDB_DATA_DIR>/cold-cache)'),
  TIERDB_COLD_CACHE_BYTES: v(byteSize(1), '10GB', 'Object storage only: the size the cache is kept under, least recently used files evicted first (files a query is reading stay until it ends)'),
  TIERDB_S3_FORCE_PATH_STYLE: v(bool, 'false', 'Object storage only: address the bucket as <endpoint>/<bucket> (MinIO, Ceph and most self-hosted servers) instead of <bucket>.<endpoint>'),
  TIERDB_COLD_ORPHAN_AGE_SECONDS: v(wholeNumber(0, 86_400 * 365), '3600', 'Object storage only: an object a crashed run left unlisted is deleted by recovery once this old (a slower upload may still be under way)'),
  ICEBERG_PUBLISH: v(bool, 'false', 'Publish every registered table\'s cold tier as an Apache Iceberg v2 table after each archive, compaction, retention, restore and erase run (`tierdb publish iceberg` does it on demand)'),
  ICEBERG_KEEP_SNAPSHOTS: v(wholeNumber(1, 100_000), '5', 'Iceberg snapshots always kept per table (the newest ones), however old'),
  ICEBERG_SNAPSHOT_DAYS: v(nonNegativeNumber, '1', 'Days an Iceberg snapshot is kept for time travel before it expires (beyond ICEBERG_KEEP_SNAPSHOTS); a retired cold file stays on disk while a kept snapshot lists it'),
  ICEBERG_LOCATION: v(icebergLocation, '', 'The URL readers reach the cold tree at, written into the Iceberg metadata (default: file://<cold folder>, or TIERDB_COLD_URL); e.g. s3a://bucket/prefix for Spark, https://host/cold'),
  LOG_LEVEL: v(
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'one of fatal, error, warn, info, debug, trace, silent'),
    'info',
    'pino log level',
  ),
} as const;

export type EnvName = keyof typeof ENV_VARS;
/** Each variable's parsed type; one without a default (`''`) may be undefined. */
type Parsed = { -readonly [K in EnvName]: (typeof ENV_VARS)[K] extends EnvVar<infer T, infer D> ? (D extends '' ? T | undefined : T) : never };

/** The frozen, typed configuration of one store. */
export interface TierConfig {
  readonly dataDir: string;
  readonly hotPath: string;
  readonly coldDir: string;
  /** The registry module named by TIERDB_REGISTRY / --registry; undefined: look in the working folder (see findRegistryModule). */
  readonly registryPath: string | undefined;
  readonly autoArchiveEnabled: boolean;
  /**
   * Every `HOT_DAYS_<NAME>` variable given, by variable name. A registered table
   * whose upper-cased name (other characters → `_`) is `<NAME>` takes its hot days from it.
   * (The demo preset reads HOT_DAYS_TASK / _MESSAGES / _LOG / _SIGN from here: wechatHotDays.)
   */
  readonly tableHotDays: Readonly<Record<string, number>>;
  /** Every `COLD_DAYS_<NAME>` variable given, by variable name (a registered table's retention, see coldDaysVariable). */
  readonly tableColdDays: Readonly<Record<string, number>>;
  readonly archiveBatchSize: number;
  /** ARCHIVE_LOCK_TARGET_MS: the write-lock time one drain (or vacuum) transaction aims at. */
  readonly archiveLockTargetMs: number;
  readonly archiveMaxWorkers: number;
  /** Rows to move from which a table's chunks are read and written on a worker thread (ARCHIVE_THREAD_MIN_ROWS). */
  readonly archiveThreadMinRows: number;
  readonly archiveZstdLevel: number;
  readonly archiveCron: string;
  readonly archiveGraceHours: number;
  readonly archiveBackupEnabled: boolean;
  readonly archiveBackupKeep: number;
  readonly duckdbMemoryLimit: string;
  readonly queryCacheEnabled: boolean;
  readonly queryCacheTtlSeconds: number;
  /** ARCHIVE_WEBHOOK_URL: where run summaries are POSTed; undefined: no webhook. */
  readonly webhookUrl: string | undefined;
  /** ARCHIVE_WEBHOOK_SECRET: the HMAC key of `X-Tierdb-Signature`; undefined: unsigned. */
  readonly webhookSecret: string | undefined;
  readonly webhookTimeoutMs: number;
  readonly webhookRetries: number;
  /** TIERDB_METRICS_PORT: `tierdb serve`'s /healthz and /metrics on 127.0.0.1; undefined: off, 0: any free port. */
  readonly metricsPort: number | undefined;
  readonly healthMaxAgeHours: number;
  readonly sqliteScan: 'off' | 'isolated';
  /** Where bridge.sql runs a statement that needs no cold file (TIERDB_HOT_SQL). */
  readonly hotSql: 'sqlite' | 'duckdb';
  /** How long a retired cold file stays on disk (ms). */
  readonly retiredGraceMs: number;
  /** TIERDB_ERASE_GRACE_SECONDS in ms: how long an erase leaves the replaced files readable before unlinking them. */
  readonly eraseGraceMs: number;
  readonly compactEnabled: boolean;
  readonly compactTargetBytes: number;
  readonly compactMinFiles: number;
  readonly logLevel: string;
  /** ICEBERG_PUBLISH: publish every table as Iceberg after each run that changes the cold tier. */
  readonly icebergPublish: boolean;
  /** ICEBERG_KEEP_SNAPSHOTS: the newest snapshots per table always kept. */
  readonly icebergKeepSnapshots: number;
  /** ICEBERG_SNAPSHOT_DAYS in ms: older snapshots beyond the kept count expire. */
  readonly icebergSnapshotMaxAgeMs: number;
  /** ICEBERG_LOCATION: the URL of the cold tree's root in Iceberg metadata; undefined: derived from the cold store. */
  readonly icebergLocation: string | undefined;
  /** The cold tree on object storage (TIERDB_COLD_URL), or undefined for the local folder `coldDir`. */
  readonly coldUrl: ColdUrl | undefined;
  /** The object store's client settings (AWS_* variables, read by tierdb so an `env` option works too). */
  readonly s3: S3Settings;
  /** The read-through cache of cold objects (object storage only). */
  readonly coldCacheDir: string;
  readonly coldCacheBytes: number;
  /** How old an unlisted leftover object must be before recovery deletes it (object storage only). */
  readonly coldOrphanAgeMs: number;
  /** Folder for files staged before upload (object storage only). */
  readonly coldStagingDir: string;
}

/**
 * The S3 client's settings. Credentials are the SDK's default chain (env, shared
 * files, SSO, container or instance roles); when the env tierdb reads has
 * AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY they are used (kept out of
 * JSON.stringify and logs).
 */
export interface S3Settings {
  /** AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL; undefined: AWS's own endpoint for the region. */
  readonly endpoint: string | undefined;
  /** AWS_REGION (or AWS_DEFAULT_REGION); undefined: the SDK's chain (shared config file). */
  readonly region: string | undefined;
  readonly forcePathStyle: boolean;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
}

/** The AWS variables tierdb reads itself (the rest of the SDK's chain reads the process environment). */
function s3Settings(env: Record<string, string | undefined>, forcePathStyle: boolean, problems: string[]): S3Settings {
  const given = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const endpointVar = given('AWS_ENDPOINT_URL_S3') !== undefined ? 'AWS_ENDPOINT_URL_S3' : 'AWS_ENDPOINT_URL';
  const endpoint = given(endpointVar);
  if (endpoint !== undefined) {
    let ok = false;
    try {
      const u = new URL(endpoint);
      ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
    } catch {
      ok = false;
    }
    if (!ok) problems.push(`${endpointVar}=${JSON.stringify(endpoint)} is invalid: expected an http:// or https:// URL such as https://s3.eu-central-1.amazonaws.com or http://127.0.0.1:9000`);
  }
  const region = given('AWS_REGION') ?? given('AWS_DEFAULT_REGION');
  if (region !== undefined && !/^[a-z0-9-]{1,64}$/i.test(region)) problems.push(`AWS_REGION=${JSON.stringify(region)} is invalid: expected a region name such as us-east-1 or auto`);
  const settings: S3Settings = { endpoint, region, forcePathStyle };
  const accessKeyId = given('AWS_ACCESS_KEY_ID');
  const secretAccessKey = given('AWS_SECRET_ACCESS_KEY');
  if (accessKeyId !== undefined && secretAccessKey !== undefined) {
    const sessionToken = given('AWS_SESSION_TOKEN');
    Object.defineProperty(settings, 'credentials', { value: Object.freeze({ accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) }), enumerable: false });
  }
  return Object.freeze(settings);
}

export interface LoadConfigOptions {
  /** The environment to read (default: process.env merged over `.env` in the cwd). */
  env?: Record<string, string | undefined>;
  /** Read `.env` from this folder when present (default: process.cwd(); false: do not). */
  envFile?: string | false;
  dataDir?: string;
  hotPath?: string;
}

/**
 * Reads `.env` (when present) under the real environment: real variables win.
 * `TIERDB_DOTENV=off` in the real environment skips `.env` (tests, containers).
 */
export function readEnv(envFile: string | false = process.cwd()): Record<string, string | undefined> {
  if (envFile === false || ['off', 'false', '0', 'no'].includes((process.env.TIERDB_DOTENV ?? '').trim().toLowerCase())) return { ...process.env };
  const file = path.join(envFile, '.env');
  const fromFile = existsSync(file) ? dotenv.parse(readFileSync(file)) : {};
  return { ...fromFile, ...process.env };
}

/**
 * Parses env + options once into a frozen config. A bad value throws a
 * ConfigError naming the variable, the value and what was expected.
 *
 * @example
 * const config = loadConfig({ env: { HOT_DAYS_TASK: '14' }, envFile: false });
 */
export function loadConfig(options: LoadConfigOptions = {}): TierConfig {
  const env = options.env ?? readEnv(options.envFile);
  const parsed = {} as Record<string, unknown>;
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(ENV_VARS) as [EnvName, EnvVar<unknown>][]) {
    const raw = env[name];
    const given = raw !== undefined && raw.trim() !== '';
    if (!given && spec.default === '') {
      parsed[name] = undefined;
      continue;
    }
    const value = given ? raw : spec.default;
    const result = spec.schema.safeParse(value);
    if (result.success) parsed[name] = result.data;
    else problems.push(`${name}=${JSON.stringify(value)} is invalid: expected ${result.error.issues[0]?.message ?? 'a valid value'}`);
  }
  const tableHotDays: Record<string, number> = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!/^HOT_DAYS_[A-Z0-9_]+$/.test(name) || raw === undefined || raw.trim() === '') continue;
    const result = HOT_DAYS_VALUE.safeParse(raw);
    if (result.success) tableHotDays[name] = result.data;
    else if (!(name in ENV_VARS)) problems.push(`${name}=${JSON.stringify(raw)} is invalid: expected ${result.error.issues[0]?.message ?? 'a valid value'}`);
  }
  const tableColdDays: Record<string, number> = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!/^COLD_DAYS_[A-Z0-9_]+$/.test(name) || raw === undefined || raw.trim() === '') continue;
    const result = COLD_DAYS_VALUE.safeParse(raw);
    if (result.success) tableColdDays[name] = result.data;
    else problems.push(`${name}=${JSON.stringify(raw)} is invalid: expected ${result.error.issues[0]?.message ?? 'a valid value'}`);
  }
  const p = parsed as Parsed;
  const s3 = p.TIERDB_COLD_URL === undefined ? s3Settings({}, false, problems) : s3Settings(env, p.TIERDB_S3_FORCE_PATH_STYLE ?? false, problems);
  if (problems.length > 0) throw new ConfigError(`bad configuration: ${problems.join('; ')}`);
  const dataDir = path.resolve(options.dataDir ?? p.TIERDB_DATA_DIR);
  const hotPath = path.resolve(options.hotPath ?? (p.TIERDB_HOT_PATH || path.join(dataDir, 'hot.db')));
  return Object.freeze({
    dataDir,
    hotPath,
    coldDir: path.join(dataDir, 'cold'),
    registryPath: p.TIERDB_REGISTRY ? path.resolve(p.TIERDB_REGISTRY) : undefined,
    autoArchiveEnabled: p.AUTO_ARCHIVE_ENABLED,
    tableHotDays: Object.freeze(tableHotDays),
    tableColdDays: Object.freeze(tableColdDays),
    archiveBatchSize: p.ARCHIVE_BATCH_SIZE,
    archiveLockTargetMs: p.ARCHIVE_LOCK_TARGET_MS,
    archiveMaxWorkers: p.ARCHIVE_MAX_WORKERS,
    archiveThreadMinRows: p.ARCHIVE_THREAD_MIN_ROWS,
    archiveZstdLevel: p.ARCHIVE_ZSTD_LEVEL,
    archiveCron: p.ARCHIVE_CRON,
    archiveGraceHours: p.ARCHIVE_GRACE_HOURS,
    archiveBackupEnabled: p.ARCHIVE_BACKUP_ENABLED,
    archiveBackupKeep: p.ARCHIVE_BACKUP_KEEP,
    duckdbMemoryLimit: p.DUCKDB_MEMORY_LIMIT,
    queryCacheEnabled: p.ARCHIVE_QUERY_CACHE_ENABLED,
    queryCacheTtlSeconds: p.ARCHIVE_QUERY_CACHE_TTL,
    webhookUrl: p.ARCHIVE_WEBHOOK_URL,
    webhookSecret: p.ARCHIVE_WEBHOOK_SECRET,
    webhookTimeoutMs: p.ARCHIVE_WEBHOOK_TIMEOUT_MS,
    webhookRetries: p.ARCHIVE_WEBHOOK_RETRIES,
    metricsPort: p.TIERDB_METRICS_PORT,
    healthMaxAgeHours: p.TIERDB_HEALTH_MAX_AGE_HOURS,
    sqliteScan: p.TIERDB_SQLITE_SCAN,
    hotSql: p.TIERDB_HOT_SQL,
    retiredGraceMs: p.TIERDB_RETIRED_GRACE_SECONDS * 1000,
    eraseGraceMs: p.TIERDB_ERASE_GRACE_SECONDS * 1000,
    compactEnabled: p.COMPACT_ENABLED,
    compactTargetBytes: p.COMPACT_TARGET_SIZE,
    compactMinFiles: p.COMPACT_MIN_FILES,
    logLevel: p.LOG_LEVEL,
    icebergPublish: p.ICEBERG_PUBLISH,
    icebergKeepSnapshots: p.ICEBERG_KEEP_SNAPSHOTS,
    icebergSnapshotMaxAgeMs: Math.round(p.ICEBERG_SNAPSHOT_DAYS * 86_400_000),
    icebergLocation: p.ICEBERG_LOCATION,
    coldUrl: p.TIERDB_COLD_URL,
    s3,
    coldCacheDir: path.resolve(p.TIERDB_COLD_CACHE_DIR || path.join(dataDir, 'cold-cache')),
    coldCacheBytes: p.TIERDB_COLD_CACHE_BYTES,
    coldOrphanAgeMs: p.TIERDB_COLD_ORPHAN_AGE_SECONDS * 1000,
    coldStagingDir: path.join(dataDir, 'cold-staging'),
  });
}
