import path from 'node:path';
import Database from 'better-sqlite3';
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it, onTestFinished } from 'vitest';
import { HotStore } from '../src/hot/HotStore.js';
import { wechatPreset } from '../src/presets/wechat/wechatPreset.js';
import { messages } from '../src/presets/wechat/schema.js';
import { tempDir } from './helpers.js';

/** The message preset (appendMessages needs it); `false` keeps its tables out. */
function openHot(file: string, migrations?: false) {
  const hot = HotStore.open({ path: file, preset: wechatPreset, ...(migrations === false ? { migrations } : {}) });
  onTestFinished(() => hot.close());
  return hot;
}

function schemaOf(raw: Database.Database): unknown[] {
  return raw.prepare('SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name').all();
}

function countRows(raw: Database.Database, table: string): number {
  return (raw.prepare(`SELECT count(*) AS n FROM "${table}"`).get() as { n: number }).n;
}

describe('HotStore migrations', () => {
  it('are idempotent: a second open applies nothing', () => {
    const file = path.join(tempDir(), 'hot.db');
    const first = openHot(file);
    const before = {
      tierdb: countRows(first.raw, '_tierdb_migrations'),
      app: countRows(first.raw, '__drizzle_migrations'),
      schema: schemaOf(first.raw),
      schemaVersion: first.raw.pragma('schema_version', { simple: true }),
    };
    expect(before.tierdb).toBeGreaterThan(0);
    expect(before.app).toBeGreaterThan(0);
    first.close();

    const second = openHot(file);
    expect({
      tierdb: countRows(second.raw, '_tierdb_migrations'),
      app: countRows(second.raw, '__drizzle_migrations'),
      schema: schemaOf(second.raw),
      schemaVersion: second.raw.pragma('schema_version', { simple: true }),
    }).toEqual(before);
  });

  it('creates the demo tables and tierdb tables', () => {
    const hot = openHot(path.join(tempDir(), 'hot.db'));
    const tables = (hot.raw.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table'`).all() as { name: string }[]).map((r) => r.name);
    expect(tables).toEqual(
      expect.arrayContaining(['messages', 'task_queue', 'rule_logs', 'audit_logs', 'media_signatures', '_tierdb_files', '_tierdb_runs', '_tierdb_meta']),
    );
  });

  it('sets WAL mode and synchronous=NORMAL', () => {
    const hot = openHot(path.join(tempDir(), 'hot.db'));
    expect(hot.raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(hot.raw.pragma('synchronous', { simple: true })).toBe(1);
    expect(hot.raw.pragma('busy_timeout', { simple: true })).toBeGreaterThan(0);
  });
});

describe('adopting an existing app database (migrations: false)', () => {
  it("creates only _tierdb_ tables and leaves the app's schema and rows alone", () => {
    const file = path.join(tempDir(), 'forward.db');
    const app = new Database(file);
    app.exec(`
      CREATE TABLE forward_messages (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, body TEXT);
      CREATE INDEX forward_messages_ts ON forward_messages (ts);
      CREATE VIEW recent AS SELECT * FROM forward_messages WHERE ts > 0;
      INSERT INTO forward_messages (ts, body) VALUES (1700000000, 'hello'), (1700000100, '你好');
    `);
    const appSchema = schemaOf(app);
    const appRows = app.prepare('SELECT * FROM forward_messages ORDER BY id').all();
    app.close();

    const hot = openHot(file, false);
    const after = schemaOf(hot.raw) as { name: string }[];
    const added = after.filter((e) => !appSchema.some((b) => (b as { name: string }).name === e.name)).map((e) => e.name);
    expect(added.length).toBeGreaterThan(0);
    for (const name of added) expect(name).toMatch(/^(_tierdb_|sqlite_)/);
    expect(added).toContain('_tierdb_files');
    expect(added).not.toContain('messages');
    expect(added).not.toContain('__drizzle_migrations');
    expect(after.filter((e) => appSchema.some((b) => (b as { name: string }).name === e.name))).toEqual(appSchema);
    expect(hot.raw.prepare('SELECT * FROM forward_messages ORDER BY id').all()).toEqual(appRows);

    // Opening again changes nothing.
    const version = hot.raw.pragma('schema_version', { simple: true });
    hot.close();
    const again = openHot(file, false);
    expect(again.raw.pragma('schema_version', { simple: true })).toBe(version);
  });
});

describe('64-bit msg_id', () => {
  const ids = [7_000_000_000_000_000_123n, 9_223_372_036_854_775_807n, 2n ** 53n + 1n];

  it('round-trips exactly through the messages table', async () => {
    const hot = openHot(path.join(tempDir(), 'hot.db'));
    const result = await hot.appendMessages(
      ids.map((id, i) => ({ msg_id: i === 1 ? id.toString() : id, from_username: 'wxid_a', to_username: 'wxid_b', create_time: 1_700_000_000 + i, msg_type: 1 })),
    );
    expect(result).toEqual({ inserted: 3, duplicates: 0, rejected: [] });
    const stored = hot.raw.prepare('SELECT msg_id FROM messages ORDER BY create_time').safeIntegers(true).all() as { msg_id: bigint }[];
    expect(stored.map((r) => r.msg_id)).toEqual(ids);
    // The same rows again are duplicates, found by exact 64-bit key.
    const again = await hot.appendMessages(ids.map((id) => ({ msg_id: id, from_username: 'x', to_username: 'y', create_time: 1_700_000_000, msg_type: 1 })));
    expect(again).toMatchObject({ inserted: 0, duplicates: 3 });
  });

  it('rejects a number beyond 2^53 that has already lost precision', async () => {
    const hot = openHot(path.join(tempDir(), 'hot.db'));
    const result = await hot.appendMessages([{ msg_id: 7_000_000_000_000_000_123, from_username: 'a', to_username: 'b', create_time: 1_700_000_000, msg_type: 1 }]);
    expect(result.inserted).toBe(0);
    expect(result.rejected[0]?.reason).toMatch(/msg_id.*2\^53/);
  });

  // store.hot.db reads with safe integers: an int64 column is an exact bigint on both sides of 2^53
  // (it used to throw TIERDB_INT64_LOSSY beyond 2^53); CAST AS TEXT still reads it exactly.
  it('drizzle reads: exact below and beyond 2^53, exact through CAST AS TEXT', async () => {
    const hot = openHot(path.join(tempDir(), 'hot.db'));
    const small = 9_007_199_254_740_991n;
    await hot.appendMessages([
      { msg_id: small, from_username: 'a', to_username: 'b', create_time: 1_700_000_000, msg_type: 1 },
      { msg_id: ids[0], from_username: 'a', to_username: 'b', create_time: 1_700_000_001, msg_type: 1 },
    ]);
    const [row] = hot.db.select({ msgId: messages.msgId }).from(messages).where(eq(messages.createTime, 1_700_000_000)).all();
    expect(row?.msgId).toBe(small);
    expect(hot.db.select({ msgId: messages.msgId }).from(messages).orderBy(messages.createTime).all()).toEqual([{ msgId: small }, { msgId: ids[0] }]);
    const exact = hot.db.select({ msgId: sql<string>`CAST(${messages.msgId} AS TEXT)` }).from(messages).where(eq(messages.createTime, 1_700_000_001)).all();
    expect(BigInt(exact[0]!.msgId)).toBe(ids[0]);
  });
});
