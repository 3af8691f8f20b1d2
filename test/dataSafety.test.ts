/**
 * Issue 7, the ways a store could lose or hide archived rows: a wrong hot
 * path or a shared folder deleting another store's cold files, leases keyed by
 * pid, unbounded scans over ISO times with offsets, rows that cannot move.
 */
import { spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { kernelId, Lease } from '../src/archive/lease.js';
import { listTreeFiles } from './listTreeFiles.js';
import { LeaseHeldError, LeaseLostError, StoreIdentityError } from '../src/errors.js';
import { defineRegistry } from '../src/registry/defineRegistry.js';
import { openTierStore } from '../src/store/openTierStore.js';
import { NOW_MS, expectExactlyOnce, readTierState, runCli, seedTaskQueue } from './archiveFixtures.js';
import { cliEnv, REPO_ROOT, tempDir, testConfig } from './helpers.js';

const ENV = { ARCHIVE_BATCH_SIZE: '200', HOT_DAYS_TASK: '7', LOG_LEVEL: 'silent' };
const NOW_ISO = new Date(NOW_MS).toISOString();

/** A data folder with archived task_queue rows; returns the number of rows and of cold files. */
async function archivedStore(dir: string, rows = 2000): Promise<{ rows: number; files: number }> {
  await seedTaskQueue(dir, rows, 20, ENV);
  const store = await openTierStore({ config: testConfig(dir, ENV) });
  try {
    const report = await store.archiver.run({ now: NOW_MS, tables: ['task_queue'] });
    expect(report.tables[0]!.files).toBeGreaterThan(3);
  } finally {
    await store.close();
  }
  return { rows, files: listTreeFiles(path.join(dir, 'cold')).length };
}

describe('a cold tree belongs to one manifest', () => {
  it('a wrong --hot-path never deletes cold files: read-only commands refuse and create nothing, writing ones refuse naming both paths', async () => {
    const dir = tempDir();
    const { rows, files } = await archivedStore(dir);
    const typo = path.join(dir, 'typo.db');
    const readOnly = [
      ['sql', 'select 1'],
      ['query', 'task_queue', '--limit', '1'],
      ['explain', 'task_queue'],
      ['validate'],
      ['stats'],
      ['archive', '--dry-run', '--now', NOW_ISO],
      ['export', 'task_queue', '--out', path.join(dir, 'out.csv')],
    ];
    for (const args of readOnly) {
      const r = await runCli(['--data-dir', dir, '--hot-path', typo, ...args], ENV);
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(1);
      expect(r.stderr, args[0]).toContain(`${typo} does not exist`);
      expect(existsSync(typo), `${args[0]} created the hot file`).toBe(false);
      expect(listTreeFiles(path.join(dir, 'cold')).length, `${args[0]} deleted cold files`).toBe(files);
    }
    const jsonl = path.join(dir, 'in.jsonl');
    writeFileSync(jsonl, '');
    for (const args of [['migrate'], ['ingest', jsonl], ['archive', '--now', NOW_ISO]]) {
      const r = await runCli(['--data-dir', dir, '--hot-path', typo, ...args], ENV);
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(1);
      expect(r.stderr, args[0]).toContain(typo);
      expect(r.stderr, args[0]).toContain(path.join(dir, 'cold'));
      expect(existsSync(typo), `${args[0]} created the hot file`).toBe(false);
      expect(listTreeFiles(path.join(dir, 'cold')).length, `${args[0]} deleted cold files`).toBe(files);
    }
    expectExactlyOnce(await readTierState(dir), rows);
  });

  it('two databases sharing one data folder: the second is refused, the first keeps every file', async () => {
    const dir = tempDir();
    const { rows, files } = await archivedStore(dir);
    const other = path.join(dir, 'other.db');
    const app = new Database(other);
    app.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL)');
    app.close();
    const registry = defineRegistry([{ table: 'notes', timeColumn: 'at', timeUnit: 'unix_s', hotDays: 1 }]);
    const config = testConfig(dir, ENV);
    const error = await openTierStore({ config: { ...config, hotPath: other }, registry, migrations: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreIdentityError);
    expect((error as Error).message).toContain(path.join(dir, 'cold'));
    expect((error as Error).message).toContain(path.join(dir, 'hot.db'));
    expect(listTreeFiles(path.join(dir, 'cold')).length).toBe(files);
    // Read-only, too: it deletes nothing, and the first store still opens and reads everything.
    expect(listTreeFiles(path.join(dir, 'cold')).length).toBe(files);
    expectExactlyOnce(await readTierState(dir), rows);
    const first = await openTierStore({ config });
    await first.close();
    expect(listTreeFiles(path.join(dir, 'cold')).length).toBe(files);
  });

  it('a cold tree written before markers existed is adopted by the manifest that lists it, and then guarded', async () => {
    const dir = tempDir();
    const { files } = await archivedStore(dir);
    const raw = new Database(path.join(dir, 'hot.db'));
    raw.prepare(`DELETE FROM _tierdb_meta WHERE key = 'store_id'`).run();
    raw.close();
    rmSync(path.join(dir, 'cold', '_tierdb_store.json'));
    const store = await openTierStore({ config: testConfig(dir, ENV) });
    await store.close();
    expect(existsSync(path.join(dir, 'cold', '_tierdb_store.json'))).toBe(true);
    expect(listTreeFiles(path.join(dir, 'cold')).length).toBe(files);
    const fresh = await runCli(['--data-dir', dir, '--hot-path', path.join(dir, 'new.db'), 'migrate'], ENV);
    expect(fresh.code).toBe(1);
    expect(fresh.stderr).toMatch(/Refusing to create a new database there/);
  });
});

describe('bad paths get a clear error naming them', () => {
  it('TIERDB_DATA_DIR pointing at a file, TIERDB_HOT_PATH=/dev/null or a folder', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'a-file');
    writeFileSync(file, 'x');
    const cases: [Record<string, string>, RegExp][] = [
      [{ TIERDB_DATA_DIR: file }, /a-file is not a regular file, not a folder|a-file.*not a folder/],
      [{ TIERDB_DATA_DIR: dir, TIERDB_HOT_PATH: '/dev/null' }, /\/dev\/null is a character device, not a SQLite file/],
      [{ TIERDB_DATA_DIR: dir, TIERDB_HOT_PATH: dir }, /is a directory, not a SQLite file/],
    ];
    for (const [env, message] of cases) {
      for (const command of [['migrate'], ['stats']]) {
        const r = await runCli(command, { ...ENV, ...env });
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr).toMatch(message);
        expect(r.stderr).not.toMatch(/\n\s+at /);
      }
    }
    expect((await import('node:fs')).statSync('/dev/null').isCharacterDevice()).toBe(true);
  });
});

describe('the archiver lease is held by a token, not a pid', () => {
  it('a second store in the same process neither recovers nor archives while the first runs; nothing is lost', async () => {
    const dir = tempDir();
    const total = await seedTaskQueue(dir, 3000, 20, ENV);
    const config = testConfig(dir, ENV);
    const a = await openTierStore({ config });
    let second: Awaited<ReturnType<typeof openTierStore>> | undefined;
    let secondRun: unknown;
    try {
      const run = a.archiver.run({
        now: NOW_MS,
        tables: ['task_queue'],
        onProgress: () => {
          if (second) return;
          // Mid-run: the next chunk is being written. Opening another store must not touch it.
          second = undefined;
          void openTierStore({ config }).then(async (b) => {
            second = b;
            secondRun = await b.archiver.run({ now: NOW_MS, tables: ['task_queue'] }).catch((e: unknown) => e);
          });
        },
      });
      const concurrent = await a.archiver.run({ now: NOW_MS }).catch((e: unknown) => e);
      expect(concurrent).toBeInstanceOf(LeaseHeldError);
      expect((concurrent as Error).message).toMatch(/already in progress in this process/);
      const report = await run;
      expect(report.tables[0]!.error).toBeUndefined();
      while (secondRun === undefined) await new Promise((r) => setTimeout(r, 20));
      expect(secondRun).toBeInstanceOf(LeaseHeldError);
    } finally {
      await a.close();
      await (second as { close(): Promise<void> } | undefined)?.close();
    }
    const state = await readTierState(dir);
    expectExactlyOnce(state, total);
    expect(state.hotKeys.length).toBeLessThan(total);
  });

  it('another holder with the same pid (a container where node is pid 1) is not this process', () => {
    const dir = tempDir();
    const db = new Database(path.join(dir, 'l.db'));
    db.exec(`CREATE TABLE _tierdb_leases (name TEXT PRIMARY KEY, owner_pid INTEGER NOT NULL, host TEXT NOT NULL, started_at_ms INTEGER NOT NULL,
      token TEXT, expires_at_ms INTEGER, kernel_id TEXT)`);
    db.prepare(`INSERT INTO _tierdb_leases VALUES ('archiver', ?, 'box', ?, 'theirs', ?, ?)`).run(process.pid, Date.now(), Date.now() + 60_000, kernelId());
    expect(() => Lease.acquire(db)).toThrow(LeaseHeldError);
    // A holder on another kernel whose pid looks dead here is not taken over before its lease lapses.
    db.prepare(`UPDATE _tierdb_leases SET owner_pid = ?, kernel_id = 'other-kernel'`).run(2 ** 22 + 7);
    expect(() => Lease.acquire(db)).toThrow(LeaseHeldError);
    // Dead on this kernel, or lapsed: taken over.
    db.prepare(`UPDATE _tierdb_leases SET kernel_id = ?`).run(kernelId());
    Lease.acquire(db).release();
    db.prepare(`INSERT INTO _tierdb_leases VALUES ('archiver', 1, 'box', 0, 'old', ?, 'other-kernel')`).run(Date.now() - 1);
    const lease = Lease.acquire(db);
    // Once someone else holds it, this holder can no longer commit.
    db.prepare(`UPDATE _tierdb_leases SET token = 'thief'`).run();
    expect(() => lease.assertHeld()).toThrow(LeaseLostError);
    lease.release();
    expect(db.prepare('SELECT token FROM _tierdb_leases').pluck().get()).toBe('thief');
    db.close();
  });

  it('a run whose lease was taken over commits nothing more, and every row stays exactly once', async () => {
    const dir = tempDir();
    const total = await seedTaskQueue(dir, 3000, 20, ENV);
    const store = await openTierStore({ config: testConfig(dir, ENV) });
    let filesAtSteal = 0;
    try {
      let stolen = false;
      const error = await store.archiver
        .run({
          now: NOW_MS,
          tables: ['task_queue'],
          onProgress: () => {
            if (stolen) return;
            stolen = true;
            // Files committed so far (one, or two when the next chunk committed while the first drained).
            filesAtSteal = store.hot.raw.prepare(`SELECT count(*) FROM _tierdb_files WHERE state = 'live'`).pluck().get() as number;
            store.hot.raw.prepare(`UPDATE _tierdb_leases SET token = 'another-holder'`).run();
          },
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LeaseLostError);
    } finally {
      await store.close();
    }
    const state = await readTierState(dir);
    expectExactlyOnce(state, total);
    expect(filesAtSteal).toBeGreaterThanOrEqual(1);
    expect(state.liveFiles.length).toBe(filesAtSteal);
  });
});

describe('ISO times with offsets, and rows that cannot move', () => {
  async function isoStore(dir: string) {
    const config = testConfig(dir, ENV);
    const setup = await openTierStore({ config, registry: [], migrations: false });
    setup.hot.raw.exec('CREATE TABLE logs (k TEXT PRIMARY KEY, at TEXT NOT NULL, body TEXT); CREATE INDEX logs_at ON logs (at)');
    const ins = setup.hot.raw.prepare('INSERT INTO logs VALUES (?, ?, ?)');
    const values = [
      ['utc-z', '2026-05-01T03:00:00Z'],
      ['utc-plain', '2026-05-01 04:00:00'],
      ['utc-zero', '2026-05-02T03:00:00+00:00'],
      ['plus8', '2026-05-03T03:00:00+08:00'],
      ['minus5', '2026-05-03T22:00:00-05:00'],
      ['garbage', '1999/12/31 not a time'],
      ['bad-day', '2026-02-30T00:00:00Z'],
      ['date-only', '2026-05-05'],
    ];
    for (const [k, at] of values) ins.run(k, at, `row ${k}`);
    ins.run(null, '2026-05-06T00:00:00Z', 'null key');
    await setup.close();
    const registry = defineRegistry([{ table: 'logs', timeColumn: 'at', timeUnit: 'iso', hotDays: 7 }]);
    return openTierStore({ config, registry, migrations: false });
  }

  it('archive ends, moves every UTC row, and names each row it refuses (offsets, non-times, NULL keys), which stay hot', async () => {
    const dir = tempDir();
    const store = await isoStore(dir);
    try {
      const dry = await store.archiver.run({ now: NOW_MS, dryRun: true });
      expect(dry.tables[0]!.plan!.length).toBeLessThan(20);
      const report = await store.archiver.run({ now: NOW_MS });
      const t = report.tables[0]!;
      expect(t.error).toBeUndefined();
      expect(t.rowsMoved).toBe(4);
      const reasons = t.refused.map((r) => r.reason).join('\n');
      expect(reasons).toMatch(/plus8/);
      expect(reasons).toMatch(/minus5/);
      expect(reasons).toMatch(/not UTC ISO-8601/);
      expect(reasons).toMatch(/1999\/12\/31 not a time/);
      expect(reasons).toMatch(/bad-day/);
      expect(reasons).toMatch(/k is NULL/);
      const hot = store.hot.raw.prepare('SELECT k FROM logs ORDER BY at').pluck().all();
      expect(new Set(hot)).toEqual(new Set(['plus8', 'minus5', 'garbage', 'bad-day', null]));
      const all = await store.bridge.sql('SELECT k FROM logs');
      expect(all).toHaveLength(9);
      expect(new Set(all.map((r) => r.k))).toEqual(new Set(['bad-day', 'date-only', 'garbage', 'minus5', 'plus8', 'utc-plain', 'utc-z', 'utc-zero', null]));
      // The next run refuses the same rows again, and the table does not fail.
      const again = await store.archiver.run({ now: NOW_MS });
      expect(again.tables[0]!.error).toBeUndefined();
      expect(again.tables[0]!.rowsMoved).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('SIGTERM stops `tierdb archive` between chunks: it exits by itself and every row is exactly once', async () => {
    const dir = tempDir();
    const total = await seedTaskQueue(dir, 20_000, 30, ENV);
    const env = cliEnv({ ...ENV, ARCHIVE_BATCH_SIZE: '100', LOG_LEVEL: 'silent' });
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/tierdb.mjs'), '--data-dir', dir, 'archive', '--json', '--now', NOW_ISO], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    // Wait for the first committed file, then ask it to stop.
    const cold = path.join(dir, 'cold');
    const deadline = Date.now() + 60_000;
    while (listTreeFiles(cold).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    child.kill('SIGTERM');
    const exit = await new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    expect(exit.signal).toBeNull();
    const report = JSON.parse(stdout) as { aborted: boolean };
    expect(report.aborted).toBe(true);
    const state = await readTierState(dir);
    expectExactlyOnce(state, total);
    expect(state.hotKeys.length).toBeGreaterThan(total - 20_000 * (23 / 30));
  });
});

describe('grace files', () => {
  it('a pending file that went missing is dropped, not a failure every run: its rows were still hot and move again', async () => {
    const dir = tempDir();
    const env = { ...ENV, ARCHIVE_GRACE_HOURS: '1' };
    const total = await seedTaskQueue(dir, 1000, 20, env);
    const store = await openTierStore({ config: testConfig(dir, env) });
    try {
      const first = await store.archiver.run({ now: NOW_MS, tables: ['task_queue'] });
      expect(first.tables[0]!.pendingWritten).toBeGreaterThan(1);
      const [gone] = store.hot.raw.prepare(`SELECT path FROM _tierdb_files WHERE state = 'pending' ORDER BY id LIMIT 1`).pluck().all() as string[];
      rmSync(path.join(dir, 'cold', ...gone!.split('/')));
      const later = await store.archiver.run({ now: NOW_MS + 2 * 3_600_000, tables: ['task_queue'] });
      expect(later.tables[0]!.error).toBeUndefined();
      expect(store.hot.raw.prepare('SELECT count(*) FROM _tierdb_files WHERE path = ?').pluck().get(gone)).toBe(0);
    } finally {
      await store.close();
    }
    expectExactlyOnce(await readTierState(dir), total);
  });
});

