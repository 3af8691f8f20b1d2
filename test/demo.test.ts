import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import demoRegistry from '../archive-registry.js';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  DEMO_COLUMNS,
  DEMO_TABLES,
  demoRowCounts,
  generateDemoRows,
  generateMessages,
  writeDemoData,
  type DemoDataOptions,
  type DemoTable,
} from '../src/demo/generateDemoData.js';
import { generateStep, openStep, prepareStep, runDemo } from '../src/demo/runDemo.js';
import { ArgumentError, TierError } from '../src/errors.js';
import { HotStore } from '../src/hot/HotStore.js';
import { wechatPreset } from '../src/presets/wechat/wechatPreset.js';
import { defineRegistry } from '../src/registry/defineRegistry.js';
import { collectStats, type TierStats } from '../src/stats/collectStats.js';
import { openTierStore } from '../src/store/openTierStore.js';
import { cliEnv, REPO_ROOT, tempDir, testConfig } from './helpers.js';

const NOW = Date.UTC(2026, 0, 15, 9, 30, 0);
const DAY_S = 86_400;
const SMALL: DemoDataOptions = { rows: 5000, days: 30, seed: 7, now: NOW };

const allRows = (table: DemoTable, options: DemoDataOptions) => [...generateDemoRows(table, options)];

function openHot(): HotStore {
  const hot = HotStore.open({ path: path.join(tempDir(), 'hot.db'), preset: wechatPreset });
  onTestFinished(() => hot.close());
  return hot;
}

function tierdb(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, ['bin/tierdb.mjs', ...args], {
    cwd: REPO_ROOT,
    env: cliEnv({ LOG_LEVEL: 'silent' }),
    encoding: 'utf8',
  });
}

describe('the demo data generator', () => {
  const rows = {} as Record<DemoTable, unknown[][]>;
  beforeAll(() => {
    for (const table of DEMO_TABLES) rows[table] = allRows(table, SMALL);
  });

  it('gives the same rows for the same seed and other rows for another seed', () => {
    for (const table of DEMO_TABLES) expect(allRows(table, SMALL), table).toEqual(rows[table]);
    expect(allRows('messages', { ...SMALL, seed: 8 })).not.toEqual(rows.messages);
  });

  it('fills all five tables with the documented sizes', () => {
    expect(demoRowCounts(5000)).toEqual({ messages: 5000, task_queue: 1250, rule_logs: 2500, audit_logs: 250, media_signatures: 500 });
    for (const table of DEMO_TABLES) {
      expect(rows[table].length, table).toBe(demoRowCounts(5000)[table]);
      for (const row of rows[table].slice(0, 50)) expect(row, table).toHaveLength(DEMO_COLUMNS[table].length);
    }
  });

  it('spans the requested days, ending at now, oldest row first', () => {
    const start = NOW / 1000 - 30 * DAY_S;
    const times = rows.messages.map((r) => r[4] as number);
    expect(times[0]!).toBeGreaterThanOrEqual(start);
    expect(times[0]!).toBeLessThan(start + DAY_S);
    expect(times.at(-1)!).toBeLessThan(NOW / 1000);
    expect(times.at(-1)!).toBeGreaterThan(NOW / 1000 - DAY_S);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const days = new Set(times.map((t) => Math.floor((t - start) / DAY_S)));
    expect(days.size).toBe(30);
    // Recent days are busier than old ones.
    const firstWeek = times.filter((t) => t < start + 7 * DAY_S).length;
    const lastWeek = times.filter((t) => t >= start + 23 * DAY_S).length;
    expect(lastWeek).toBeGreaterThan(2 * firstWeek);

    const audit = rows.audit_logs.map((r) => r[5] as string);
    expect(audit[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(audit[0]!)).toBeGreaterThanOrEqual(start * 1000);
    const media = rows.media_signatures.map((r) => r[7] as number);
    expect(media.at(-1)!).toBeLessThan(NOW);
    expect(media.at(-1)!).toBeGreaterThan(NOW - DAY_S * 1000);
  });

  it('makes unique, increasing msg_ids above 2^53', () => {
    const ids = rows.messages.map((r) => r[0] as bigint);
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    expect(ids[0]! > 2n ** 53n).toBe(true);
    expect(ids.at(-1)! < 2n ** 63n).toBe(true);
  });

  it('looks like WeChat data', () => {
    const byCol = (i: number) => rows.messages.map((r) => r[i]);
    expect(new Set(byCol(5))).toEqual(new Set([1, 3, 34, 49, 10000]));
    const users = [...byCol(1), ...byCol(2)] as string[];
    expect(users.some((u) => /^wxid_[a-z0-9]{14}$/.test(u))).toBe(true);
    expect(users.some((u) => /^\d{6,11}@chatroom$/.test(u))).toBe(true);
    const content = byCol(3) as string[];
    expect(content.some((c) => /[\u4e00-\u9fff]/.test(c))).toBe(true);
    expect(content.some((c) => /^[\x20-\x7e]+$/.test(c) && /[a-z]{3}/.test(c))).toBe(true);
    const source = byCol(10);
    expect(source.some((s) => typeof s === 'string' && s.startsWith('<msgsource>'))).toBe(true);
    expect(source.some((s) => typeof s === 'string' && /^\d+$/.test(s))).toBe(true);
    expect(source).toContain(null);
    const extra = byCol(13).filter((e): e is string => e !== null);
    expect(extra.length).toBeGreaterThan(0);
    for (const e of extra) expect(JSON.parse(e)).toBeTypeOf('object');
    const phash = rows.media_signatures.map((r) => r[3]);
    expect(phash.some((p) => Buffer.isBuffer(p) && p.length === 8)).toBe(true);
  });

  it('references messages of about the same time from the other tables', () => {
    const timeOf = new Map(rows.messages.map((r) => [r[0] as bigint, r[4] as number]));
    const tasks = rows.task_queue.filter((r) => r[3] !== null);
    expect(tasks.length).toBeGreaterThan(0);
    for (const r of tasks) {
      const msgTime = timeOf.get(r[3] as bigint);
      expect(msgTime).toBeDefined();
      expect(Math.abs((r[7] as number) - msgTime!)).toBeLessThan(DAY_S);
    }
  });

  it('feeds appendMessages: every generated message is valid', async () => {
    const hot = openHot();
    const messages = [...generateMessages({ ...SMALL, rows: 2000 })];
    expect(messages[0]?.msg_id).toBeTypeOf('bigint');
    const result = await hot.appendMessages(messages);
    expect(result).toEqual({ inserted: 2000, duplicates: 0, rejected: [] });
    const stored = hot.raw.prepare('SELECT msg_id, content, source FROM messages ORDER BY msg_id').safeIntegers(true).all() as { msg_id: bigint }[];
    expect(stored.map((r) => r.msg_id)).toEqual(messages.map((m) => m.msg_id));
  });

  it('writes every table through a raw handle, as generated', () => {
    const hot = openHot();
    const progress: number[] = [];
    const summary = writeDemoData(hot.raw, { ...SMALL, batchSize: 1000, onProgress: (p) => progress.push(p.done) });
    expect(summary.rows).toEqual(demoRowCounts(5000));
    for (const table of DEMO_TABLES) {
      const n = (hot.raw.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
      expect(n, table).toBe(summary.rows[table]);
    }
    expect(progress.at(-1)).toBe(Object.values(summary.rows).reduce((a, b) => a + b, 0));
    const cols = DEMO_COLUMNS.audit_logs.join(', ');
    const stored = hot.raw.prepare(`SELECT ${cols} FROM audit_logs ORDER BY id`).raw().all();
    expect(stored).toEqual(rows.audit_logs);
  });

  it('rejects bad options naming them', () => {
    expect(() => allRows('messages', { rows: -5 })).toThrow(ArgumentError);
    expect(() => allRows('messages', { days: 0 })).toThrow(/days 0/);
    expect(() => allRows('messages', { seed: 1.5 })).toThrow(/seed 1.5/);
    expect(() => allRows('nope' as DemoTable, {})).toThrow(/nope/);
  });
});

describe('runDemo', () => {
  it('creates the data folder and reports stats equal to count(*)', async () => {
    const dataDir = path.join(tempDir(), 'fresh', 'data');
    const config = testConfig(dataDir);
    const report = await runDemo({ config, rows: 1000, days: 10, seed: 3, now: NOW });
    expect(report.steps.map((s) => s.name)).toEqual(['prepare', 'open', 'generate', 'stats', 'archive', 'query']);
    expect(report.generated).toEqual(demoRowCounts(1000));
    expect(existsSync(config.hotPath)).toBe(true);
    const db = new Database(config.hotPath, { readonly: true });
    onTestFinished(() => {
      db.close();
    });
    for (const t of report.stats!.tables) {
      expect(t.hot.rows, t.table).toBe((db.prepare(`SELECT count(*) AS n FROM ${t.table}`).get() as { n: number }).n);
      expect(t.cold.rows, t.table).toBe(
        (db.prepare(`SELECT coalesce(sum(rows), 0) AS n FROM _tierdb_files WHERE table_name = ? AND state = 'live'`).get(t.table) as { n: number }).n,
      );
      // The archive step moved rows but lost none.
      expect(t.hot.rows + t.cold.rows, t.table).toBe(demoRowCounts(1000)[t.table as DemoTable]);
    }
    const before = report.statsBeforeArchive!.tables.find((t) => t.table === 'messages')!;
    expect(before.hot.rows).toBe(1000);
    expect(report.archive!.tables.find((t) => t.table === 'messages')!.rowsMoved).toBeGreaterThan(0);
    // The query step: an archived day comes from cold, all history from both tiers, and nothing is lost.
    expect(report.queries!.find((q) => q.name.includes('(archived)'))!.tier).toBe('cold');
    expect(report.queries!.at(-1)!.tier).toBe('hot+cold');
    expect(report.queries!.at(-1)!.rows.reduce((n, r) => n + (r.messages as bigint), 0n)).toBe(1000n);
  });

  it('starts fresh on a second run, and --keep keeps the rows', async () => {
    const dataDir = tempDir();
    const config = testConfig(dataDir);
    writeFileSync(path.join(dataDir, 'notes.txt'), 'mine');
    await runDemo({ config, rows: 500, days: 5, seed: 1, now: NOW });
    mkdirSync(path.join(config.coldDir, 'messages', 'stray'), { recursive: true });

    const again = await runDemo({ config, rows: 300, days: 5, seed: 2, now: NOW });
    expect(again.removed).toEqual(expect.arrayContaining([config.hotPath, config.coldDir]));
    expect(existsSync(path.join(config.coldDir, 'messages', 'stray'))).toBe(false);
    const messages = () => again.stats!.tables.find((t) => t.table === 'messages')!;
    expect(messages().hot.rows + messages().cold.rows).toBe(300);

    const kept = await runDemo({ config, rows: 800, days: 5, keep: true, now: NOW });
    expect(kept.removed).toEqual([]);
    expect(kept.generated).toBeNull();
    const keptMessages = kept.stats!.tables.find((t) => t.table === 'messages')!;
    expect(keptMessages.hot.rows + keptMessages.cold.rows).toBe(300);
    expect(readFileSync(path.join(dataDir, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('refuses to replace a database that is not a tierdb demo database', async () => {
    const dataDir = tempDir();
    const config = testConfig(dataDir);
    const app = new Database(config.hotPath);
    app.exec("CREATE TABLE forward_messages (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO forward_messages (body) VALUES ('keep me')");
    app.close();
    await expect(runDemo({ config, rows: 100, days: 2 })).rejects.toThrow(/refusing to replace .*forward_messages/);
    await expect(runDemo({ config, rows: 100, days: 2, keep: true })).rejects.toThrow(/forward_messages/);
    const check = new Database(config.hotPath, { readonly: true });
    onTestFinished(() => {
      check.close();
    });
    expect(check.prepare('SELECT body FROM forward_messages').pluck().get()).toBe('keep me');
    expect(check.prepare(`SELECT count(*) FROM sqlite_schema WHERE name = 'messages'`).pluck().get()).toBe(0);
  });

  it('refuses to remove a cold folder that has no hot database beside it', async () => {
    const dataDir = tempDir();
    mkdirSync(path.join(dataDir, 'cold'));
    writeFileSync(path.join(dataDir, 'cold', 'photo.jpg'), 'x');
    await expect(runDemo({ config: testConfig(dataDir), rows: 100, days: 2 })).rejects.toThrow(TierError);
    expect(existsSync(path.join(dataDir, 'cold', 'photo.jpg'))).toBe(true);
  });
});

describe('collectStats', () => {
  it('reports rows, time range as ISO and bytes per table, exact or estimated', async () => {
    const config = testConfig(tempDir());
    await runDemo({ config, rows: 2000, days: 20, seed: 5, now: NOW }, [prepareStep, openStep, generateStep]);
    const store = await openTierStore({ config, registry: demoRegistry });
    onTestFinished(() => store.close());
    const exact = await collectStats(store);
    const estimated = await collectStats(store, { useDbstat: false });
    expect(exact.hot.bytesMethod).toBe('dbstat');
    expect(estimated.hot.bytesMethod).toBe('estimate');
    expect(exact.hot.fileBytes).toBeGreaterThan(0);
    const start = new Date(NOW - 20 * DAY_S * 1000).toISOString();
    const end = new Date(NOW).toISOString();
    for (const [i, t] of exact.tables.entries()) {
      expect(t.hot.rows, t.table).toBe(demoRowCounts(2000)[t.table as DemoTable]);
      expect(t.hot.oldest! >= start && t.hot.oldest! < end, `${t.table} oldest ${t.hot.oldest}`).toBe(true);
      expect(t.hot.newest! > t.hot.oldest! && t.hot.newest! < end, `${t.table} newest ${t.hot.newest}`).toBe(true);
      expect(t.hot.tableBytes, t.table).toBeGreaterThan(0);
      expect(t.hot.indexBytes, t.table).toBeGreaterThan(0);
      expect(t.hot.bytes).toBe(t.hot.tableBytes + t.hot.indexBytes);
      expect(t.cold).toMatchObject({ files: 0, rows: 0, bytes: 0 });
      const guess = estimated.tables[i]!.hot;
      expect(guess.rows).toBe(t.hot.rows);
      expect(guess.bytes / t.hot.bytes, t.table).toBeGreaterThan(0.3);
      expect(guess.bytes / t.hot.bytes, t.table).toBeLessThan(3);
    }
  });
});

describe('collectStats on an adopted database', () => {
  it('converts every time unit to ISO (offset-less ISO text is UTC) and reports empty tables', async () => {
    const dataDir = tempDir();
    const app = new Database(path.join(dataDir, 'hot.db'));
    app.exec(`
      CREATE TABLE events (id INTEGER PRIMARY KEY, at TEXT NOT NULL);
      INSERT INTO events (at) VALUES ('2026-01-05 12:00:00'), ('2026-01-03T08:00:00.250Z');
      CREATE TABLE clicks (id INTEGER PRIMARY KEY, ms INTEGER NOT NULL);
      INSERT INTO clicks (ms) VALUES (1767225600000), (1767225600999);
      CREATE TABLE empty (id INTEGER PRIMARY KEY, s INTEGER NOT NULL);
    `);
    app.close();
    const store = await openTierStore({
      config: testConfig(dataDir),
      migrations: false,
      registry: defineRegistry([
        { table: 'events', timeColumn: 'at', timeUnit: 'iso', hotDays: 1 },
        { table: 'clicks', timeColumn: 'ms', timeUnit: 'unix_ms', hotDays: 1 },
        { table: 'empty', timeColumn: 's', timeUnit: 'unix_s', hotDays: 1, enabled: false },
      ]),
    });
    onTestFinished(() => store.close());
    const stats = await collectStats(store);
    const byName = Object.fromEntries(stats.tables.map((t) => [t.table, t.hot]));
    expect(byName.events).toMatchObject({ rows: 2, oldest: '2026-01-03T08:00:00.250Z', newest: '2026-01-05T12:00:00.000Z' });
    expect(byName.clicks).toMatchObject({ rows: 2, oldest: '2026-01-01T00:00:00.000Z', newest: '2026-01-01T00:00:00.999Z' });
    expect(byName.empty).toMatchObject({ rows: 0, oldest: null, newest: null, indexBytes: 0 });
  });
});

describe('tierdb demo and tierdb stats', () => {
  it('fill a temp data folder and print stats naming all five tables with the right counts', () => {
    const dataDir = path.join(tempDir(), 'data');
    const demo = tierdb(['--data-dir', dataDir, 'demo', '--rows', '2000', '--days', '20']);
    expect(demo.stderr).toBe('');
    expect(demo.status).toBe(0);
    const counts = demoRowCounts(2000);
    for (const table of DEMO_TABLES) {
      expect(demo.stdout).toMatch(new RegExp(`^${table}\\s+${counts[table].toLocaleString('en-US')}\\s`, 'm'));
    }

    const stats = tierdb(['--data-dir', dataDir, 'stats', '--json']);
    expect(stats.status).toBe(0);
    const parsed = JSON.parse(stats.stdout) as TierStats;
    const db = new Database(path.join(dataDir, 'hot.db'), { readonly: true });
    onTestFinished(() => {
      db.close();
    });
    expect(parsed.tables.map((t) => t.table).sort()).toEqual([...DEMO_TABLES].sort());
    for (const t of parsed.tables) {
      expect(t.hot.rows, t.table).toBe((db.prepare(`SELECT count(*) AS n FROM ${t.table}`).get() as { n: number }).n);
      expect(t.hot.rows + t.cold.rows, t.table).toBe(counts[t.table as DemoTable]);
    }

    const text = tierdb(['--data-dir', dataDir, 'stats']);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain('messages');
  });

  it('stats fails clearly when there is no hot database', () => {
    const dataDir = tempDir();
    const result = tierdb(['--data-dir', dataDir, 'stats']);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('hot.db does not exist');
    expect(existsSync(path.join(dataDir, 'hot.db'))).toBe(false);
  });

  it('demo rejects a bad --rows', () => {
    const result = tierdb(['--data-dir', tempDir(), 'demo', '--rows', 'many']);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('many');
  });
});
