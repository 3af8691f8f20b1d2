/**
 * What `npm pack` ships must work for a plain Node app: pack the project,
 * install the tarball into an empty project, and use it there as a user would —
 * a plain .mjs that opens a store, writes, archives and queries; a .ts consumer
 * type-checked against the shipped types; the CLI (help, demo, init).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliEnv, REPO_ROOT, tempDir } from './helpers.js';

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(cmd: string, args: string[], cwd: string): string {
  const result = spawnSync(cmd, args, { cwd, env: cliEnv({ LOG_LEVEL: 'silent', npm_config_update_notifier: 'false' }), encoding: 'utf8', timeout: 240_000 });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${result.status}\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

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
const store = await openTierStore({ dataDir, hotPath, registry, migrations: false, env: { LOG_LEVEL: 'silent', TIERDB_DOTENV: 'off' } });
try {
  const ins = store.hot.raw.prepare('INSERT INTO events (ts, body) VALUES (?, ?)');
  store.hot.raw.transaction(() => { for (let i = 0; i < 1000; i++) ins.run(now / 1000 - i * 1800, 'event ' + i); })();
  const report = await store.archiver.run({ now });
  const [row] = await store.bridge.sql('SELECT count(*) AS n, count(DISTINCT id) AS d FROM events');
  const oldest = await store.bridge.query('events', { orderBy: [{ ts: 'asc' }], limit: 1 });
  const tables = store.hot.raw.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all();
  console.log(JSON.stringify({ moved: report.tables[0].rowsMoved, n: Number(row.n), d: Number(row.d), oldest: oldest[0].body, tables }));
} finally {
  await store.close();
}
`;

const CONSUMER = `
import { openTierStore, defineRegistry, type ArchiveReport, type Row, type TierStore } from 'tierdb';

const registry = defineRegistry([{ table: 'events', timeColumn: 'ts', timeUnit: 'unix_ms', hotDays: 3 }]);
export async function main(): Promise<number> {
  const store: TierStore = await openTierStore({ dataDir: 'data', registry, migrations: false });
  try {
    const report: ArchiveReport = await store.archiver.run({ dryRun: true });
    const rows: Row[] = await store.bridge.query('events', { where: { ts: { gte: 0 } }, limit: 5 });
    return report.tables.length + rows.length;
  } finally {
    await store.close();
  }
}
`;

describe('the packed package', () => {
  it('installs into an empty project and works there: library, types, CLI (help, demo, init)', () => {
    const work = tempDir('tierdb-pack-');
    const packed = run(NPM, ['pack', '--pack-destination', work, '--json'], REPO_ROOT);
    const [{ filename, files }] = JSON.parse(packed) as [{ filename: string; files: { path: string }[] }];
    const shipped = files.map((f) => f.path);
    expect(shipped).toContain('dist/index.js');
    expect(shipped).toContain('dist/index.d.ts');
    expect(shipped).toContain('bin/tierdb.mjs');
    expect(shipped.some((p) => p.startsWith('migrations/tierdb/'))).toBe(true);
    expect(shipped.filter((p) => /^(test|bench|data|src)\//.test(p) || /\.(parquet|db|ts)$/.test(p.replace(/\.d\.ts$/, '')))).toEqual([]);

    const project = path.join(work, 'app');
    mkdirSync(project);
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    // --ignore-scripts: better-sqlite3 would compile from source (~2 min, no prebuilt binary reachable here);
    // its already-built addon from this repo is copied in instead. @duckdb/node-api ships its binary in a package.
    run(NPM, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', path.join(work, filename), '@types/node@20'], project);
    cpSync(path.join(REPO_ROOT, 'node_modules/better-sqlite3/build'), path.join(project, 'node_modules/better-sqlite3/build'), { recursive: true });

    writeFileSync(path.join(project, 'app.mjs'), APP);
    const out = JSON.parse(run(process.execPath, ['app.mjs'], project).trim()) as { moved: number; n: number; d: number; oldest: string; tables: string[] };
    expect(out.moved).toBeGreaterThan(500);
    expect([out.n, out.d]).toEqual([1000, 1000]);
    expect(out.oldest).toBe('event 999');
    // Only tierdb's own tables beside the app's: no demo schema in someone else's database.
    expect(out.tables.filter((t) => !t.startsWith('_tierdb_'))).toEqual(['events']);

    writeFileSync(path.join(project, 'consumer.ts'), CONSUMER);
    writeFileSync(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, skipLibCheck: true, types: ['node'] }, files: ['consumer.ts'] }),
    );
    const tsc = path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project, stdio: 'pipe' });
    // The types are real, not `any`: a wrong use fails to compile.
    writeFileSync(path.join(project, 'consumer.ts'), `${CONSUMER}\nexport const wrong: number = (await openTierStore()).config.hotPath;\n`);
    const bad = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project, encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toMatch(/TS2322/);

    const bin = path.join(project, 'node_modules/.bin/tierdb');
    expect(run(bin, ['--help'], project)).toMatch(/Usage: tierdb/);
    const demo = run(bin, ['--data-dir', 'demo-data', 'demo', '--rows', '20000', '--days', '30'], project);
    expect(demo).toMatch(/hot\+cold/);
    const init = run(bin, ['--hot-path', 'data/app.db', '--data-dir', 'data', 'init', '--now', '2026-06-15T00:00:00Z'], project);
    expect(init).toMatch(/events/);
    expect(readdirSync(project)).toContain('tierdb.config.mjs');
    const dry = run(bin, ['--hot-path', 'data/app.db', '--data-dir', 'data', '--no-migrations', 'archive', '--dry-run', '--now', '2026-07-15T00:00:00Z'], project);
    expect(dry).toMatch(/events: hot_days 30 \(registry\), would move \d+ rows/);
  }, 300_000);

  it('passes publint and are-the-types-wrong', () => {
    const out = run(NPM, ['run', '--silent', 'check:package'], REPO_ROOT);
    expect(out).toMatch(/All good/);
    expect(out).not.toMatch(/❌/);
  }, 240_000);
});
