/**
 * What `npm pack` ships must work for a plain Node app: pack the project,
 * install the tarball offline into an empty project, and use it there as a user
 * would — a plain .mjs that opens a store, appends, archives and queries; a .ts
 * consumer type-checked against the shipped types (the object-storage surface
 * too: S3ColdStore, createColdStore, parseColdUrl); the CLI (help, demo, init);
 * and publint + are-the-types-wrong on that same tarball.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, REPO_ROOT } from './helpers.js';

const WIN = process.platform === 'win32';
const NPM = WIN ? 'npm.cmd' : 'npm';
const NPX = WIN ? 'npx.cmd' : 'npx';
const TSC = path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc');
// Every npm call stays off the network: the tarball's dependencies come from the local npm cache.
const ENV = cliEnv({ LOG_LEVEL: 'silent', npm_config_offline: 'true', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' });

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function exec(cmd: string, args: string[], cwd: string): Run {
  const r = spawnSync(cmd, args, { cwd, env: ENV, encoding: 'utf8', timeout: 240_000, shell: WIN && cmd !== process.execPath });
  return { status: r.status, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

function run(cmd: string, args: string[], cwd: string): string {
  const r = exec(cmd, args, cwd);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** A plain Node app: its own table (AUTOINCREMENT key), a registry written in code, no migrations of tierdb's demo. */
const APP = `
import { mkdirSync } from 'node:fs';
import Database from 'better-sqlite3';
import { openTierStore } from 'tierdb';

const dataDir = new URL('./data/', import.meta.url).pathname;
const hotPath = dataDir + 'app.db';
mkdirSync(dataDir, { recursive: true });
const db = new Database(hotPath);
db.exec('CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL, body TEXT); CREATE INDEX events_ts ON events (ts)');
db.close();

const now = Date.UTC(2026, 5, 15);
const registry = [{ table: 'events', timeColumn: 'ts', timeUnit: 'unix_s', hotDays: 7 }];
// ARCHIVE_THREAD_MIN_ROWS=0: the chunks are read and written on the archive worker thread (dist/archive/chunkWorker.js).
const store = await openTierStore({ dataDir, hotPath, registry, migrations: false, env: { LOG_LEVEL: 'silent', TIERDB_DOTENV: 'off', ARCHIVE_THREAD_MIN_ROWS: '0' } });
try {
  // 1000 events, one every 30 minutes back from now (about 21 days), and one row that cannot be stored.
  const rows = Array.from({ length: 1000 }, (_, i) => ({ ts: now / 1000 - i * 1800, body: 'event ' + i }));
  rows.splice(500, 0, { ts: 'not a time', body: 'bad' });
  const appended = await store.hot.append('events', rows);
  const report = await store.archiver.run({ now });
  const [row] = await store.bridge.sql('SELECT count(*) AS n, count(DISTINCT id) AS d, min(id) AS lo, max(id) AS hi FROM events');
  const oldest = await store.bridge.query('events', { orderBy: [{ ts: 'asc' }], limit: 1 });
  const hot = store.hot.raw.prepare('SELECT count(*) FROM events').pluck().get();
  const tables = store.hot.raw.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all();
  console.log(JSON.stringify({
    inserted: appended.inserted, rejected: appended.rejected.map((r) => r.index),
    moved: report.tables[0].rowsMoved, worker: report.tables[0].workerThread === true, hot, n: Number(row.n), d: Number(row.d), lo: Number(row.lo), hi: Number(row.hi),
    oldest: oldest[0].body, tables,
  }));
} finally {
  await store.close();
}
`;

const CONSUMER = `
import { openTierStore, defineRegistry, type AppendResult, type ArchiveReport, type Row, type TierStore } from 'tierdb';
import { S3ColdStore, createColdStore, parseColdUrl, loadConfig, type ColdStore, type ColdStoreConfig, type ColdUrl, type S3ColdStoreOptions, type S3Settings } from 'tierdb';

const registry = defineRegistry([{ table: 'events', timeColumn: 'ts', timeUnit: 'unix_ms', hotDays: 3 }]);
export async function main(): Promise<number> {
  const store: TierStore = await openTierStore({ dataDir: 'data', registry, migrations: false });
  try {
    const appended: AppendResult = await store.hot.append('events', [{ ts: Date.now(), body: 'x' }], { onConflict: 'ignore' });
    const report: ArchiveReport = await store.archiver.run({ dryRun: true });
    const rows: Row[] = await store.bridge.query('events', { where: { ts: { gte: 0 } }, orderBy: [{ ts: 'desc' }], limit: 5 });
    return appended.inserted + report.tables.length + rows.length;
  } finally {
    await store.close();
  }
}

/** The cold tier in a bucket, typed from the public surface alone. */
export async function coldTier(): Promise<string> {
  const url: ColdUrl | undefined = parseColdUrl('s3://history/app');
  if (url === undefined) throw new Error('not an s3:// URL');
  const s3: S3Settings = { endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', forcePathStyle: true };
  const options: S3ColdStoreOptions = { url, s3, stagingDir: 'data/cold-staging', cacheDir: 'data/cold-cache', cacheBytes: 1e9, orphanSafetyAgeMs: 3_600_000 };
  const bucket: S3ColdStore = await S3ColdStore.open(options);
  const config: ColdStoreConfig = loadConfig({ env: { TIERDB_COLD_URL: url.url } });
  const cold: ColdStore = await createColdStore(config);
  try {
    return bucket.describe('events/part-1.parquet') + cold.location + bucket.cacheStats().fetches;
  } finally {
    await cold.close();
    await bucket.close();
  }
}
`;

/**
 * An app that depends on the tarball (and @types/node), with a lockfile made from this repo's:
 * tierdb's production dependencies at the versions the repo pins (entries not marked dev).
 */
function writeAppLockfile(project: string, tarballName: string): void {
  const repoLock = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; version?: string }> };
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  const resolved = `file:../${tarballName}`;
  const dependencies = { tierdb: resolved, '@types/node': repoLock.packages['node_modules/@types/node']!.version! };
  const packages: Record<string, unknown> = {
    '': { name: 'app', dependencies },
    'node_modules/tierdb': { version: pkg.version, resolved, license: pkg.license, dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines },
  };
  for (const [p, entry] of Object.entries(repoLock.packages)) if (p.startsWith('node_modules/') && !entry.dev) packages[p] = entry;
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module', dependencies }, null, 2));
  writeFileSync(path.join(project, 'package-lock.json'), JSON.stringify({ name: 'app', lockfileVersion: 3, requires: true, packages }, null, 2));
}

describe('the packed package', () => {
  let work: string;
  let project: string;
  let tarball: string;
  const bin = (args: string[]): string => run(NPX, ['--no', '--', 'tierdb', ...args], project);

  beforeAll(() => {
    work = mkdtempSync(path.join(tmpdir(), 'tierdb-pack-'));
    // --ignore-scripts: globalSetup built dist/ (scripts/build.mjs) before any test; `prepare` would
    // build it again (20 s) while CLI suites run from dist/ in parallel. CI's `npm ci` runs `prepare`.
    const [packed] = JSON.parse(run(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', work], REPO_ROOT)) as [
      { filename: string; size: number; unpackedSize: number; entryCount: number },
    ];
    tarball = path.join(work, packed.filename);

    project = path.join(work, 'app');
    mkdirSync(project);
    writeAppLockfile(project, packed.filename);
    const started = performance.now();
    // --offline with a lockfile: a fresh machine's npm cache holds only the tarballs `npm ci` fetched,
    // not the registry's package documents a range resolution needs, so the app installs the versions
    // this repo's lockfile pins (what a user resolving today gets too).
    // --ignore-scripts: better-sqlite3 would compile from source (~2 min on this machine: its prebuilt
    // binary is on GitHub, out of reach), so the addon this repo built is copied in instead (same Node,
    // same version from the lockfile). @duckdb/node-api needs no script: its binary comes in a platform package.
    run(NPM, ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], project);
    const installSeconds = (performance.now() - started) / 1000;
    cpSync(path.join(REPO_ROOT, 'node_modules/better-sqlite3/build'), path.join(project, 'node_modules/better-sqlite3/build'), { recursive: true });
    console.log(
      `packaging: ${packed.filename} ${(packed.size / 1024).toFixed(0)} KiB packed, ${(packed.unpackedSize / 1024).toFixed(0)} KiB unpacked, ` +
        `${packed.entryCount} files; npm install --offline into an empty project: ${installSeconds.toFixed(1)} s`,
    );
  }, 180_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('ships dist (.js with .d.ts), migrations, the bin, README and LICENSE; no tests, benches, data or sources', () => {
    const root = path.join(project, 'node_modules/tierdb');
    const files = (function walk(dir: string): string[] {
      return readdirSync(dir).flatMap((name) => {
        const full = path.join(dir, name);
        return statSync(full).isDirectory() ? walk(full) : [path.relative(root, full).split(path.sep).join('/')];
      });
    })(root);
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'bin/tierdb.mjs', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js']));
    expect(files.some((f) => f.startsWith('migrations/tierdb/') && f.endsWith('.sql'))).toBe(true);
    expect(files.filter((f) => /^(test|bench|data|src|scripts)\//.test(f) || /\.(parquet|db|db-wal|db-shm|tgz)$/.test(f) || /(?<!\.d)\.[cm]?ts$/.test(f))).toEqual([]);
    // Every module has its declarations beside it.
    const js = files.filter((f) => f.startsWith('dist/') && f.endsWith('.js'));
    expect(js.filter((f) => !files.includes(f.replace(/\.js$/, '.d.ts')))).toEqual([]);
  });

  it('passes publint --strict and are-the-types-wrong on that tarball (npm run check:package), and the check can fail', () => {
    const out = run(NPM, ['run', '--silent', 'check:package', '--', tarball], REPO_ROOT);
    expect(out).toMatch(/All good/);
    expect(out).toMatch(/"tierdb"\s+node16 \(from ESM\): 🟢 \(ESM\)\s+bundler: 🟢/);

    // A package whose types point nowhere must fail the same check.
    const broken = path.join(work, 'broken');
    mkdirSync(broken);
    writeFileSync(
      path.join(broken, 'package.json'),
      JSON.stringify({ name: 'broken', version: '1.0.0', type: 'module', exports: { '.': { types: './missing.d.ts', import: './index.js' } } }),
    );
    writeFileSync(path.join(broken, 'index.js'), 'export const x = 1;\n');
    const [bad] = JSON.parse(run(NPM, ['pack', '--json', '--pack-destination', work], broken)) as [{ filename: string }];
    expect(exec(NPM, ['run', '--silent', 'check:package', '--', path.join(work, bad.filename)], REPO_ROOT).status).not.toBe(0);
  }, 120_000);

  it('a plain .mjs opens a store over its own table, appends, archives and queries hot and cold', () => {
    writeFileSync(path.join(project, 'app.mjs'), APP);
    const out = JSON.parse(run(process.execPath, ['app.mjs'], project).trim()) as Record<string, unknown>;
    // 1000 rows over ~21 days with hotDays 7: the older two thirds move; the bridge still sees all 1000.
    expect(out).toMatchObject({ inserted: 1000, rejected: [500], n: 1000, d: 1000, lo: 1, hi: 1000, oldest: 'event 999', worker: true });
    expect(out.moved as number).toBeGreaterThan(600);
    expect((out.moved as number) + (out.hot as number)).toBe(1000);
    // Only tierdb's own tables beside the app's: no demo schema in someone else's database.
    expect((out.tables as string[]).filter((t) => !t.startsWith('_tierdb_'))).toEqual(['events']);
  }, 60_000);

  it('exports the object-storage surface: S3ColdStore, createColdStore, parseColdUrl', () => {
    writeFileSync(
      path.join(project, 'exports.mjs'),
      `import * as tierdb from 'tierdb';\n` +
        `const url = tierdb.parseColdUrl('s3://history/app/cold/');\n` +
        `const cold = await tierdb.createColdStore(tierdb.loadConfig({ env: { TIERDB_DOTENV: 'off' }, envFile: false, dataDir: 'exports-data' }));\n` +
        `await cold.close();\n` +
        `console.log(JSON.stringify({ S3ColdStore: typeof tierdb.S3ColdStore, open: typeof tierdb.S3ColdStore?.open, createColdStore: typeof tierdb.createColdStore,\n` +
        `  parseColdUrl: typeof tierdb.parseColdUrl, url, bad: tierdb.parseColdUrl('http://x') ?? null, local: cold.kind, sha: tierdb.SHA256_METADATA }));\n`,
    );
    const out = JSON.parse(run(process.execPath, ['exports.mjs'], project).trim()) as Record<string, unknown>;
    expect(out).toEqual({
      S3ColdStore: 'function',
      open: 'function',
      createColdStore: 'function',
      parseColdUrl: 'function',
      url: { url: 's3://history/app/cold', bucket: 'history', prefix: 'app/cold/' },
      bad: null,
      local: 'local',
      sha: 'sha256',
    });
  });

  it('a .ts consumer type-checks against the shipped types (nodenext), and a wrong use does not', () => {
    // One tsc run (each took ~15 s here): the consumer, a wrong use beside it, and every declaration
    // checked (no skipLibCheck), so tierdb's own .d.ts files are checked too.
    writeFileSync(path.join(project, 'consumer.ts'), CONSUMER);
    writeFileSync(path.join(project, 'wrong.ts'), `import { openTierStore } from 'tierdb';\nexport const wrong: number = (await openTierStore()).config.hotPath;\n`);
    writeFileSync(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, types: ['node'], skipLibCheck: false },
        files: ['consumer.ts', 'wrong.ts'],
      }),
    );
    const run = exec(process.execPath, [TSC, '-p', 'tsconfig.json'], project);
    const errors = run.stdout.split('\n').filter((line) => /error TS\d+/.test(line));
    // The consumer compiles, and tierdb's declarations are clean (drizzle-orm's are not without skipLibCheck: not ours).
    expect(errors.filter((line) => /^(node_modules\/tierdb\/|consumer\.ts)/.test(line))).toEqual([]);
    // The types are real, not `any`: the wrong use fails to compile, and that is the only error of ours.
    expect(errors.filter((line) => line.startsWith('wrong.ts'))).toEqual([expect.stringMatching(/^wrong\.ts.*TS2322/)]);
    expect(run.status).not.toBe(0);
  }, 240_000); // one tsc run: ~15 s alone, past 30 s on a loaded 2-core machine

  it('npx tierdb: --help, demo in an empty folder (its own registry), init on the app database', () => {
    expect(bin(['--help'])).toMatch(/Usage: tierdb/);
    expect(bin(['--version']).trim()).toBe(JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).version);

    const demo = bin(['--data-dir', 'demo-data', 'demo', '--rows', '20000', '--days', '30']);
    expect(demo).toMatch(/demo data: [\d,]+ rows \(20,000 messages over 30 days/);
    expect(demo).toMatch(/hot\+cold/);
    expect(existsSync(path.join(project, 'tierdb.config.mjs'))).toBe(false);

    // init writes tierdb.config.mjs from the app's database (made by the .mjs test, or made here).
    if (!existsSync(path.join(project, 'data/app.db'))) {
      writeFileSync(path.join(project, 'app.mjs'), APP);
      run(process.execPath, ['app.mjs'], project);
    }
    const init = bin(['--hot-path', 'data/app.db', '--data-dir', 'data', 'init', '--now', '2026-06-15T00:00:00Z']);
    expect(init).toMatch(/events/);
    expect(readdirSync(project)).toContain('tierdb.config.mjs');
    // The CLI finds that registry in the working folder by itself.
    const dry = bin(['--hot-path', 'data/app.db', '--data-dir', 'data', '--no-migrations', 'archive', '--dry-run', '--now', '2026-07-15T00:00:00Z']);
    expect(dry).toMatch(/events: hot_days 30 \(registry\), would move \d+ rows/);

    // A TypeScript registry importing tierdb loads without a build step (jiti, a runtime dependency),
    // and tierdb.config.ts comes before tierdb.config.mjs.
    writeFileSync(
      path.join(project, 'tierdb.config.ts'),
      `import { defineRegistry, type RegistryEntryInput } from 'tierdb';\n` +
        `const events: RegistryEntryInput = { table: 'events', timeColumn: 'ts', timeUnit: 'unix_s', hotDays: 10 as number };\n` +
        `export default defineRegistry([events]);\n`,
    );
    const dryTs = bin(['--hot-path', 'data/app.db', '--data-dir', 'data', '--no-migrations', 'archive', '--dry-run', '--now', '2026-07-15T00:00:00Z']);
    expect(dryTs).toMatch(/events: hot_days 10 \(registry\), would move \d+ rows/);

    // An app's registry in the working folder does not change the demo: it still brings its own.
    expect(bin(['--data-dir', 'demo-data', 'demo', '--rows', '2000', '--days', '10'])).toMatch(/demo data: [\d,]+ rows \(2,000 messages over 10 days/);
  }, 120_000);
});
