import path from 'node:path';
import Database from 'better-sqlite3';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { RegistryError, TierError } from '../src/errors.js';
import { wechatPreset } from '../src/presets/wechat/wechatPreset.js';
import { messages } from '../src/presets/wechat/schema.js';
import { openTierStore } from '../src/store/openTierStore.js';
import { DAY_S, NOW_MS, NOW_S } from './archiveFixtures.js';
import { tempDir, testConfig } from './helpers.js';

const INT64_MAX = 2n ** 63n - 1n;
/** Beyond 2^53: neighbours differ by 1, which a double cannot tell apart. */
const BIG = 2n ** 62n;

const EVENTS_SQL = `CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  score REAL,
  payload BLOB,
  note TEXT DEFAULT 'none',
  tags,
  level INTEGER NOT NULL DEFAULT 0 CHECK (level >= 0)
)`;
const registry = [{ table: 'events', timeColumn: 'at', timeUnit: 'unix_s', hotDays: 7, appAssignsKeys: true }] as const;

/** A user's own database with one table and the user's registry. */
async function openUserStore(dataDir = tempDir()) {
  const raw = new Database(path.join(dataDir, 'hot.db'));
  raw.exec(EVENTS_SQL);
  raw.close();
  return openTierStore({ config: testConfig(dataDir), registry: [...registry] });
}

const tablesOf = (raw: Database.Database): string[] =>
  raw.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).pluck().all() as string[];

describe('a generic core', () => {
  it("a user's database opened with the user's registry gets only _tierdb_ tables: no messages, no task_queue", async () => {
    await using store = await openUserStore();
    const tables = tablesOf(store.hot.raw);
    expect(tables.filter((t) => !t.startsWith('_tierdb_'))).toEqual(['events']);
    expect(tables).not.toContain('messages');
    expect(tables).not.toContain('task_queue');
    expect(store.hot.preset).toBeUndefined();
  });

  it('appendMessages on a store without the message preset is a clear error, and creates nothing', async () => {
    await using store = await openUserStore();
    const error = await store.hot.appendMessages([{ msg_id: 1, from_username: 'a', to_username: 'b', create_time: NOW_S, msg_type: 1 }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TierError);
    expect((error as TierError).code).toBe('TIERDB_PRESET_MISSING');
    expect((error as Error).message).toMatch(/preset: wechatPreset.*store\.hot\.append/);
    expect(tablesOf(store.hot.raw)).not.toContain('messages');
  });

  it('openTierStore({ preset: wechatPreset }) creates the preset tables and its registry, and appendMessages works', async () => {
    await using store = await openTierStore({ config: testConfig(tempDir()), preset: wechatPreset });
    expect(store.tables.map((t) => t.table)).toEqual(['task_queue', 'messages', 'rule_logs', 'audit_logs', 'media_signatures']);
    expect(await store.hot.appendMessages([{ msg_id: 1, from_username: 'a', to_username: 'b', create_time: NOW_S, msg_type: 1 }])).toEqual({
      inserted: 1,
      duplicates: 0,
      rejected: [],
    });
  });

  it('migrations: false keeps the preset tables out even with the preset', async () => {
    await using store = await openTierStore({ config: testConfig(tempDir()), preset: wechatPreset, registry: [], migrations: false });
    expect(tablesOf(store.hot.raw).filter((t) => !t.startsWith('_tierdb_'))).toEqual([]);
  });
});

describe('store.hot.append on a table of the app', () => {
  it('stores valid rows with their values exact (64-bit as bigint, REAL, BLOB, defaults) and reports each bad row by index with the reason', async () => {
    await using store = await openUserStore();
    const rows: unknown[] = [
      { id: INT64_MAX, at: NOW_S, kind: 'click', score: 1.5, payload: new Uint8Array([1, 2, 3]), tags: 7 },
      { id: 2, at: NOW_S, kind: 'view' },
      { id: 3, at: NOW_S }, // kind is NOT NULL without a default
      { id: 4, at: NOW_S, kind: 'x', colour: 'red' }, // unknown column
      { id: 5, at: 1.5, kind: 'x' }, // REAL into INTEGER
      { id: 6, at: NOW_S, kind: 42 }, // number into TEXT
      { id: 7, at: NOW_S, kind: '\ud800' }, // lone surrogate
      { id: 9_007_199_254_740_993, at: NOW_S, kind: 'x' }, // a number that already lost precision
      { id: 2n ** 63n, at: NOW_S, kind: 'x' }, // beyond 64 bits
      { id: 10, at: NOW_S, kind: 'x', payload: 'text' }, // text into BLOB
      { id: 11, at: NOW_S, kind: 'x', score: 2n }, // bigint into REAL
      { id: 12, at: NOW_S, kind: 'x', level: -1 }, // CHECK fails in SQLite
      'not a row',
      { id: 13, at: NOW_S, kind: 'x', score: Number.NaN },
      { id: 14, at: true, kind: 'x' },
      { id: 15, at: NOW_S, kind: null },
    ];
    const result = await store.hot.append('events', rows);
    expect(result.inserted).toBe(2);
    expect(result.duplicates).toBe(0);
    expect(result.rejected.map((r) => r.index)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    const reason = (i: number) => result.rejected.find((r) => r.index === i)!.reason;
    expect(reason(2)).toMatch(/kind: is required/);
    expect(reason(3)).toMatch(/unknown column\(s\) colour/);
    expect(reason(4)).toMatch(/at \(INTEGER\): expected an integer.*1\.5/);
    expect(reason(5)).toMatch(/kind \(TEXT\): expected a string/);
    expect(reason(6)).toMatch(/lone surrogate/);
    expect(reason(7)).toMatch(/2\^53.*bigint/);
    expect(reason(8)).toMatch(/64-bit range/);
    expect(reason(9)).toMatch(/payload \(BLOB\): expected a Buffer/);
    expect(reason(10)).toMatch(/score \(REAL\): expected a number, got a bigint/);
    expect(reason(11)).toMatch(/CHECK constraint failed/);
    expect(reason(12)).toMatch(/expected a plain object/);
    expect(reason(13)).toMatch(/NaN/);
    expect(reason(14)).toMatch(/expected an integer.*boolean/);
    expect(reason(15)).toMatch(/kind: is NOT NULL, got null/);

    const stored = store.hot.raw.prepare('SELECT id, at, kind, score, payload, note, tags, typeof(tags) AS tags_type, level FROM events ORDER BY kind').safeIntegers(true).all();
    expect(stored).toEqual([
      { id: INT64_MAX, at: BigInt(NOW_S), kind: 'click', score: 1.5, payload: Buffer.from([1, 2, 3]), note: 'none', tags: 7n, tags_type: 'integer', level: 0n },
      { id: 2n, at: BigInt(NOW_S), kind: 'view', score: null, payload: null, note: 'none', tags: null, tags_type: 'null', level: 0n },
    ]);
  });

  it("onConflict 'ignore' counts keys already stored (or earlier in the call) as duplicates; 'error' (the default) rejects those rows by index with the reason and inserts the rest", async () => {
    await using store = await openUserStore();
    const row = (id: bigint, kind: string) => ({ id, at: NOW_S, kind });
    expect(await store.hot.append('events', [row(BIG, 'a'), row(BIG + 1n, 'b')])).toEqual({ inserted: 2, duplicates: 0, rejected: [] });
    expect(await store.hot.append('events', [row(BIG + 1n, 'again'), row(BIG + 2n, 'c'), row(BIG + 2n, 'c twice')], { onConflict: 'ignore' })).toEqual({
      inserted: 1,
      duplicates: 2,
      rejected: [],
    });
    const result = await store.hot.append('events', [row(BIG + 3n, 'd'), row(BIG, 'dup'), row(BIG + 4n, 'e'), row(BIG + 4n, 'e twice'), { id: 'x', at: NOW_S }]);
    expect(result).toMatchObject({ inserted: 2, duplicates: 0 });
    expect(result.rejected.map((r) => r.index)).toEqual([1, 3, 4]);
    expect(result.rejected[0]!.reason).toMatch(new RegExp(`id ${BIG} is already stored.*onConflict: 'error'`));
    expect(result.rejected[1]!.reason).toMatch(new RegExp(`id ${BIG + 4n} is already stored, hot or earlier in this call`));
    expect(result.rejected[2]!.reason).toMatch(/id \(INTEGER\): expected an integer/);
    // The stored rows were kept as they were; the new keys of the call were inserted.
    const kinds = store.hot.raw.prepare('SELECT id, kind FROM events ORDER BY id').safeIntegers(true).all();
    expect(kinds).toEqual([
      { id: BIG, kind: 'a' },
      { id: BIG + 1n, kind: 'b' },
      { id: BIG + 2n, kind: 'c' },
      { id: BIG + 3n, kind: 'd' },
      { id: BIG + 4n, kind: 'e' },
    ]);
    await expect(store.hot.append('events', [], { onConflict: 'replace' as never })).rejects.toThrow(/onConflict "replace" is invalid/);
    await expect(store.hot.append('nope', [])).rejects.toBeInstanceOf(RegistryError);
  });

  it('dedupes against the cold tier exactly like appendMessages: archived 64-bit keys are duplicates (ignore) or rejected (error), their neighbours are inserted', async () => {
    const dir = tempDir();
    await using store = await openUserStore(dir);
    const old = Array.from({ length: 10 }, (_, i) => ({ id: BIG + BigInt(2 * i), at: NOW_S - 20 * DAY_S + i, kind: 'old' }));
    const recent = Array.from({ length: 3 }, (_, i) => ({ id: BIG + 1000n + BigInt(i), at: NOW_S - 60 + i, kind: 'new' }));
    expect(await store.hot.append('events', [...old, ...recent])).toMatchObject({ inserted: 13 });
    const report = await store.archiver.run({ now: NOW_MS });
    expect(report.tables[0]!.rowsMoved).toBe(10);
    expect(store.hot.raw.prepare('SELECT count(*) FROM events').pluck().get()).toBe(3);

    const neighbours = [{ id: BIG + 1n, at: NOW_S - 20 * DAY_S, kind: 'n' }, { id: BIG + 17n, at: NOW_S - 20 * DAY_S, kind: 'n' }];
    expect(await store.hot.append('events', [...old, ...recent, ...neighbours], { onConflict: 'ignore' })).toEqual({ inserted: 2, duplicates: 13, rejected: [] });
    expect(await store.hot.append('events', [{ id: BIG + 100n, at: NOW_S, kind: 'x' }, old[4]!], { onConflict: 'error' })).toEqual({
      inserted: 1,
      duplicates: 0,
      rejected: [{ index: 1, reason: `id ${BIG + 8n} is already stored in the cold tier (onConflict: 'error')` }],
    });
    expect(store.hot.raw.prepare('SELECT count(*) FROM events WHERE id = ?').pluck().get(BIG + 8n)).toBe(0);

    // Each key once across the tiers, read through the bridge.
    const ids = (await store.bridge.sql('SELECT id FROM events ORDER BY id')).map((r) => r.id);
    expect(ids).toHaveLength(16);
    expect(new Set(ids.map(String)).size).toBe(16);
  });

  it('is refused on a store opened read-only', async () => {
    const dir = tempDir();
    await (await openUserStore(dir)).close();
    await using store = await openTierStore({ config: testConfig(dir), registry: [...registry], readonly: true });
    await expect(store.hot.append('events', [{ id: 1, at: NOW_S, kind: 'x' }])).rejects.toThrow(/read-only/);
  });
});

describe('64-bit ids through drizzle', () => {
  it('store.hot.db.select() returns msg_id 2^63-1 exact (bigint), other integer columns as numbers', async () => {
    await using store = await openTierStore({ config: testConfig(tempDir()), preset: wechatPreset });
    await store.hot.appendMessages([
      { msg_id: INT64_MAX, from_username: 'a', to_username: 'b', create_time: NOW_S, msg_type: 49 },
      { msg_id: -(2n ** 63n), from_username: 'a', to_username: 'b', create_time: NOW_S - 1, msg_type: 1 },
    ]);
    const rows = store.hot.db.select({ msgId: messages.msgId, createTime: messages.createTime, msgType: messages.msgType }).from(messages).orderBy(messages.createTime).all();
    expect(rows).toEqual([
      { msgId: -(2n ** 63n), createTime: NOW_S - 1, msgType: 1 },
      { msgId: INT64_MAX, createTime: NOW_S, msgType: 49 },
    ]);
    const [byId] = store.hot.db.select().from(messages).where(eq(messages.msgId, INT64_MAX)).all();
    expect(byId?.msgId).toBe(INT64_MAX);
    expect(typeof byId?.isChatroomMsg).toBe('number');
    // The relational query API and a transaction through drizzle share the same connection.
    const viaQuery = await store.hot.db.query.messages.findFirst({ where: eq(messages.msgId, INT64_MAX) });
    expect(viaQuery?.msgId).toBe(INT64_MAX);
    store.hot.db.transaction((tx) => {
      tx.update(messages).set({ content: 'edited' }).where(eq(messages.msgId, INT64_MAX)).run();
    });
    expect(store.hot.raw.prepare('SELECT content FROM messages WHERE msg_id = ?').pluck().get(INT64_MAX)).toBe('edited');
  });

  it("a user's drizzle schema types store.hot.db; its integer() columns stay numbers", async () => {
    const { sqliteTable, integer, text } = await import('drizzle-orm/sqlite-core');
    const { int64 } = await import('../src/hot/int64.js');
    const events = sqliteTable('events', { id: int64('id').primaryKey(), at: integer('at').notNull(), kind: text('kind').notNull() });
    const dataDir = tempDir();
    const raw = new Database(path.join(dataDir, 'hot.db'));
    raw.exec(EVENTS_SQL);
    raw.close();
    await using store = await openTierStore({ config: testConfig(dataDir), registry: [...registry], schema: { events } });
    await store.hot.append('events', [{ id: INT64_MAX, at: NOW_S, kind: 'k' }]);
    const row = await store.hot.db.query.events.findFirst();
    expect(row).toEqual({ id: INT64_MAX, at: NOW_S, kind: 'k' });
  });
});
