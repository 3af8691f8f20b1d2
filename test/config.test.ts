import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import dotenv from 'dotenv';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ENV_VARS, loadConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';
import { wechatHotDays } from '../src/presets/wechat/wechatHotDays.js';
import { cliEnv, REPO_ROOT, tempDir } from './helpers.js';

/** loadConfig on exactly these variables, no `.env`, no process env. */
const configFrom = (env: Record<string, string>) => loadConfig({ env, envFile: false });

function configError(env: Record<string, string>): ConfigError {
  try {
    configFrom(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('.env.example', () => {
  const example = readFileSync(path.join(REPO_ROOT, '.env.example'), 'utf8');
  const parsed = dotenv.parse(example);

  it('lists exactly the variables of ENV_VARS', () => {
    expect(Object.keys(parsed).sort()).toEqual(Object.keys(ENV_VARS).sort());
  });

  it('gives each variable its default', () => {
    for (const [name, spec] of Object.entries(ENV_VARS)) expect({ name, value: parsed[name] }).toEqual({ name, value: spec.default });
  });

  it('documents each variable with a comment above it', () => {
    const lines = example.split('\n');
    for (const name of Object.keys(ENV_VARS)) {
      const at = lines.findIndex((l) => l.startsWith(`${name}=`));
      expect(lines[at - 1], name).toMatch(/^# \S/);
    }
  });

  it('loads as a valid configuration', () => {
    expect(() => configFrom(parsed)).not.toThrow();
  });
});

describe('loadConfig', () => {
  it.each([
    ['HOT_DAYS_TASK', 'abc'],
    ['HOT_DAYS_TASK', '-1'],
    ['HOT_DAYS_TASK', '1.5'],
    ['DUCKDB_MEMORY_LIMIT', 'lots'],
    ['ARCHIVE_CRON', 'every night'],
    ['ARCHIVE_CRON', '61 3 * * *'],
    ['AUTO_ARCHIVE_ENABLED', 'maybe'],
    ['ARCHIVE_QUERY_CACHE_ENABLED', '2'],
    ['TIERDB_SQLITE_SCAN', 'always'],
    ['ARCHIVE_BATCH_SIZE', '0'],
    ['ARCHIVE_ZSTD_LEVEL', '23'],
    ['ARCHIVE_GRACE_HOURS', '-2'],
    ['LOG_LEVEL', 'loud'],
    ['ARCHIVE_WEBHOOK_URL', 'ftp://x'],
    ['ARCHIVE_WEBHOOK_URL', 'not-a-url'],
    ['ARCHIVE_WEBHOOK_URL', 'https://user:pass@hooks.example.com/x'],
    ['ARCHIVE_WEBHOOK_TIMEOUT_MS', '0'],
    ['ARCHIVE_WEBHOOK_RETRIES', '-1'],
    ['TIERDB_METRICS_PORT', 'abc'],
    ['TIERDB_METRICS_PORT', '70000'],
    ['TIERDB_METRICS_PORT', '-1'],
    ['TIERDB_HEALTH_MAX_AGE_HOURS', '0'],
    ['TIERDB_COLD_URL', 'bucket/prefix'],
    ['TIERDB_COLD_URL', 's3://'],
    ['TIERDB_COLD_URL', 's3://Upper_Case/x'],
    ['TIERDB_COLD_URL', 's3://ab'],
    ['TIERDB_COLD_URL', 's3://bucket/../x'],
    ['TIERDB_COLD_URL', 'gs://bucket/x'],
    ['TIERDB_COLD_CACHE_BYTES', '0'],
    ['TIERDB_COLD_CACHE_BYTES', 'big'],
    ['TIERDB_S3_FORCE_PATH_STYLE', 'maybe'],
    ['TIERDB_COLD_ORPHAN_AGE_SECONDS', '-1'],
  ])('stops on %s=%s with a ConfigError naming the variable and the value', (name, value) => {
    const error = configError({ [name]: value });
    expect(error.code).toBe('TIERDB_CONFIG');
    expect(error.message).toContain(name);
    expect(error.message).toContain(JSON.stringify(value));
  });

  it('reads TIERDB_COLD_URL as a bucket and a key prefix, and the AWS settings only with it', () => {
    expect(configFrom({ TIERDB_COLD_URL: 's3://my-bucket' }).coldUrl).toEqual({ url: 's3://my-bucket', bucket: 'my-bucket', prefix: '' });
    expect(configFrom({ TIERDB_COLD_URL: 's3://my.bucket/history//app/' }).coldUrl).toEqual({ url: 's3://my.bucket/history/app', bucket: 'my.bucket', prefix: 'history/app/' });
    const config = configFrom({
      TIERDB_COLD_URL: 's3://b1b/p',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9000',
      AWS_REGION: 'auto',
      TIERDB_S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'not-in-logs',
      TIERDB_COLD_CACHE_BYTES: '64MiB',
    });
    expect(config.s3).toEqual({ endpoint: 'http://127.0.0.1:9000', region: 'auto', forcePathStyle: true });
    expect(config.s3.credentials).toEqual({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-in-logs' });
    expect(JSON.stringify(config)).not.toContain('not-in-logs');
    expect(config.coldCacheBytes).toBe(64 * 2 ** 20);
    expect(configFrom({ TIERDB_COLD_URL: 's3://b1b', AWS_ENDPOINT_URL: 'http://a:1', AWS_ENDPOINT_URL_S3: 'http://b:2' }).s3.endpoint).toBe('http://b:2');
    // Without an S3 cold tree the AWS variables are not read (nor refused).
    expect(configFrom({ AWS_ENDPOINT_URL: 'not a url' }).s3.endpoint).toBeUndefined();
    const bad = configError({ TIERDB_COLD_URL: 's3://b1b', AWS_ENDPOINT_URL: 'not a url' });
    expect(bad.message).toContain('AWS_ENDPOINT_URL="not a url"');
  });

  it('names every bad variable at once', () => {
    const error = configError({ HOT_DAYS_TASK: 'abc', TIERDB_SQLITE_SCAN: 'always' });
    expect(error.message).toContain('HOT_DAYS_TASK');
    expect(error.message).toContain('TIERDB_SQLITE_SCAN');
  });

  it('returns a frozen config', () => {
    const config = configFrom({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.tableHotDays)).toBe(true);
    expect(() => {
      (config as { archiveBatchSize: number }).archiveBatchSize = 1;
    }).toThrow(TypeError);
    expect(() => {
      (wechatHotDays(config) as { task: number }).task = 1;
    }).toThrow(TypeError);
  });

  it('has the documented defaults', () => {
    const config = configFrom({});
    expect(config).toEqual({
      dataDir: path.resolve('data'),
      hotPath: path.resolve('data', 'hot.db'),
      coldDir: path.resolve('data', 'cold'),
      registryPath: undefined,
      autoArchiveEnabled: true,
      archiveBatchSize: 20_000,
      archiveLockTargetMs: 4,
      archiveMaxWorkers: 2,
      archiveThreadMinRows: 50000,
      archiveZstdLevel: 6,
      archiveCron: '30 3 * * *',
      archiveGraceHours: 0,
      archiveBackupEnabled: false,
      archiveBackupKeep: 3,
      duckdbMemoryLimit: '1GB',
      queryCacheEnabled: true,
      queryCacheTtlSeconds: 300,
      webhookUrl: undefined,
      webhookSecret: undefined,
      webhookTimeoutMs: 5000,
      webhookRetries: 2,
      metricsPort: undefined,
      healthMaxAgeHours: 26,
      sqliteScan: 'off',
      hotSql: 'sqlite',
      tableHotDays: {},
      tableColdDays: {},
      retiredGraceMs: 600_000,
      eraseGraceMs: 30_000,
      compactEnabled: true,
      compactTargetBytes: 128_000_000,
      compactMinFiles: 8,
      logLevel: 'info',
      icebergPublish: false,
      icebergKeepSnapshots: 5,
      icebergSnapshotMaxAgeMs: 86_400_000,
      icebergLocation: undefined,
      coldUrl: undefined,
      s3: { endpoint: undefined, region: undefined, forcePathStyle: false },
      coldCacheDir: path.resolve('data', 'cold-cache'),
      coldCacheBytes: 10_000_000_000,
      coldOrphanAgeMs: 3_600_000,
      coldStagingDir: path.resolve('data', 'cold-staging'),
    });
    expect(wechatHotDays(config)).toEqual({ task: 7, log: 30, sign: 60, messages: 7 });
  });

  it('parses good values', () => {
    const config = configFrom({
      HOT_DAYS_TASK: ' 14 ',
      AUTO_ARCHIVE_ENABLED: 'off',
      ARCHIVE_BACKUP_ENABLED: 'YES',
      DUCKDB_MEMORY_LIMIT: '1.5GiB',
      ARCHIVE_GRACE_HOURS: '2.5',
      TIERDB_SQLITE_SCAN: 'isolated',
    });
    expect(wechatHotDays(config).task).toBe(14);
    expect(config.autoArchiveEnabled).toBe(false);
    expect(config.archiveBackupEnabled).toBe(true);
    expect(config.duckdbMemoryLimit).toBe('1.5GiB');
    expect(config.archiveGraceHours).toBe(2.5);
    expect(config.sqliteScan).toBe('isolated');
  });

  it('parses the ICEBERG_* settings and names a bad one', () => {
    const config = configFrom({ ICEBERG_PUBLISH: 'on', ICEBERG_KEEP_SNAPSHOTS: '3', ICEBERG_SNAPSHOT_DAYS: '0.5', ICEBERG_LOCATION: 's3a://history/app/' });
    expect([config.icebergPublish, config.icebergKeepSnapshots, config.icebergSnapshotMaxAgeMs, config.icebergLocation]).toEqual([true, 3, 43_200_000, 's3a://history/app']);
    expect(configFrom({ ICEBERG_LOCATION: 'file:///srv/cold' }).icebergLocation).toBe('file:///srv/cold');
    expect(() => configFrom({ ICEBERG_KEEP_SNAPSHOTS: '0' })).toThrow(/ICEBERG_KEEP_SNAPSHOTS="0" is invalid: expected a whole number from 1/);
    expect(() => configFrom({ ICEBERG_LOCATION: 'relative/path' })).toThrow(/ICEBERG_LOCATION="relative\/path" is invalid: expected an absolute URL/);
  });

  it('puts the hot file in the data folder unless TIERDB_HOT_PATH or an option says otherwise', () => {
    expect(configFrom({ TIERDB_DATA_DIR: '/srv/tier' }).hotPath).toBe(path.resolve('/srv/tier/hot.db'));
    expect(configFrom({ TIERDB_DATA_DIR: '/srv/tier', TIERDB_HOT_PATH: '/srv/app/forward.db' }).hotPath).toBe(path.resolve('/srv/app/forward.db'));
    const fromOptions = loadConfig({ env: {}, envFile: false, dataDir: '/opt/d', hotPath: '/opt/h.db' });
    expect([fromOptions.dataDir, fromOptions.hotPath, fromOptions.coldDir]).toEqual([path.resolve('/opt/d'), path.resolve('/opt/h.db'), path.resolve('/opt/d/cold')]);
  });

  it('reads .env from the given folder, with the real environment winning', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, '.env'), 'HOT_DAYS_TASK=14\nARCHIVE_BATCH_SIZE=500\n');
    vi.stubEnv('HOT_DAYS_TASK', undefined);
    vi.stubEnv('ARCHIVE_BATCH_SIZE', undefined);
    const fromFile = loadConfig({ envFile: dir });
    expect(wechatHotDays(fromFile).task).toBe(14);
    expect(fromFile.archiveBatchSize).toBe(500);

    vi.stubEnv('HOT_DAYS_TASK', '21');
    const realWins = loadConfig({ envFile: dir });
    expect(wechatHotDays(realWins).task).toBe(21);
    expect(realWins.archiveBatchSize).toBe(500);
  });

  it('ignores .env when envFile is false', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, '.env'), 'HOT_DAYS_TASK=14\n');
    vi.stubEnv('HOT_DAYS_TASK', undefined);
    expect(wechatHotDays(loadConfig({ envFile: false })).task).toBe(7);
  });
});

describe('notification and health variables', () => {
  it('parse a webhook URL, its secret, the metrics port (0 = any free port), and leave both off when empty', () => {
    const config = configFrom({
      ARCHIVE_WEBHOOK_URL: ' https://hooks.example.com/tierdb?team=ops ',
      ARCHIVE_WEBHOOK_SECRET: 's3cret',
      ARCHIVE_WEBHOOK_TIMEOUT_MS: '1500',
      ARCHIVE_WEBHOOK_RETRIES: '0',
      TIERDB_METRICS_PORT: '9464',
      TIERDB_HEALTH_MAX_AGE_HOURS: '170',
    });
    expect(config).toMatchObject({
      webhookUrl: 'https://hooks.example.com/tierdb?team=ops',
      webhookSecret: 's3cret',
      webhookTimeoutMs: 1500,
      webhookRetries: 0,
      metricsPort: 9464,
      healthMaxAgeHours: 170,
    });
    expect(configFrom({ ARCHIVE_WEBHOOK_URL: 'http://127.0.0.1:8080/hook' }).webhookUrl).toBe('http://127.0.0.1:8080/hook');
    expect(configFrom({ TIERDB_METRICS_PORT: '0' }).metricsPort).toBe(0);
    expect(configFrom({ ARCHIVE_WEBHOOK_URL: '', TIERDB_METRICS_PORT: ' ' })).toMatchObject({ webhookUrl: undefined, metricsPort: undefined });
  });

  it('a bad value says what was expected', () => {
    expect(configError({ ARCHIVE_WEBHOOK_URL: 'ftp://x' }).message).toContain('ARCHIVE_WEBHOOK_URL="ftp://x" is invalid: expected an http:// or https:// URL');
    expect(configError({ TIERDB_METRICS_PORT: '70000' }).message).toContain('TIERDB_METRICS_PORT="70000" is invalid: expected a whole number from 0 to 65535');
  });

  it('the CLI stops on them before opening anything, naming the variable', async () => {
    const { runCli } = await import('./archiveFixtures.js');
    const dataDir = tempDir();
    for (const [name, value] of [
      ['ARCHIVE_WEBHOOK_URL', 'not-a-url'],
      ['TIERDB_METRICS_PORT', 'abc'],
    ] as const) {
      const result = await runCli(['--data-dir', dataDir, 'serve'], { [name]: value });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`${name}=${JSON.stringify(value)} is invalid`);
    }
    expect(existsSync(path.join(dataDir, 'hot.db'))).toBe(false);
  });
});

describe('the CLI', () => {
  it('exits non-zero and names the variable when the environment is bad', () => {
    const dataDir = tempDir();
    const result = spawnSync(process.execPath, ['bin/tierdb.mjs', '--data-dir', dataDir, 'migrate'], {
      cwd: REPO_ROOT,
      env: cliEnv({ HOT_DAYS_TASK: 'abc', LOG_LEVEL: 'silent' }),
      encoding: 'utf8',
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('HOT_DAYS_TASK');
    expect(result.stderr).toContain('"abc"');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('HOT_DAYS_<TABLE> for any registered table', () => {
  it('overrides that entry, says where it came from, and names a bad value', async () => {
    const { materializeRegistry, defineRegistry } = await import('../src/registry/defineRegistry.js');
    const load = loadConfig;
    const registry = defineRegistry([{ table: 'events', timeColumn: 'at', timeUnit: 'iso', hotDays: 5 }]);
    const config = load({ env: { HOT_DAYS_EVENTS: '12', HOT_DAYS_OTHER: '3' }, envFile: false });
    const [events] = materializeRegistry(registry, config);
    expect(events).toMatchObject({ table: 'events', hotDays: 12, hotDaysFrom: 'HOT_DAYS_EVENTS' });
    const [plain] = materializeRegistry(registry, load({ env: {}, envFile: false }));
    expect(plain).toMatchObject({ hotDays: 5, hotDaysFrom: 'registry' });
    expect(() => load({ env: { HOT_DAYS_EVENTS: 'soon' }, envFile: false })).toThrow(/HOT_DAYS_EVENTS="soon" is invalid/);
    expect(() => load({ env: { HOT_DAYS_EVENTS: '-1' }, envFile: false })).toThrow(/HOT_DAYS_EVENTS="-1" is invalid/);
  });
});

describe('effective hot_days in stats and archive --dry-run', () => {
  it('shows each table\'s hot_days and where it came from', async () => {
    const { runCli, seedTaskQueue } = await import('./archiveFixtures.js');
    const dir = tempDir();
    await seedTaskQueue(dir, 50, 10, { LOG_LEVEL: 'silent' });
    const env = { HOT_DAYS_TASK_QUEUE: '3', LOG_LEVEL: 'silent' };
    const dry = await runCli(['--data-dir', dir, 'archive', '--dry-run', '--table', 'task_queue', 'messages'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/task_queue: hot_days 3 \(HOT_DAYS_TASK_QUEUE\)/);
    expect(dry.stdout).toMatch(/messages: hot_days 7 \(registry\)/);
    const stats = await runCli(['--data-dir', dir, 'stats'], env);
    expect(stats.stdout).toMatch(/^task_queue .*3 \(HOT_DAYS_TASK_QUEUE\)$/m);
    const bad = await runCli(['--data-dir', dir, 'stats'], { HOT_DAYS_TASK_QUEUE: 'week' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('HOT_DAYS_TASK_QUEUE="week" is invalid');
  });
});
