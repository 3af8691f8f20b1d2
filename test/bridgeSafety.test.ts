/**
 * Issue 7, query side: answers that must not depend on how the bridge
 * narrows its work (column pruning in bridge.sql), on which tier holds a row
 * (LIKE, ISO times with offsets), and inputs that must fail clearly.
 */

import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import registry from '../archive-registry.js';
import { ERROR_CODES, SqlError } from '../src/errors.js';
import type { Row } from '../src/query/QueryOptions.js';
import { openTierStore, type TierStore } from '../src/store/openTierStore.js';
import { tempDir, testConfig } from './helpers.js';

const NOW = Date.UTC(2026, 2, 1, 12, 0, 0);
const NOW_S = NOW / 1000;
const DAY_S = 86_400;


async function openStore(env: Record<string, string> = {}): Promise<TierStore> {
  const store = await openTierStore({ config: testConfig(tempDir('tierdb-safety-'), env), registry });
  onTestFinished(() => store.close());
  return store;
}

/** messages, task_queue and audit_logs over the 60 days before NOW, then archived: old rows cold, recent rows hot. */
async function mixedStore(): Promise<TierStore> {
  const store = await openStore();
  const raw = store.hot.raw;
  raw.transaction(() => {
    const m = raw.prepare(
      `INSERT INTO messages (msg_id, from_username, to_username, content, create_time, msg_type, chatroom) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    const t = raw.prepare(`INSERT INTO task_queue (task_type, status, msg_id, created_at) VALUES (?, ?, ?, ?)`);
    const a = raw.prepare(`INSERT INTO audit_logs (actor, action, target, created_at) VALUES (?, ?, ?, ?)`);
    for (let i = 0; i < 120; i++) {
      const time = NOW_S - Math.floor((i * 60 * DAY_S) / 120) - 1;
      m.run(1000n + BigInt(i), `wxid_${i % 3}`, 'wxid_me', `text ${i}`, time, i % 2 ? 1 : 3, i % 4 ? 'room@chatroom' : null);
      t.run('send', i % 2 ? 'done' : 'failed', i % 3 ? 1000n + BigInt(i) : null, time);
      a.run('admin', 'login', `target-${i}`, new Date(time * 1000).toISOString());
    }
  })();
  await store.archiver.run({ now: NOW });
  for (const table of ['messages', 'task_queue', 'audit_logs']) {
    expect(raw.prepare(`SELECT count(*) FROM _tierdb_files WHERE table_name = ? AND state = 'live'`).pluck().get(table), table).toBeGreaterThan(0);
    expect(raw.prepare(`SELECT count(*) FROM ${table}`).pluck().get(), table).toBeGreaterThan(0);
  }
  return store;
}

function sortedKeys(rows: Row[]): string[][] {
  return rows.map((r) => Object.keys(r));
}

describe('bridge.sql column pruning never changes an answer', () => {
  it('whole-row forms see every column: m.*, TABLE, FROM-first, to_json(m), DESCRIBE, SUMMARIZE, COLUMNS(regex)', async () => {
    const store = await mixedStore();
    const messages = await store.bridge.query('messages', {});
    const columns = Object.keys(messages[0]!);
    expect(columns.length).toBeGreaterThan(8);

    expect(await store.bridge.sql('SELECT m.* FROM messages m ORDER BY m.msg_id')).toStrictEqual(messages);
    expect(await store.bridge.sql('FROM messages ORDER BY msg_id')).toStrictEqual(messages);
    expect(await store.bridge.sql('TABLE audit_logs')).toHaveLength((await store.bridge.query('audit_logs', {})).length);
    expect(sortedKeys(await store.bridge.sql('TABLE audit_logs'))[0]).toEqual(Object.keys((await store.bridge.query('audit_logs', { limit: 1 }))[0]!));

    const json = await store.bridge.sql('SELECT to_json(m) AS j FROM messages m ORDER BY m.msg_id LIMIT 3');
    expect(Object.keys(JSON.parse(String(json[0]!.j)) as object)).toEqual(columns);
    const struct = await store.bridge.sql('SELECT m AS r FROM messages AS m ORDER BY msg_id LIMIT 1');
    expect(Object.keys(struct[0]!.r as object)).toEqual(columns);

    expect((await store.bridge.sql('DESCRIBE messages')).map((r) => r.column_name)).toEqual(columns);
    expect((await store.bridge.sql('SUMMARIZE messages')).map((r) => r.column_name)).toEqual(columns);

    const created = await store.bridge.sql(`SELECT COLUMNS('create_.+') FROM messages ORDER BY msg_id`);
    expect(created).toStrictEqual(messages.map((r) => ({ create_time: r.create_time })));
  });

  it('a NATURAL join joins on every common column, as if nothing were pruned', async () => {
    const store = await mixedStore();
    const [natural] = await store.bridge.sql('SELECT count(*) AS n FROM task_queue NATURAL JOIN messages');
    const [explicit] = await store.bridge.sql('SELECT count(*) AS n FROM task_queue t JOIN messages m ON t.msg_id = m.msg_id');
    expect(explicit!.n).toBeGreaterThan(0n);
    expect(natural).toEqual(explicit);
  });

  it('copies hot rows only for tables the statement reads, not for a name inside a string literal', async () => {
    const store = await mixedStore();
    // A TEXT column holding a BLOB: materializing audit_logs would fail with a MixedTypeError.
    store.hot.raw.prepare(`INSERT INTO audit_logs (actor, action, ip, created_at) VALUES ('x', 'y', X'00', ?)`).run(new Date(NOW).toISOString());
    await expect(store.bridge.sql('SELECT count(ip) AS n FROM audit_logs')).rejects.toThrow(/audit_logs\.ip/);
    const [row] = await store.bridge.sql(`SELECT count(*) AS n FROM messages WHERE content <> 'audit_logs' -- audit_logs`);
    expect(row!.n).toBe(120n);
    // A table read by name through a table function still counts.
    await expect(store.bridge.sql(`SELECT count(*) AS n FROM query_table('audit_logs')`)).rejects.toThrow(/audit_logs/);
  });

  it('prunes what the parse allows: an aggregate over one column still answers exactly', async () => {
    const store = await mixedStore();
    const all = await store.bridge.query('messages', {});
    const [row] = await store.bridge.sql('SELECT count(*) AS n, count(chatroom) AS c, max(Create_Time) AS hi FROM messages');
    expect(row).toEqual({
      n: BigInt(all.length),
      c: BigInt(all.filter((r) => r.chatroom !== null).length),
      hi: all.map((r) => r.create_time as bigint).reduce((a, b) => (a > b ? a : b)),
    });
  });

  it('a statement that does not name the key still lets a hot row shadow its cold copy; one naming no column counts every row', async () => {
    const store = await mixedStore();
    const raw = store.hot.raw;
    // Without a key both hot and cold, the key is not read at all: the answers must not change either way.
    const groups = async () => store.bridge.sql('SELECT msg_type, count(*) AS n FROM messages GROUP BY 1 ORDER BY 1');
    const byType = (rows: Row[]) => {
      const n = new Map<bigint, bigint>();
      for (const r of rows) n.set(r.msg_type as bigint, (n.get(r.msg_type as bigint) ?? 0n) + 1n);
      return [...n].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([msg_type, c]) => ({ msg_type, n: c }));
    };
    expect(await groups()).toEqual(byType(await store.bridge.query('messages', {})));
    // A cold key written again to SQLite (as a restore or an app bypassing dedupe would): hot wins.
    const coldKey = BigInt(raw.prepare(`SELECT max_key FROM _tierdb_files WHERE table_name = 'messages' AND state = 'live' LIMIT 1`).safeIntegers(true).pluck().get() as bigint | string);
    expect(raw.prepare('SELECT count(*) FROM messages WHERE msg_id = ?').pluck().get(coldKey)).toBe(0);
    raw.prepare(`INSERT INTO messages (msg_id, from_username, to_username, content, create_time, msg_type) VALUES (?, 'wxid_x', 'wxid_me', 'again', ?, 77)`).run(coldKey, NOW_S - 60);
    const all = await store.bridge.query('messages', {});
    expect(all.filter((r) => r.msg_id === coldKey)).toHaveLength(1);
    expect(await groups()).toEqual(byType(all));
    expect((await groups()).find((g) => g.msg_type === 77n)).toEqual({ msg_type: 77n, n: 1n });
    expect(await store.bridge.sql('SELECT count(*) AS n FROM messages')).toEqual([{ n: BigInt(all.length) }]);
  });
});


describe('like means the same on both tiers: SQLite LIKE, case-insensitive for ASCII letters only', () => {
  const WORDS = ['Éclair', 'éclair', 'Straße', 'STRASSE', 'strasse', 'İstanbul', 'istanbul', 'ISTANBUL', '😀 smile', '😃 grin', 'Hello', 'hELLO', 'help'];
  const PATTERNS = ['é%', 'É%', '_clair', 'straße', 'STRASSE', 'strasse', 'i%', 'İ%', '😀%', '_ smile', 'hello', 'HEL%', '%L_'];
  const OLD = NOW_S - 50 * DAY_S;
  const RECENT = NOW_S - 60;

  /** The chosen semantics, from SQLite itself. */
  function expected(pattern: string): string[] {
    const db = new Database(':memory:');
    try {
      return WORDS.filter((w) => db.prepare('SELECT ? LIKE ?').pluck().get(w, pattern) === 1);
    } finally {
      db.close();
    }
  }

  it('matches é/É, ß, Turkish İ, emoji and ASCII alike on hot-only, cold-only and mixed data', async () => {
    const store = await openStore();
    const insert = store.hot.raw.prepare(
      `INSERT INTO messages (msg_id, from_username, to_username, content, create_time, msg_type) VALUES (?, 'a', 'b', ?, ?, 1)`,
    );
    WORDS.forEach((w, i) => {
      insert.run(BigInt(i + 1), w, OLD);
      insert.run(BigInt(i + 101), w, RECENT);
    });
    await store.archiver.run({ now: NOW });
    expect(store.hot.raw.prepare('SELECT count(*) FROM messages').pluck().get()).toBe(WORDS.length);
    const scopes = {
      hot: { create_time: { gte: RECENT } },
      cold: { create_time: { lte: OLD } },
      mixed: {},
    };
    for (const pattern of PATTERNS) {
      const want = expected(pattern);
      for (const [scope, where] of Object.entries(scopes)) {
        const rows = await store.bridge.query('messages', { where: { ...where, content: { like: pattern } }, columns: ['content', 'create_time'] });
        const got = rows.map((r) => r.content as string);
        const times = scope === 'mixed' ? 2 : 1;
        expect([...got].sort(), `${scope} like ${pattern}`).toEqual(want.flatMap((w) => Array<string>(times).fill(w)).sort());
      }
    }
    const cold = await store.bridge.explain('messages', { where: { ...scopes.cold, content: { like: 'é%' } } });
    expect([cold.hot, cold.coldFiles.length > 0]).toEqual([false, true]);
    // The example of the issue: 'é%' finds neither tier's "Éclair".
    expect(expected('é%')).toEqual(['éclair']);
  });
});

describe('ISO time columns are compared as instants on every tier', () => {
  /** What an instant comparison must select, computed in JS. */
  function pick(rows: { id: bigint; at: string }[], test: (ms: number) => boolean): bigint[] {
    return rows.filter((r) => test(Date.parse(/(Z|[+-]\d\d:\d\d)$/.test(r.at) ? r.at : `${r.at.replace(' ', 'T')}${r.at.length > 10 ? 'Z' : ''}`))).map((r) => r.id);
  }

  async function auditStore(values: string[]): Promise<{ store: TierStore; rows: { id: bigint; at: string }[] }> {
    const store = await openStore();
    const insert = store.hot.raw.prepare(`INSERT INTO audit_logs (actor, action, created_at) VALUES ('a', 'b', ?)`);
    const rows = values.map((at) => ({ id: BigInt(insert.run(at).lastInsertRowid), at }));
    return { store, rows };
  }

  const FIVE_OCT = Date.parse('2026-10-05T00:00:00Z');
  const THREE_AM = Date.parse('2026-10-05T03:00:00Z');
  const HOT = [
    '2026-10-04T22:00:00-05:00', // 2026-10-05T03:00Z
    '2026-10-05T04:00:00+01:00', // 2026-10-05T03:00Z
    '2026-10-05 03:00:00',
    '2026-10-05T03:00:00.000Z',
    '2026-10-05T02:00:00Z',
    '2026-10-04T23:30:00Z',
    '2026-10-05T09:00:00+14:00', // 2026-10-04T19:00Z
    '2026-10-04T20:00:00-10:00', // 2026-10-05T06:00Z
    '2026-10-05',
    '2026-10-06T00:30:00+02:00', // 2026-10-05T22:30Z
  ];

  it('hot rows with offsets: gte/gt/lt/lte/eq/ne/in mean the instant, filter values with an offset too', async () => {
    const { store, rows } = await auditStore(HOT);
    const ids = async (where: Record<string, unknown>) =>
      (await store.bridge.query('audit_logs', { where: { created_at: where }, columns: ['id'] })).map((r) => r.id as bigint).sort((a, b) => Number(a - b));
    expect(await ids({ gte: '2026-10-05' })).toEqual(pick(rows, (ms) => ms >= FIVE_OCT));
    expect(await ids({ gte: '2026-10-05' })).toContain(rows[0]!.id);
    expect(await ids({ lt: '2026-10-05' })).toEqual(pick(rows, (ms) => ms < FIVE_OCT));
    expect(await ids({ gte: new Date(FIVE_OCT) })).toEqual(pick(rows, (ms) => ms >= FIVE_OCT));
    expect(await ids({ eq: '2026-10-04T22:00:00-05:00' })).toEqual(pick(rows, (ms) => ms === THREE_AM));
    expect(await ids({ eq: '2026-10-04T22:00:00-05:00' })).toHaveLength(4);
    expect(await ids({ gt: '2026-10-05T03:00:00Z', lte: '2026-10-05T22:30:00Z' })).toEqual(pick(rows, (ms) => ms > THREE_AM && ms <= THREE_AM + 19.5 * 3_600_000));
    expect(await ids({ ne: '2026-10-05T03:00Z' })).toEqual(pick(rows, (ms) => ms !== THREE_AM));
    expect(await ids({ in: ['2026-10-05T03:00:00+00:00', '2026-10-04T19:00:00Z'] })).toEqual(
      pick(rows, (ms) => ms === THREE_AM || ms === Date.parse('2026-10-04T19:00:00Z')),
    );
    // The CLI's --since / --until go through the same where.
    await expect(store.bridge.query('audit_logs', { where: { created_at: { gte: 'yesterday' } } })).rejects.toThrow(/"yesterday" is not an ISO-8601 time/);
  });

  it('mixed data: cold UTC rows and hot rows with offsets, filtered and ordered hot-first with a limit', async () => {
    const store = await openStore();
    const insert = store.hot.raw.prepare(`INSERT INTO audit_logs (actor, action, created_at) VALUES ('a', 'b', ?)`);
    const rows: { id: bigint; at: string }[] = [];
    const add = (at: string) => rows.push({ id: BigInt(insert.run(at).lastInsertRowid), at });
    for (let d = 1; d <= 30; d++) add(`2026-09-${String(d).padStart(2, '0')}T${d % 2 ? '23:30:00Z' : '01:00:00'}`);
    for (const at of HOT) add(at);
    add('2026-10-01T01:00:00+05:00'); // text in October, instant 2026-09-30T20:00Z
    add('2026-10-01T00:00:00+00:00');
    await store.archiver.run({ now: Date.parse('2026-11-15T00:00:00Z') });
    const cold = store.hot.raw.prepare(`SELECT count(*) FROM _tierdb_files WHERE table_name = 'audit_logs' AND state = 'live'`).pluck().get();
    expect(cold).toBeGreaterThan(0);
    expect(store.hot.raw.prepare(`SELECT count(*) FROM audit_logs`).pluck().get()).toBe(HOT.length + 2);

    const ids = async (where: Record<string, unknown>, extra: object = {}) =>
      (await store.bridge.query('audit_logs', { where: { created_at: where }, columns: ['id'], ...extra })).map((r) => r.id as bigint);
    const sorted = (xs: bigint[]) => [...xs].sort((a, b) => Number(a - b));
    const OCT1 = Date.parse('2026-10-01T00:00:00Z');
    expect(sorted(await ids({ lt: '2026-10-01' }))).toEqual(pick(rows, (ms) => ms < OCT1));
    expect(sorted(await ids({ gte: '2026-09-30T12:00:00Z', lt: '2026-10-05' }))).toEqual(
      pick(rows, (ms) => ms >= Date.parse('2026-09-30T12:00:00Z') && ms < FIVE_OCT),
    );
    expect(sorted(await ids({ gte: '2026-09-30T19:00:00-05:00' }))).toEqual(pick(rows, (ms) => ms >= Date.parse('2026-10-01T00:00:00Z')));

    // Order: by the stored text (UTC text sorts by instant), then key; the limit takes the first rows of that order.
    const inRange = rows.filter((r) => pick([r], (ms) => ms >= Date.parse('2026-09-29T00:00:00Z')).length === 1);
    const byText = [...inRange].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : Number(a.id - b.id)));
    for (const limit of [1, 3, 5, 40]) {
      expect(await ids({ gte: '2026-09-29' }, { orderBy: [{ created_at: 'asc' }], limit })).toEqual(byText.slice(0, limit).map((r) => r.id));
      expect(await ids({ gte: '2026-09-29' }, { orderBy: [{ created_at: 'desc' }], limit })).toEqual(
        [...byText].reverse().slice(0, limit).map((r) => r.id),
      );
    }
    const [counted] = await store.bridge.sql('SELECT count(*) AS n FROM audit_logs');
    expect(counted!.n).toBe(BigInt(rows.length));
  });
});

describe('inputs that used to give a stack trace or a wrong answer', () => {
  it('where in: a list of 40,000 values works on both tiers', async () => {
    const store = await mixedStore();
    const ids = Array.from({ length: 40_000 }, (_, i) => 1000n + BigInt(i) * 7n);
    const want = (await store.bridge.query('messages', { columns: ['msg_id'] })).map((r) => r.msg_id as bigint).filter((id) => (id - 1000n) % 7n === 0n);
    expect(want.length).toBeGreaterThan(10);
    const got = await store.bridge.query('messages', { where: { msg_id: { in: ids } }, columns: ['msg_id'] });
    expect(got.map((r) => r.msg_id)).toEqual(want);
    const plan = await store.bridge.explain('messages', { where: { msg_id: { in: ids } } });
    expect([plan.hot, plan.coldFiles.length > 0]).toEqual([true, true]);
    const texts = Array.from({ length: 40_000 }, (_, i) => `text ${i}`);
    expect(await store.bridge.query('messages', { where: { content: { in: texts } }, columns: ['msg_id'] })).toHaveLength(120);
    const times = Array.from({ length: 40_000 }, (_, i) => new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString());
    await expect(store.bridge.query('audit_logs', { where: { created_at: { in: times } } })).resolves.toBeDefined();
  });

  it('NaN is refused, naming it, in where and in bridge.sql parameters', async () => {
    const store = await openStore();
    await expect(store.bridge.query('rule_logs', { where: { duration_ms: { gt: Number.NaN } } })).rejects.toThrow(/where\.duration_ms\.gt: NaN cannot be compared/);
    await expect(store.bridge.query('rule_logs', { where: { duration_ms: { in: [1, Number.NaN] } } })).rejects.toThrow(/where\.duration_ms\.in\[1\]: NaN/);
    await expect(store.bridge.sql('SELECT count(*) FROM rule_logs WHERE duration_ms > ?', [Number.NaN])).rejects.toThrow(/parameter 1: NaN cannot be bound/);
  });

  it('PIVOT with an IN list works; without one it is refused, saying how to write it', async () => {
    const store = await mixedStore();
    expect(await store.bridge.sql(`PIVOT task_queue ON status IN ('done', 'failed') USING count(*) GROUP BY task_type`)).toEqual([
      { task_type: 'send', done: 60n, failed: 60n },
    ]);
    await expect(store.bridge.sql('PIVOT task_queue ON status USING count(*) GROUP BY task_type')).rejects.toThrow(/PIVOT without an IN list.*IN \(/);
  });

  it('the read-only check reads comments as DuckDB does: nested block comments, a line comment ended by a bare CR', async () => {
    const store = await openStore();
    for (const sql of [
      '/* /* */ SELECT 1 */ PRAGMA version',
      '/* /* */ SELECT 1 */ DELETE FROM task_queue',
      '-- x\rDELETE FROM task_queue',
      'SELECT 1; -- x\rDELETE FROM task_queue',
    ]) {
      await expect(store.bridge.sql(sql), JSON.stringify(sql)).rejects.toThrow(/read-only: (PRAGMA|DELETE) statements are refused/);
    }
    expect(await store.bridge.sql('SELECT 1 AS one /* a /* nested */ comment */ -- x\r')).toEqual([{ one: 1 }]);
  });

  it('a column renamed, or dropped and added again with another type, after rows were archived: a SchemaDriftError naming it', async () => {
    const store = await mixedStore();
    const recent = { create_time: { gte: NOW_S - DAY_S } };
    const before = await store.bridge.query('messages', { where: recent });
    store.hot.raw.exec('ALTER TABLE messages RENAME COLUMN content TO body');
    await expect(store.bridge.query('messages', {})).rejects.toMatchObject({ code: 'TIERDB_SCHEMA_DRIFT' });
    await expect(store.bridge.query('messages', {})).rejects.toThrow(/messages: cold file .* holds column content, which the hot table no longer has/);
    await expect(store.bridge.sql('SELECT count(*) AS n FROM messages')).rejects.toThrow(/column content/);
    // A query that reads no old file still answers.
    expect((await store.bridge.query('messages', { where: recent })).map((r) => r.body)).toEqual(before.map((r) => r.content));

    store.hot.raw.exec('ALTER TABLE audit_logs DROP COLUMN target');
    store.hot.raw.exec('ALTER TABLE audit_logs ADD COLUMN target INTEGER');
    await expect(store.bridge.query('audit_logs', {})).rejects.toThrow(/audit_logs\.target is INTEGER in the hot table but TEXT in cold file/);
    await expect(store.bridge.sql('SELECT count(*) AS n FROM audit_logs')).rejects.toThrow(/audit_logs\.target/);
  });
});

describe('errors', () => {
  it('a failing bridge.sql statement keeps its SQL text and parameters', async () => {
    const store = await openTierStore({ config: testConfig(tempDir()), registry });
    try {
      const sql = 'SELECT no_such_column FROM task_queue WHERE id > ?';
      const error = await store.bridge.sql(sql, [5]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SqlError);
      expect(error).toMatchObject({ code: 'TIERDB_SQL', sql, params: [5] });
      expect(ERROR_CODES[(error as SqlError).code]).toMatch(/bridge failed to run/);
    } finally {
      await store.close();
    }
  });
});
