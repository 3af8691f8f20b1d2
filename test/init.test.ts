import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { FileExistsError, RegistryError } from '../src/errors.js';
import { materializeRegistry } from '../src/registry/defineRegistry.js';
import { guessTimeColumns, scoreValues } from '../src/init/guessTimeColumn.js';
import { inspectDatabase } from '../src/init/inspectDatabase.js';
import { runInit } from '../src/init/runInit.js';
import type { ColumnInfo } from '../src/registry/resolveRegistry.js';
import { openTierStore } from '../src/store/openTierStore.js';
import { REPO_ROOT, tempDir, testConfig } from './helpers.js';
import { INIT_NOW_MS, makeAppDb, olderThan } from './initFixtures.js';

const NOW_ISO = new Date(INIT_NOW_MS).toISOString();

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
const sizeOf = (file: string): number | undefined => (existsSync(file) ? statSync(file).size : undefined);

function tierdbTables(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(`SELECT name FROM sqlite_schema WHERE name LIKE '\\_tierdb\\_%' ESCAPE '\\'`).pluck().all() as string[];
  } finally {
    db.close();
  }
}

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI in a child process, in `cwd`, with a clean environment: no developer `.env`, no TIERDB_* variables. */
function runCliIn(cwd: string, args: string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/tierdb.mjs'), ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: cwd, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const column = (name: string, declaredType = ''): ColumnInfo => ({ name, declaredType, notNull: false, pk: 0 });

describe('guessing time columns', () => {
  it('tells unix seconds, unix ms and ISO apart by their values, and reports ISO offsets', () => {
    const s = [1_700_000_000n, 1_700_000_100n, 1_750_000_000];
    const ms = [1_700_000_000_000n, 1_750_000_000_123n];
    const iso = ['2026-05-01T04:00:00Z', '2026-05-01 04:00:00', '2026-05-01', '2026-05-01T12:00:00+08:00'];
    const [a, b, c] = guessTimeColumns(
      [column('stamp_s'), column('stamp_ms'), column('stamp_iso', 'TEXT')],
      new Map<string, unknown[]>([
        ['stamp_s', s],
        ['stamp_ms', ms],
        ['stamp_iso', iso],
      ]),
    ).sort((x, y) => x.column.localeCompare(y.column));
    expect([a!.column, a!.unit, a!.share]).toEqual(['stamp_iso', 'iso', 0.75]);
    expect([a!.offsets, a!.offsetExample]).toEqual([1, '2026-05-01T12:00:00+08:00']);
    expect([b!.column, b!.unit, b!.share]).toEqual(['stamp_ms', 'unix_ms', 1]);
    expect([c!.column, c!.unit, c!.share]).toEqual(['stamp_s', 'unix_s', 1]);
  });

  it('counts only plausible times (2000–2100) and names a value that is none', () => {
    expect(scoreValues([5n, 946_684_800n, 4_102_444_800n], 'unix_s')).toMatchObject({ matched: 1, misses: 2, missExample: '5' });
    expect(scoreValues(['March 7, 2020', '2026-02-30', 'x'], 'iso')).toMatchObject({ matched: 0, misses: 3 });
  });

  it('prefers a created-like name over a time that changes, and both over an unnamed column of times', () => {
    const values = [1_700_000_000n, 1_700_000_500n];
    const found = guessTimeColumns(
      [column('updated_at', 'INTEGER'), column('n', 'INTEGER'), column('created_at', 'INTEGER'), column('user_id', 'INTEGER')],
      new Map<string, unknown[]>([
        ['updated_at', values],
        ['n', values],
        ['created_at', values],
        ['user_id', [1n, 2n]],
      ]),
    );
    expect(found.map((c) => c.column)).toEqual(['created_at', 'updated_at', 'n']);
    expect(found[0]!.confidence).toBe('high');
  });
});

describe('tierdb init', () => {
  it('inspects an app database: rows, bytes, time columns and units, keys, age buckets, problems', () => {
    const dir = tempDir();
    const file = path.join(dir, 'app.db');
    const counts = makeAppDb(file);
    const facts = inspectDatabase(file, { now: INIT_NOW_MS });
    const t = Object.fromEntries(facts.tables.map((x) => [x.table, x]));
    expect(Object.keys(t).sort()).toEqual(['audit_log', 'events', 'orders', 'page_views', 'sessions', 'settings']);
    expect(facts.bytesMethod).toBe('dbstat');

    expect(t.events).toMatchObject({ rows: counts.events, timeColumn: { column: 'ts', unit: 'unix_ms', share: 1, confidence: 'high' }, key: { column: 'id', needsAppAssignsKeys: false } });
    expect(t.events!.skip).toBeUndefined();
    expect(t.events!.bytes).toBeGreaterThan(counts.events * 20);
    expect(t.sessions).toMatchObject({ timeColumn: { column: 'created_at', unit: 'unix_s' }, key: { column: 'session_id', source: 'primary key' } });
    expect(t.sessions!.timeCandidates.map((c) => c.column)).toEqual(['created_at', 'updated_at']);
    expect(t.audit_log).toMatchObject({ timeColumn: { column: 'created_at', unit: 'iso', offsets: 1 }, key: { column: 'uuid', source: 'UNIQUE constraint' } });
    expect(t.audit_log!.problems.join('\n')).toMatch(/1 of \d+ sampled audit_log\.created_at values carry an offset other than UTC \(e\.g\. "2026-06-14T20:00:00\+08:00"\)/);
    expect(t.settings!.skip).toMatch(/^no time column/);
    expect(t.page_views!.timeColumn?.column).toBe('viewed_at');
    expect(t.page_views!.skip).toMatch(/^no key: no primary key and no single-column UNIQUE index/);
    expect(t.orders).toMatchObject({ timeColumn: { column: 'created_at', unit: 'unix_s' }, key: { column: 'id', needsAppAssignsKeys: true, dense: true } });

    // Age buckets by the chosen column: exactly what the generator put there.
    for (const name of ['events', 'sessions', 'audit_log', 'orders', 'page_views'] as const) {
      const b = t[name]!.ageBuckets!;
      const older = [7, 30, 90, 365].map((d) => olderThan(name, d, counts));
      expect(b.counts, name).toEqual([counts[name] - older[0]!, older[0]! - older[1]!, older[1]! - older[2]!, older[2]! - older[3]!, older[3]!]);
      expect(b.noTime).toBe(0);
    }

    const estimated = inspectDatabase(file, { now: INIT_NOW_MS, dbstat: false });
    expect(estimated.bytesMethod).toBe('estimate');
    const events = estimated.tables.find((x) => x.table === 'events')!;
    expect(events.bytes).toBeGreaterThan(counts.events * 20);
    expect(events.bytes).toBeLessThan(t.events!.bytes * 2);
  });

  it('writes a registry that works: the CLI leaves the database untouched, refuses to overwrite, and the store archives with the file', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'app.db');
    const counts = makeAppDb(file);
    const before = sha256(file);

    const first = await runCliIn(dir, ['--hot-path', 'app.db', 'init', '--now', NOW_ISO]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const out = path.join(dir, 'tierdb.config.mjs');
    expect(first.stdout).toContain(`wrote ${out}: 4 tables to tier, 2 listed commented out with the reason`);
    expect(first.stdout).toMatch(/events\s+5,325 rows, 12 month partitions \(2025-05 … 2026-04\)/);
    expect(first.stdout).toMatch(/orders\s+refused until appAssignsKeys is decided \(with it: 750 rows, 3 partitions\)/);
    expect(first.stdout).toContain('--hot-path app.db --data-dir data --registry tierdb.config.mjs --no-migrations migrate');

    // The database: same bytes, no journal or WAL left behind, no tierdb tables.
    expect(sha256(file)).toBe(before);
    for (const suffix of ['-wal', '-shm', '-journal']) expect(existsSync(`${file}${suffix}`), suffix).toBe(false);
    expect(tierdbTables(file)).toEqual([]);

    const text = readFileSync(out, 'utf8');
    expect(text).toContain("/** @type {import('tierdb').RegistryEntryInput[]} */\nexport default [");
    expect(text).not.toMatch(/^import /m);
    expect(text).toContain("  { table: 'events', timeColumn: 'ts', timeUnit: 'unix_ms', hotDays: 30, partition: 'month' },");
    expect(text).toContain("  { table: 'audit_log', timeColumn: 'created_at', timeUnit: 'iso', hotDays: 30, primaryKey: 'uuid', partition: 'month' },");
    expect(text).toContain("  // { table: 'settings', timeColumn: '?', timeUnit: '?', hotDays: 30 },");
    expect(text).toContain("  // { table: 'page_views', timeColumn: 'viewed_at', timeUnit: 'unix_s', hotDays: 30 },");
    expect(text).toMatch(/\/\/ not tiered — settings: no time column/);
    expect(text).toMatch(/\/\/ not tiered — page_views: no key/);
    expect(text).toMatch(/INTEGER PRIMARY KEY without AUTOINCREMENT[\s\S]*\{ table: 'orders', [^\n]*\n {4}\/\/ appAssignsKeys: true,\n {2}\},/);
    expect(text).toMatch(/offset other than UTC/);

    // An existing registry is never overwritten without --force.
    writeFileSync(out, '// mine\n');
    const refused = await runCliIn(dir, ['--hot-path', 'app.db', 'init', '--now', NOW_ISO]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`tierdb: ${out} already exists; tierdb init never overwrites a registry: pass --force`);
    expect(readFileSync(out, 'utf8')).toBe('// mine\n');
    const forced = await runCliIn(dir, ['--hot-path', 'app.db', 'init', '--now', NOW_ISO, '--force', '--hot-days', '90']);
    expect(forced.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain("{ table: 'events', timeColumn: 'ts', timeUnit: 'unix_ms', hotDays: 90, partition: 'month' }");
    expect(sha256(file)).toBe(before);
    expect(tierdbTables(file)).toEqual([]);

    // The written registry, as the module default, runs a dry run and a real archive on a copy.
    writeFileSync(out, text);
    const copy = path.join(dir, 'copy.db');
    copyFileSync(file, copy);
    const registry = ((await import(`${pathToFileURL(out).href}?v=1`)) as { default: unknown }).default;
    const store = await openTierStore({
      hotPath: copy,
      dataDir: path.join(dir, 'data'),
      registry: registry as never,
      migrations: false,
      env: { LOG_LEVEL: 'silent' },
    });
    try {
      expect(store.tables.map((x) => x.table).sort()).toEqual(['audit_log', 'events', 'orders', 'sessions']);
      const dry = await store.archiver.run({ dryRun: true, now: INIT_NOW_MS });
      const planned = Object.fromEntries(dry.tables.map((x) => [x.table, (x.plan ?? []).reduce((a, p) => a + p.rows, 0)]));
      // Whole month partitions before the one holding now − 30 days (2026-05-16): everything before 2026-05-01.
      const beforeMay = (name: 'events' | 'sessions' | 'audit_log') => olderThan(name, (INIT_NOW_MS - Date.UTC(2026, 4, 1)) / 86_400_000, counts);
      expect(planned).toMatchObject({ events: beforeMay('events'), sessions: beforeMay('sessions'), audit_log: beforeMay('audit_log'), orders: 0 });
      expect(planned.events).toBe(5325);
      expect(dry.tables.find((x) => x.table === 'orders')!.error).toMatch(/appAssignsKeys: true/);

      const run = await store.archiver.run({ now: INIT_NOW_MS });
      const moved = Object.fromEntries(run.tables.map((x) => [x.table, x.rowsMoved]));
      expect(moved).toMatchObject({ events: planned.events, sessions: planned.sessions, orders: 0 });
      expect(moved.audit_log).toBe(planned.audit_log); // the +08:00 row is new: it is not among them
      expect(run.tables.find((x) => x.table === 'orders')!.error).toMatch(/INTEGER PRIMARY KEY without AUTOINCREMENT/);
      for (const name of ['events', 'sessions', 'audit_log', 'orders'] as const) {
        const [row] = await store.bridge.sql(`SELECT count(*) AS n FROM ${name}`);
        expect(Number(row!.n), name).toBe(counts[name]);
      }
    } finally {
      await store.close();
    }
    expect(sha256(file)).toBe(before);
  });

  it('never changes a WAL database another connection is writing, and writes a .ts registry', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'app.db');
    makeAppDb(file, { wal: true });
    const writer = new Database(file);
    try {
      writer.pragma('wal_autocheckpoint = 0');
      writer.prepare('INSERT INTO events (ts, kind) VALUES (?, ?)').run(INIT_NOW_MS - 1000, 'late');
      const dbBefore = sha256(file);
      const walBefore = sha256(`${file}-wal`);
      const walSize = sizeOf(`${file}-wal`);
      const report = await runInit({ hotPath: file, out: path.join(dir, 'tierdb.config.ts'), now: INIT_NOW_MS });
      expect(report.format).toBe('ts');
      expect(report.plan.tables.find((x) => x.table === 'events')!.facts.rows).toBe(6001);
      expect(sha256(file)).toBe(dbBefore);
      expect(sizeOf(`${file}-wal`)).toBe(walSize);
      expect(sha256(`${file}-wal`)).toBe(walBefore);
      expect(tierdbTables(file)).toEqual([]);
      const text = readFileSync(report.out!, 'utf8');
      expect(text).toContain("import type { RegistryEntryInput } from 'tierdb';\n\nconst registry: RegistryEntryInput[] = [");
      expect(text.trimEnd().endsWith('export default registry;')).toBe(true);
      const entries = ((await import(pathToFileURL(report.out!).href)) as { default: { table: string }[] }).default;
      expect(entries.map((e) => e.table)).toEqual(['audit_log', 'events', 'orders', 'sessions']);
      await expect(runInit({ hotPath: file, out: report.out!, now: INIT_NOW_MS })).rejects.toBeInstanceOf(FileExistsError);
    } finally {
      writer.close();
    }
  });

  it('a plain array registry (no defineRegistry) is validated when the store binds it', () => {
    const config = testConfig(tempDir());
    const [e] = materializeRegistry([{ table: 'events', timeColumn: 'ts', timeUnit: 'unix_ms', hotDays: 30 }], config);
    expect(e).toMatchObject({ enabled: true, priority: 100, partition: 'day', appAssignsKeys: false, hotDaysFrom: 'registry' });
    expect(() => materializeRegistry([{ table: 'events', timeColumn: 'ts', timeUnit: 'seconds' as never, hotDays: 30 }], config)).toThrow(RegistryError);
    expect(() => materializeRegistry([{ table: 'a', timeColumn: 't', timeUnit: 'iso', hotDays: 1 }, { table: 'a', timeColumn: 't', timeUnit: 'iso', hotDays: 1 }], config)).toThrow(/registered twice/);
  });

  it('names a missing or non-SQLite file', async () => {
    const dir = tempDir();
    await expect(runInit({ hotPath: path.join(dir, 'nope.db'), out: false })).rejects.toThrow(/nope\.db does not exist/);
    writeFileSync(path.join(dir, 'text.db'), 'hello, not a database, just text long enough to have a header of sorts');
    await expect(runInit({ hotPath: path.join(dir, 'text.db'), out: false })).rejects.toMatchObject({ code: 'TIERDB_NOT_SQLITE' });
    expect(existsSync(path.join(dir, 'tierdb.config.mjs'))).toBe(false);
  });
});
