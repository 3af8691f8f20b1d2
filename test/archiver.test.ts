import Database from 'better-sqlite3';
import os from 'node:os';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../src/cold/DuckDbEngine.js';
import { readFooterMetadata, readParquetRows } from '../src/cold/ParquetChunkWriter.js';
import { absoluteColdPath } from '../src/cold/coldLayout.js';
import { defineRegistry } from '../src/registry/defineRegistry.js';
import { openTierStore } from '../src/store/openTierStore.js';
import { LeaseHeldError } from '../src/errors.js';
import { failRun } from '../src/manifest/runLog.js';
import { DAY_S, NOW_MS, NOW_S, expectExactlyOnce, readTierState, seedTaskQueue } from './archiveFixtures.js';
import { tempDir, testConfig } from './helpers.js';

const ENV = { ARCHIVE_BATCH_SIZE: '500', HOT_DAYS_TASK: '7' };

describe('UniversalArchiver', () => {
  it('moves whole old days exactly once, to Hive-partitioned zstd Parquet with footer metadata', async () => {
    const dir = tempDir();
    const total = await seedTaskQueue(dir, 6000, 30, ENV);
    const store = await openTierStore({ config: testConfig(dir, ENV) });
    try {
      const cutoffS = NOW_S - 7 * DAY_S; // 2026-06-08T00:00Z: a day boundary
      const due = store.hot.raw.prepare('SELECT count(*) FROM task_queue WHERE created_at < ?').pluck().get(cutoffS) as number;
      const report = await store.archiver.run({ now: NOW_MS, tables: ['task_queue'] });
      const t = report.tables[0]!;
      expect(t.error).toBeUndefined();
      expect(t.rowsMoved).toBe(due);
      expect(store.hot.raw.prepare('SELECT count(*) FROM task_queue WHERE created_at < ?').pluck().get(cutoffS)).toBe(0);
      // Whole days: nothing at or after the cutoff day moved.
      expect(store.hot.raw.prepare('SELECT count(*) FROM task_queue').pluck().get()).toBe(total - due);

      const files = store.hot.raw.prepare(`SELECT * FROM _tierdb_files WHERE state = 'live'`).all() as {
        path: string;
        partition: string;
        rows: number;
        bytes: number;
      }[];
      expect(files.reduce((a, f) => a + f.rows, 0)).toBe(due);
      for (const f of files) {
        expect(f.path).toMatch(/^task_queue\/year=\d{4}\/month=\d\d\/day=\d\d\/part-[\w-]+\.parquet$/);
        const [y, m, d] = f.partition.split('-');
        expect(f.path).toContain(`year=${y}/month=${m}/day=${d}/`);
        expect(statSync(absoluteColdPath(store.config.coldDir, f.path)).size).toBe(f.bytes);
      }
      const engine = await DuckDbEngine.create({ memoryLimit: '256MB', threads: 1 });
      try {
        const file = absoluteColdPath(store.config.coldDir, files[0]!.path);
        const meta = await readFooterMetadata(engine, file);
        expect(meta['tierdb.table']).toBe('task_queue');
        expect(meta['tierdb.partition']).toBe(files[0]!.partition);
        expect(Number(meta['tierdb.rows'])).toBe(files[0]!.rows);
        expect(JSON.parse(meta['tierdb.schema']!)).toContainEqual({ name: 'msg_id', type: 'BIGINT' });
        const codecs = (await engine.connection.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata('${file}')`)).getRows();
        expect(codecs.map((r) => String(r[0]).toUpperCase())).toEqual(['ZSTD']);
      } finally {
        engine.close();
      }

      const again = await store.archiver.run({ now: NOW_MS, tables: ['task_queue'] });
      expect(again.tables[0]!.rowsMoved).toBe(0);
      expect(again.tables[0]!.files).toBe(0);
      const runs = store.hot.raw.prepare(`SELECT status FROM _tierdb_runs ORDER BY id`).pluck().all();
      expect(runs).toEqual(['ok', 'ok']);
    } finally {
      await store.close();
    }
    expectExactlyOnce(await readTierState(dir), total);
  });

  it('round-trips every SQLite value exactly: 64-bit integers, REAL, Unicode TEXT, BLOB, NULL (property test)', async () => {
    const dir = tempDir();
    const config = testConfig(dir, { ARCHIVE_BATCH_SIZE: '97' });
    const registry = defineRegistry([{ table: 'props', timeColumn: 'ts', timeUnit: 'unix_s', hotDays: 1 }]);
    const store = await openTierStore({ config, registry: [], migrations: false });
    store.hot.raw.exec(`CREATE TABLE props (id INTEGER PRIMARY KEY AUTOINCREMENT, i INTEGER, r REAL, t TEXT, b BLOB, ts INTEGER NOT NULL)`);
    await store.close();
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const big = () => (BigInt(Math.floor(rand() * 2 ** 31)) << 32n) | BigInt(Math.floor(rand() * 2 ** 32));
    const texts = ['', '你好，世界', 'emoji 🚀👨‍👩‍👧', 'quote \' " \\ \n\t', 'a'.repeat(3000), 'ümlaut ß', '\u0000inside'];
    const expected = new Map<bigint, unknown[]>();
    const s2 = await openTierStore({ config, registry, migrations: false });
    try {
      const ins = s2.hot.raw.prepare('INSERT INTO props VALUES (?, ?, ?, ?, ?, ?)');
      s2.hot.raw.transaction(() => {
        for (let n = 0; n < 1500; n++) {
          const id = n % 3 === 0 ? -big() : big();
          if (expected.has(id)) continue;
          const row = [
            id,
            pick<bigint | null>([null, 0n, 9223372036854775807n, -9223372036854775808n, 2n ** 53n + 1n, big()]),
            pick<number | null>([null, 0.1, -1.5e300, 5e-324, Math.PI, rand() * 1e9, 42]),
            pick<string | null>([null, ...texts, `row ${n}`]),
            pick<Buffer | null>([null, Buffer.alloc(0), Buffer.from([0, 255, 1, 2]), Buffer.from(`blob ${n}`)]),
            BigInt(NOW_S - 2 * DAY_S - Math.floor(rand() * 20 * DAY_S)),
          ];
          ins.run(...row);
          expected.set(id, row);
        }
      })();
      const report = await s2.archiver.run({ now: NOW_MS });
      expect(report.tables[0]!.error).toBeUndefined();
      expect(report.tables[0]!.rowsMoved).toBe(expected.size);
      const files = s2.hot.raw.prepare(`SELECT path FROM _tierdb_files WHERE state = 'live'`).pluck().all() as string[];
      const engine = await DuckDbEngine.create({ memoryLimit: '256MB', threads: 1 });
      const seen = new Set<bigint>();
      try {
        for (const f of files) {
          for (const row of await readParquetRows(engine, absoluteColdPath(config.coldDir, f), ['id', 'i', 'r', 't', 'b', 'ts'])) {
            const id = row[0] as bigint;
            expect(seen.has(id)).toBe(false);
            seen.add(id);
            const want = expected.get(id)!;
            for (let c = 0; c < want.length; c++) {
              const [got, exp] = [row[c], want[c]];
              if (Buffer.isBuffer(exp)) expect(Buffer.isBuffer(got) && exp.equals(got)).toBe(true);
              else {
                expect(typeof got).toBe(typeof exp);
                expect(got).toEqual(exp);
              }
            }
          }
        }
      } finally {
        engine.close();
      }
      expect(seen.size).toBe(expected.size);
    } finally {
      await s2.close();
    }
  });

  it('refuses a chunk whose column holds a value of another type, keeps its rows hot, and archives the rest', async () => {
    const dir = tempDir();
    const total = await seedTaskQueue(dir, 3000, 30, ENV);
    const store = await openTierStore({ config: testConfig(dir, { ...ENV, HOT_DAYS_LOG: '1' }) });
    try {
      store.hot.raw.prepare(`INSERT INTO rule_logs (rule_id, rule_name, matched, created_at) VALUES (1, 'r', 1, ?)`).run(NOW_S - 20 * DAY_S);
      const badId = store.hot.raw.prepare('SELECT id FROM task_queue WHERE created_at < ? ORDER BY id LIMIT 1').pluck().get(NOW_S - 20 * DAY_S) as number;
      store.hot.raw.prepare(`UPDATE task_queue SET priority = 'high' WHERE id = ?`).run(badId);
      const report = await store.archiver.run({ now: NOW_MS });
      const tq = report.tables.find((t) => t.table === 'task_queue')!;
      expect(tq.refused).toHaveLength(1);
      const reason = tq.refused[0]!.reason;
      expect(reason).toContain('task_queue.priority');
      expect(reason).toContain(`id=${badId}`);
      expect(reason).toContain('"high"');
      expect(reason).toMatch(/UPDATE task_queue SET priority = CAST/);
      expect(tq.rowsMoved).toBeGreaterThan(0);
      expect(store.hot.raw.prepare('SELECT priority FROM task_queue WHERE id = ?').pluck().get(badId)).toBe('high');
      expect(report.tables.find((t) => t.table === 'rule_logs')!.rowsMoved).toBe(1);
    } finally {
      await store.close();
    }
    expectExactlyOnce(await readTierState(dir), total);
  });

  it('one archiver at a time: a live holder is named, a dead holder is taken over', async () => {
    const dir = tempDir();
    await seedTaskQueue(dir, 100, 30, ENV);
    const store = await openTierStore({ config: testConfig(dir, ENV) });
    try {
      const setHolder = (pid: number) =>
        store.hot.raw.prepare(`INSERT OR REPLACE INTO _tierdb_leases (name, owner_pid, host, started_at_ms) VALUES ('archiver', ?, ?, ?)`).run(pid, os.hostname(), Date.now());
      setHolder(process.ppid);
      await expect(store.archiver.run({ now: NOW_MS })).rejects.toThrow(LeaseHeldError);
      await expect(store.archiver.run({ now: NOW_MS })).rejects.toThrow(`pid ${process.ppid}`);
      setHolder(2 ** 22 + 12345); // above pid_max: no such process
      const report = await store.archiver.run({ now: NOW_MS });
      expect(report.tables.find((t) => t.table === 'task_queue')!.rowsMoved).toBeGreaterThan(0);
      expect(store.hot.raw.prepare('SELECT count(*) FROM _tierdb_leases').pluck().get()).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('grace period: files written and verified but invisible, rows hot, until a later run commits them', async () => {
    const dir = tempDir();
    const env = { ...ENV, ARCHIVE_GRACE_HOURS: '2' };
    const total = await seedTaskQueue(dir, 2000, 20, env);
    const store = await openTierStore({ config: testConfig(dir, env) });
    try {
      const first = await store.archiver.run({ now: NOW_MS, tables: ['task_queue'] });
      expect(first.tables[0]!.pendingWritten).toBeGreaterThan(0);
      expect(first.tables[0]!.rowsMoved).toBe(0);
      expect(store.hot.raw.prepare('SELECT count(*) FROM task_queue').pluck().get()).toBe(total);
      expect(store.hot.raw.prepare(`SELECT count(*) FROM _tierdb_files WHERE state = 'live'`).pluck().get()).toBe(0);
      const early = await store.archiver.run({ now: NOW_MS + 3_600_000, tables: ['task_queue'] });
      expect(early.tables[0]!.pendingCommitted).toBe(0);
      expect(early.tables[0]!.pendingWritten).toBe(0); // days with pending files are not written twice
      const late = await store.archiver.run({ now: NOW_MS + 3 * 3_600_000, tables: ['task_queue'] });
      expect(late.tables[0]!.pendingCommitted).toBe(first.tables[0]!.pendingWritten);
      expect(store.hot.raw.prepare(`SELECT count(*) FROM _tierdb_files WHERE state = 'pending'`).pluck().get()).toBe(0);
    } finally {
      await store.close();
    }
    expectExactlyOnce(await readTierState(dir), total);
  });

  it('a grace file whose rows changed meanwhile commits the others: the changed row stays hot with its new value, its file copy masked', async () => {
    const dir = tempDir();
    const env = { ...ENV, ARCHIVE_GRACE_HOURS: '1', ARCHIVE_BATCH_SIZE: '100000' };
    const total = await seedTaskQueue(dir, 500, 10, env);
    const store = await openTierStore({ config: testConfig(dir, env) });
    try {
      await store.archiver.run({ now: NOW_MS, tables: ['task_queue'] });
      const pendingFiles = store.hot.raw.prepare(`SELECT count(*) FROM _tierdb_files WHERE state = 'pending'`).pluck().get() as number;
      expect(pendingFiles).toBeGreaterThan(1);
      const oldest = store.hot.raw.prepare('SELECT id FROM task_queue ORDER BY created_at LIMIT 1').pluck().get() as number;
      store.hot.raw.prepare(`UPDATE task_queue SET status = 'retried' WHERE id = ?`).run(oldest);
      const late = await store.archiver.run({ now: NOW_MS + 2 * 3_600_000, tables: ['task_queue'] });
      expect(late.tables[0]!.abandoned).toBe(1);
      expect(late.tables[0]!.masked).toBe(1);
      expect(late.tables[0]!.pendingCommitted).toBe(pendingFiles);
      expect(store.hot.raw.prepare('SELECT status FROM task_queue WHERE id = ?').pluck().get(oldest)).toBe('retried');
      expect((await store.bridge.query('task_queue', { where: { id: oldest } })).map((r) => r.status)).toEqual(['retried']);
      // The same run writes that day again, with the new value, under a new grace period.
      expect(late.tables[0]!.pendingWritten).toBe(1);
      const final = await store.archiver.run({ now: NOW_MS + 4 * 3_600_000, tables: ['task_queue'] });
      expect(final.tables[0]!.pendingCommitted).toBe(1);
      expect(store.hot.raw.prepare('SELECT count(*) FROM task_queue WHERE id = ?').pluck().get(oldest)).toBe(0);
      expect((await store.bridge.query('task_queue', { where: { id: oldest } })).map((r) => r.status)).toEqual(['retried']);
    } finally {
      await store.close();
    }
    const state = await readTierState(dir);
    expect(state.treeFiles.sort()).toEqual(
      expect.arrayContaining(state.liveFiles.sort()),
    );
    expect(new Set([...state.hotKeys, ...state.coldKeys]).size).toBe(total);
  });

  it('dry run reports days, rows and bytes and writes nothing', async () => {
    const dir = tempDir();
    await seedTaskQueue(dir, 1000, 20, ENV);
    const store = await openTierStore({ config: testConfig(dir, ENV) });
    try {
      const due = store.hot.raw.prepare('SELECT count(*) FROM task_queue WHERE created_at < ?').pluck().get(NOW_S - 7 * DAY_S) as number;
      const report = await store.archiver.run({ now: NOW_MS, dryRun: true, tables: ['task_queue'] });
      const plan = report.tables[0]!.plan!;
      expect(plan.reduce((a, p) => a + p.rows, 0)).toBe(due);
      expect(plan.map((p) => p.partition)).toEqual([...plan.map((p) => p.partition)].sort());
      expect(plan.every((p) => p.estimatedBytes > 0)).toBe(true);
      expect(store.hot.raw.prepare('SELECT count(*) FROM task_queue').pluck().get()).toBe(1000);
      expect(store.hot.raw.prepare('SELECT count(*) FROM _tierdb_files').pluck().get()).toBe(0);
      expect(store.hot.raw.prepare('SELECT count(*) FROM _tierdb_runs').pluck().get()).toBe(0);
      expect(existsSync(path.join(dir, 'cold', 'task_queue'))).toBe(false);
    } finally {
      await store.close();
    }
  });

  it('gives space back and keeps the last ARCHIVE_BACKUP_KEEP backups', async () => {
    const dir = tempDir();
    const env = { ...ENV, ARCHIVE_BACKUP_ENABLED: 'true', ARCHIVE_BACKUP_KEEP: '2', ARCHIVE_BATCH_SIZE: '5000' };
    await seedTaskQueue(dir, 20000, 60, env);
    const store = await openTierStore({ config: testConfig(dir, env) });
    try {
      const report = await store.archiver.run({ now: NOW_MS, tables: ['task_queue'] });
      expect(report.hotBytesAfter).toBeLessThan(report.hotBytesBefore * 0.5);
      expect(report.backup).not.toBeNull();
      await store.archiver.run({ now: NOW_MS, tables: ['task_queue'] });
      await store.archiver.run({ now: NOW_MS, tables: ['task_queue'] });
      expect(readdirSync(path.join(dir, 'backups')).filter((f) => f.endsWith('.db'))).toHaveLength(2);
    } finally {
      await store.close();
    }
  });

  it('recovery at open removes only provable leftovers (temp files and unlisted files of recorded runs), and unlinks retired files once old enough', async () => {
    const dir = tempDir();
    await seedTaskQueue(dir, 2000, 20, ENV);
    const config = testConfig(dir, ENV);
    let store = await openTierStore({ config });
    let retiredPath: string;
    let freshRetiredPath: string;
    try {
      await store.archiver.run({ now: NOW_MS, tables: ['task_queue'] });
      const [a, b] = store.hot.raw.prepare(`SELECT path FROM _tierdb_files WHERE state = 'live' ORDER BY id LIMIT 2`).pluck().all() as string[];
      retiredPath = a!;
      freshRetiredPath = b!;
      store.hot.raw.prepare(`UPDATE _tierdb_files SET state = 'retired', retired_at_ms = ? WHERE path = ?`).run(Date.now() - 3_600_000, retiredPath);
      store.hot.raw.prepare(`UPDATE _tierdb_files SET state = 'retired', retired_at_ms = ? WHERE path = ?`).run(Date.now(), freshRetiredPath);
    } finally {
      await store.close();
    }
    // Leftovers of a run this manifest recorded (its id and token in the name) that never ended (it crashed)
    // and above the seq it committed are provably ours; anything else in the tree is left alone and reported —
    // also an unlisted file of a run that ended: such a run removed its own uncommitted files, so the file is
    // a committed one the manifest lost (rebuild-manifest lists it again).
    const raw = new Database(config.hotPath);
    const { id: runId, token } = raw.prepare('SELECT id, token FROM _tierdb_runs ORDER BY id DESC LIMIT 1').get() as { id: number; token: string };
    raw.prepare(`INSERT INTO _tierdb_runs (started_at_ms, ended_at_ms, status, pid, token) VALUES (?, ?, 'ok', 1, 'feedf00d')`).run(Date.now(), Date.now());
    const endedRun = raw.prepare('SELECT max(id) FROM _tierdb_runs').pluck().get() as number;
    // A run that failed (the endpoint went away) and recorded the file it could neither commit nor remove.
    raw.prepare(`INSERT INTO _tierdb_runs (started_at_ms, ended_at_ms, status, pid, token) VALUES (?, ?, 'running', 1, 'abad1dea')`).run(Date.now(), Date.now());
    const failedRun = raw.prepare('SELECT max(id) FROM _tierdb_runs').pluck().get() as number;
    raw.prepare(`UPDATE _tierdb_runs SET status = 'crashed' WHERE id = ?`).run(runId);
    raw.close();
    const dayDir = path.join(config.coldDir, 'task_queue', 'year=2026', 'month=01', 'day=01');
    const orphan = path.join(dayDir, `part-${runId}-999-${token}.parquet`);
    const foreign = path.join(dayDir, 'part-999-1.parquet');
    const otherToken = path.join(dayDir, `part-${runId}-998-0badc0de.parquet`);
    const ofEndedRun = path.join(dayDir, `part-${endedRun}-1-feedf00d.parquet`);
    const recordedLeftover = path.join(dayDir, `part-${failedRun}-3-abad1dea.parquet`);
    const unrecordedOfFailed = path.join(dayDir, `part-${failedRun}-4-abad1dea.parquet`);
    const rel = (f: string) => path.relative(config.coldDir, f).split(path.sep).join('/');
    {
      const w = new Database(config.hotPath);
      failRun(w, failedRun, new Error('endpoint unreachable'), [rel(recordedLeftover)]);
      w.close();
    }
    mkdirSync(dayDir, { recursive: true });
    for (const f of [orphan, foreign, otherToken, ofEndedRun, recordedLeftover, unrecordedOfFailed]) writeFileSync(f, 'not parquet');
    writeFileSync(path.join(config.coldDir, '_tmp', `task_queue-${runId}-1000-${token}.parquet.tmp`), 'half written');
    writeFileSync(path.join(config.coldDir, '_tmp', 'somebody-else.parquet.tmp'), 'not ours');
    store = await openTierStore({ config });
    try {
      expect(existsSync(orphan)).toBe(false);
      expect(existsSync(foreign)).toBe(true);
      expect(existsSync(otherToken)).toBe(true);
      expect(existsSync(ofEndedRun)).toBe(true);
      expect(existsSync(recordedLeftover)).toBe(false);
      expect(existsSync(unrecordedOfFailed)).toBe(true);
      expect(readdirSync(path.join(config.coldDir, '_tmp'))).toEqual(['somebody-else.parquet.tmp']);
      expect(existsSync(absoluteColdPath(config.coldDir, retiredPath))).toBe(false);
      expect(store.hot.raw.prepare('SELECT count(*) FROM _tierdb_files WHERE path = ?').pluck().get(retiredPath)).toBe(0);
      // Retired only a moment ago: a running query may still read it.
      expect(existsSync(absoluteColdPath(config.coldDir, freshRetiredPath))).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('refuses to tier an INTEGER PRIMARY KEY without AUTOINCREMENT (SQLite would hand an archived key out again) unless the app assigns keys', async () => {
    const dir = tempDir();
    const config = testConfig(dir);
    const entry = { table: 'events', timeColumn: 'ts', timeUnit: 'unix_s', hotDays: 1 } as const;
    const store = await openTierStore({ config, registry: [], migrations: false });
    store.hot.raw.exec('CREATE TABLE events (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL); CREATE INDEX events_ts ON events (ts)');
    const ins = store.hot.raw.prepare('INSERT INTO events (ts) VALUES (?)');
    for (let i = 0; i < 50; i++) ins.run(NOW_S - 10 * DAY_S + i);
    await store.close();
    const s2 = await openTierStore({ config, registry: defineRegistry([entry]), migrations: false });
    try {
      const dry = await s2.archiver.run({ now: NOW_MS, dryRun: true });
      expect(dry.tables[0]!.error).toMatch(/events\.id is an INTEGER PRIMARY KEY without AUTOINCREMENT.*appAssignsKeys: true/);
      const report = await s2.archiver.run({ now: NOW_MS });
      expect(report.tables[0]!.rowsMoved).toBe(0);
      expect(report.tables[0]!.error).toMatch(/Nothing of events moves/);
      expect(s2.hot.raw.prepare('SELECT count(*) FROM events').pluck().get()).toBe(50);
    } finally {
      await s2.close();
    }
    const s3 = await openTierStore({ config, registry: defineRegistry([{ ...entry, appAssignsKeys: true }]), migrations: false });
    try {
      const report = await s3.archiver.run({ now: NOW_MS });
      expect(report.tables[0]!.error).toBeUndefined();
      expect(report.tables[0]!.rowsMoved).toBe(50);
    } finally {
      await s3.close();
    }
  });


  it('a registry batchSize caps one table\'s chunks below ARCHIVE_BATCH_SIZE', async () => {
    const dir = tempDir();
    await seedTaskQueue(dir, 3000, 20, ENV);
    const config = testConfig(dir, { ...ENV, ARCHIVE_BATCH_SIZE: '100000' });
    const registry = defineRegistry([{ table: 'task_queue', timeColumn: 'created_at', timeUnit: 'unix_s', hotDays: 7, batchSize: 30 }]);
    const store = await openTierStore({ config, registry });
    try {
      const report = await store.archiver.run({ now: NOW_MS });
      expect(report.tables[0]!.rowsMoved).toBeGreaterThan(0);
      const sizes = store.hot.raw.prepare(`SELECT rows FROM _tierdb_files WHERE state = 'live'`).pluck().all() as number[];
      expect(Math.max(...sizes)).toBe(30);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(report.tables[0]!.rowsMoved);
    } finally {
      await store.close();
    }
  });

  it('records TEXT key ranges in SQLite order (UTF-8 bytes), so the bridge finds every archived key', async () => {
    const dir = tempDir();
    const config = testConfig(dir);
    const registry = defineRegistry([{ table: 'tags', timeColumn: 'ts', timeUnit: 'unix_s', hotDays: 1 }]);
    const setup = await openTierStore({ config, registry: [], migrations: false });
    setup.hot.raw.exec('CREATE TABLE tags (k TEXT PRIMARY KEY, ts INTEGER NOT NULL)');
    // UTF-16 puts the emoji (a surrogate pair) before U+FFFF; SQLite's UTF-8 order puts it after.
    const keys = ['a', '\uffff', '😀'];
    for (const k of keys) setup.hot.raw.prepare('INSERT INTO tags VALUES (?, ?)').run(k, NOW_S - 5 * DAY_S);
    await setup.close();
    const store = await openTierStore({ config, registry, migrations: false });
    try {
      expect((await store.archiver.run({ now: NOW_MS })).tables[0]!.rowsMoved).toBe(3);
      expect(store.hot.raw.prepare('SELECT max_key FROM _tierdb_files').pluck().get()).toBe('😀');
      for (const k of keys) expect(await store.bridge.query('tags', { where: { k } })).toEqual([{ k, ts: BigInt(NOW_S - 5 * DAY_S) }]);
    } finally {
      await store.close();
    }
  });

  it('names an unregistered table', async () => {
    const dir = tempDir();
    const store = await openTierStore({ config: testConfig(dir) });
    try {
      await expect(store.archiver.run({ tables: ['nope'] })).rejects.toThrow(/"nope" is not registered/);
    } finally {
      await store.close();
    }
  });
});

