/**
 * The UnifiedQueryBridge against an oracle: the same rows, never archived,
 * queried with plain SQLite. One contract suite runs on all-hot, all-cold and
 * mixed data and must match the oracle row for row, with identical JS types.
 */
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import registry from '../archive-registry.js';
import { ArgumentError, ColdFileError, ReadOnlyError, TierError } from '../src/errors.js';
import type { QueryOptions, Row } from '../src/query/QueryOptions.js';
import { openTierStore, type TierStore } from '../src/store/openTierStore.js';
import { tempDir, testConfig } from './helpers.js';

const NOW = Date.UTC(2026, 2, 1, 12, 0, 0);
const NOW_S = Math.floor(NOW / 1000);
const DAY_S = 86_400;
const DAY_MS = 86_400_000;
/** Message ids beyond 2^53. */
const BIG = 6_000_000_000_000_000_000n;

const KEYS: Record<string, string> = {
  task_queue: 'id',
  messages: 'msg_id',
  rule_logs: 'id',
  audit_logs: 'id',
  media_signatures: 'id',
};

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Deterministic rows in every demo table, spread over the last months. */
function fill(raw: Database.Database, seed = 1, scale = 1): void {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  raw.transaction(() => {
    const msgIds: bigint[] = [];
    const m = raw.prepare(
      `INSERT INTO messages (msg_id, from_username, to_username, content, create_time, msg_type, is_chatroom_msg, chatroom, chatroom_sender, notify_type)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (let i = 0; i < 600 * scale; i++) {
      const id = BIG + BigInt(i) * 7919n + BigInt(Math.floor(r() * 1000));
      msgIds.push(id);
      const chatroom = i % 3 === 0 ? null : pick(['room-a@chatroom', 'room-b@chatroom']);
      m.run(
        id,
        pick(['wxid_alice', 'wxid_bob', 'wxid_carol']),
        pick(['wxid_dave', 'wxid_erin']),
        i % 9 === 0 ? null : `${pick(['Hello world', 'hello again', 'HELLO', 'bye', '你好', 'ok'])} #${i}`,
        NOW_S - Math.floor(r() * 60 * DAY_S),
        pick([1, 3, 49]),
        chatroom ? 1 : 0,
        chatroom,
        chatroom ? pick(['wxid_x', 'wxid_y']) : null,
        i % 4 === 0 ? null : i % 4,
      );
    }
    const t = raw.prepare(
      `INSERT INTO task_queue (task_type, status, priority, msg_id, payload, attempts, last_error, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (let i = 0; i < 800 * scale; i++) {
      const created = NOW_S - Math.floor(r() * 60 * DAY_S);
      t.run(
        pick(['send', 'fetch', 'Notify']),
        pick(['pending', 'done', 'failed']),
        i % 10,
        i % 4 === 0 ? null : pick(msgIds),
        i % 7 === 0 ? null : i % 2 ? `p${i}` : `P${i}`,
        i % 4,
        i % 11 === 0 ? 'timeout' : null,
        created,
        i % 5 === 0 ? null : created + 60,
      );
    }
    const l = raw.prepare(
      `INSERT INTO rule_logs (rule_id, rule_name, msg_id, matched, action, duration_ms, detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (let i = 0; i < 300 * scale; i++) {
      l.run(
        i % 6,
        `rule-${i % 6}`,
        i % 3 === 0 ? null : pick(msgIds),
        i % 2,
        i % 4 === 0 ? null : pick(['forward', 'drop', 'tag']),
        i % 8 === 0 ? null : Math.round(r() * 100_000) / 100 + 0.25,
        null,
        NOW_S - Math.floor(r() * 90 * DAY_S),
      );
    }
    const a = raw.prepare(`INSERT INTO audit_logs (actor, action, target, detail, ip, created_at) VALUES (?, ?, ?, ?, ?, ?)`);
    for (let i = 0; i < 200 * scale; i++) {
      a.run(
        pick(['admin', 'ops', 'bot']),
        pick(['login', 'export', 'erase']),
        i % 5 === 0 ? null : `target-${i % 17}`,
        null,
        `10.0.0.${i % 250}`,
        new Date(NOW - Math.floor(r() * 100 * DAY_MS)).toISOString(),
      );
    }
    const s = raw.prepare(
      `INSERT INTO media_signatures (msg_id, media_type, sha256, phash, size_bytes, width, height, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (let i = 0; i < 200 * scale; i++) {
      const phash = i % 5 === 0 ? null : Buffer.from(Array.from({ length: 8 }, () => Math.floor(r() * 256)));
      s.run(
        i % 6 === 0 ? null : pick(msgIds),
        pick(['image', 'video']),
        `${i.toString(16).padStart(8, '0')}${'ab'.repeat(28)}`,
        phash,
        Math.floor(r() * 5_000_000),
        i % 7 === 0 ? null : 640,
        i % 7 === 0 ? null : 480,
        NOW - Math.floor(r() * 150 * DAY_MS),
      );
    }
  })();
}

/** The oracle's answer to a bridge.query, in plain SQLite. */
function oracleQuery(db: Database.Database, table: string, q: QueryOptions): Row[] {
  const key = KEYS[table]!;
  const parts: string[] = [];
  const params: unknown[] = [];
  const q1 = (c: string) => `"${c}"`;
  for (const [col, spec] of Object.entries(q.where ?? {})) {
    if (spec === null) {
      parts.push(`${q1(col)} IS NULL`);
      continue;
    }
    if (typeof spec !== 'object' || Buffer.isBuffer(spec) || spec instanceof Date) {
      parts.push(`${q1(col)} = ?`);
      params.push(spec);
      continue;
    }
    for (const [op, v] of Object.entries(spec)) {
      if (op === 'isNull') parts.push(`${q1(col)} IS ${v ? '' : 'NOT '}NULL`);
      else if (op === 'in') {
        const list = v as unknown[];
        parts.push(list.length === 0 ? '0' : `${q1(col)} IN (${list.map(() => '?').join(', ')})`);
        params.push(...list);
      } else if (op === 'like') {
        parts.push(`${q1(col)} LIKE ?`);
        params.push(v);
      } else if ((op === 'eq' || op === 'ne') && v === null) parts.push(`${q1(col)} IS ${op === 'eq' ? '' : 'NOT '}NULL`);
      else {
        parts.push(`${q1(col)} ${{ eq: '=', ne: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' }[op]} ?`);
        params.push(v);
      }
    }
  }
  const order = (Array.isArray(q.orderBy) ? q.orderBy : q.orderBy ? [q.orderBy] : []).flatMap((o) => Object.entries(o));
  if (!order.some(([c]) => c === key)) order.push([key, 'asc']);
  const cols = q.columns ? q.columns.map(q1).join(', ') : '*';
  let sql = `SELECT ${cols} FROM ${q1(table)}${parts.length ? ` WHERE ${parts.join(' AND ')}` : ''} ORDER BY ${order.map(([c, d]) => `${q1(c)} ${d}`).join(', ')}`;
  if (q.limit !== undefined || q.offset !== undefined) {
    sql += ' LIMIT ? OFFSET ?';
    params.push(q.limit ?? -1, q.offset ?? 0);
  }
  return db.prepare(sql).safeIntegers(true).all(...params) as Row[];
}

function oracleSql(db: Database.Database, sql: string, params: unknown[] = []): Row[] {
  // DuckDB's $1 is a plain ? for better-sqlite3 (each is used once, in order, here).
  return db.prepare(sql.replace(/\$\d+/g, '?')).safeIntegers(true).all(...params) as Row[];
}

interface Fixture {
  dir: string;
  store: TierStore;
  oracle: Database.Database;
  someMsgId: bigint;
}

type Scenario = 'all-hot' | 'all-cold' | 'mixed';

/** A store filled with the same rows as its oracle, archived per scenario. */
async function makeFixture(scenario: Scenario, env: Record<string, string> = {}): Promise<Fixture> {
  const dir = mkdtempSync(path.join(tmpdir(), `tierdb-bridge-${scenario}-`));
  const store = await openTierStore({ config: testConfig(dir, env), registry });
  fill(store.hot.raw);
  const oraclePath = path.join(dir, 'oracle.db');
  await store.hot.raw.backup(oraclePath);
  const oracle = new Database(oraclePath);
  oracle.defaultSafeIntegers(true);
  if (scenario === 'all-cold') {
    const report = await store.archiver.run({ now: NOW + 400 * DAY_MS });
    for (const t of report.tables) expect([t.table, t.error, t.refused, t.abandoned]).toEqual([t.table, undefined, [], 0]);
  }
  if (scenario === 'mixed') {
    await store.archiver.run({ now: NOW });
    // Rows both hot and cold (re-ingested, edited): the hot row must win.
    const old = oracle.prepare(`SELECT * FROM messages WHERE create_time < ? ORDER BY msg_id LIMIT 3`).all(NOW_S - 20 * DAY_S) as Row[];
    const insert = store.hot.raw.prepare(
      `INSERT INTO messages (msg_id, from_username, to_username, content, create_time, msg_type, is_chatroom_msg) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const row of old) {
      insert.run(row.msg_id, row.from_username, row.to_username, 'edited', row.create_time, row.msg_type, 0n);
      oracle
        .prepare(`UPDATE messages SET content = 'edited', is_chatroom_msg = 0, chatroom = NULL, chatroom_sender = NULL, notify_type = NULL WHERE msg_id = ?`)
        .run(row.msg_id);
    }
    const oldTask = oracle.prepare(`SELECT * FROM task_queue WHERE created_at < ? ORDER BY id LIMIT 1`).get(NOW_S - 20 * DAY_S) as Row;
    store.hot.raw
      .prepare(`INSERT INTO task_queue (id, task_type, status, priority, created_at) VALUES (?, 'send', 'retried', 9, ?)`)
      .run(oldTask.id, NOW_S - 30);
    oracle
      .prepare(`UPDATE task_queue SET task_type = 'send', status = 'retried', priority = 9, msg_id = NULL, payload = NULL, attempts = 0, last_error = NULL, created_at = ?, updated_at = NULL WHERE id = ?`)
      .run(NOW_S - 30, oldTask.id);
  }
  const someMsgId = oracle.prepare(`SELECT msg_id FROM messages ORDER BY create_time LIMIT 1 OFFSET 7`).pluck().get() as bigint;
  return { dir, store, oracle, someMsgId };
}

async function closeFixture(f: Fixture | undefined): Promise<void> {
  if (!f) return;
  await f.store.close();
  f.oracle.close();
  rmSync(f.dir, { recursive: true, force: true });
}

function hotCount(f: Fixture, table: string): number {
  return Number(f.store.hot.raw.prepare(`SELECT count(*) FROM ${table}`).pluck().get());
}

function liveFiles(store: TierStore, table: string): { path: string; partition: string }[] {
  return store.hot.raw.prepare(`SELECT path, partition FROM _tierdb_files WHERE table_name = ? AND state = 'live' ORDER BY path`).all(table) as {
    path: string;
    partition: string;
  }[];
}

const DAY10 = Math.floor(Date.UTC(2026, 0, 10) / 1000);

/** The contract: every operator, order, limit/offset, projection, 64-bit keys, blobs, NULLs. */
function queryCases(someMsgId: bigint): [string, QueryOptions][] {
  return [
    ['task_queue', {}],
    ['task_queue', { where: { status: 'done' }, orderBy: [{ created_at: 'desc' }], limit: 10 }],
    ['task_queue', { where: { priority: { gt: 1, lte: 3 } }, orderBy: [{ priority: 'desc' }, { created_at: 'asc' }], limit: 25, offset: 5 }],
    ['task_queue', { where: { payload: { isNull: true } }, orderBy: [{ created_at: 'asc' }] }],
    ['task_queue', { where: { payload: { ne: 'p5' }, last_error: { isNull: false } } }],
    ['task_queue', { where: { status: { in: ['done', 'failed'] }, task_type: { ne: 'send' } }, columns: ['id', 'status', 'task_type'] }],
    ['task_queue', { where: { payload: { like: 'p1%' } }, orderBy: [{ payload: 'asc' }] }],
    ['task_queue', { where: { status: { in: [] } } }],
    ['task_queue', { where: { created_at: { gte: DAY10, lt: DAY10 + DAY_S } }, orderBy: [{ created_at: 'desc' }] }],
    ['task_queue', { where: { id: { gte: 100, lt: 140 } } }],
    ['task_queue', { where: { updated_at: null }, orderBy: [{ updated_at: 'desc' }, { created_at: 'desc' }], limit: 7 }],
    ['task_queue', { orderBy: [{ updated_at: 'asc' }], limit: 12, offset: 3 }],
    ['task_queue', { orderBy: [{ created_at: 'desc' }], limit: 5 }],
    ['task_queue', { orderBy: [{ created_at: 'asc' }], limit: 5 }],
    ['task_queue', { orderBy: [{ created_at: 'desc' }], offset: 790 }],
    ['task_queue', { where: { msg_id: { isNull: false } }, orderBy: [{ msg_id: 'desc' }], limit: 20 }],
    ['messages', { where: { msg_id: someMsgId } }],
    ['messages', { where: { msg_id: { gt: someMsgId } }, orderBy: [{ msg_id: 'asc' }], limit: 3 }],
    ['messages', { where: { chatroom: 'room-a@chatroom' }, orderBy: [{ create_time: 'desc' }, { msg_id: 'asc' }], limit: 30 }],
    ['messages', { where: { content: { like: '%hello%' } }, columns: ['msg_id', 'content', 'create_time'] }],
    ['messages', { where: { content: 'edited' } }],
    ['messages', { where: { notify_type: { in: [1, 3] }, is_chatroom_msg: 1 }, orderBy: [{ create_time: 'asc' }] }],
    ['messages', { where: { create_time: { lt: NOW_S - 50 * DAY_S } }, orderBy: [{ create_time: 'desc' }], limit: 10 }],
    ['messages', { where: { content: { like: '你%' } } }],
    ['rule_logs', { where: { duration_ms: { gt: 500.5 } }, orderBy: [{ duration_ms: 'desc' }], limit: 15 }],
    ['rule_logs', { where: { duration_ms: { isNull: true }, matched: 1 } }],
    ['rule_logs', { orderBy: [{ duration_ms: 'asc' }], limit: 10 }],
    ['audit_logs', { where: { created_at: { gte: '2025-12-10', lt: '2025-12-20' } }, orderBy: [{ created_at: 'asc' }] }],
    ['audit_logs', { where: { actor: 'ops', target: { isNull: false } }, orderBy: [{ created_at: 'desc' }], limit: 9 }],
    ['media_signatures', {}],
    ['media_signatures', { where: { phash: { isNull: false }, width: { eq: null } } }],
    ['media_signatures', { where: { created_at: { lt: NOW - 100 * DAY_MS } }, orderBy: [{ phash: 'asc' }], limit: 20 }],
  ];
}

function sqlCases(someMsgId: bigint): [string, unknown[]][] {
  return [
    ['SELECT status, count(*) AS n, sum(priority) AS s, min(created_at) AS lo, max(created_at) AS hi FROM task_queue GROUP BY status ORDER BY status', []],
    ['SELECT count(*) AS n FROM messages WHERE create_time >= ? AND chatroom = ?', [NOW_S - 20 * DAY_S, 'room-a@chatroom']],
    [
      'SELECT t.id AS task_id, m.msg_id AS msg_id, m.content AS content, t.priority AS priority FROM task_queue t JOIN messages m ON m.msg_id = t.msg_id WHERE t.priority < 3 ORDER BY t.id',
      [],
    ],
    ['SELECT * FROM media_signatures ORDER BY id', []],
    ['SELECT rule_name, count(*) AS n, max(duration_ms) AS mx, min(duration_ms) AS mn, count(duration_ms) AS nd FROM rule_logs GROUP BY rule_name ORDER BY rule_name', []],
    ['SELECT msg_id, content FROM messages WHERE msg_id = $1', [someMsgId]],
    ['SELECT actor, count(*) AS n FROM audit_logs WHERE created_at >= ? GROUP BY actor ORDER BY actor', ['2026-01-01']],
    ['WITH x AS (SELECT chatroom, count(*) AS n FROM messages GROUP BY chatroom) SELECT * FROM x ORDER BY chatroom', []],
    ['SELECT avg(priority) AS a, count(*) AS n, sum(attempts) AS s FROM task_queue', []],
    ['SELECT * FROM task_queue WHERE created_at BETWEEN ? AND ? ORDER BY created_at DESC, id LIMIT 20', [DAY10, DAY10 + 5 * DAY_S]],
    ['SELECT m.chatroom, count(DISTINCT t.id) AS tasks FROM messages m LEFT JOIN task_queue t ON t.msg_id = m.msg_id GROUP BY m.chatroom ORDER BY m.chatroom', []],
  ];
}

for (const scenario of ['all-hot', 'all-cold', 'mixed'] as const) {
  describe(`bridge contract (${scenario})`, () => {
    let f: Fixture;
    beforeAll(async () => {
      f = await makeFixture(scenario);
    });
    afterAll(() => closeFixture(f));

    it('really is the scenario it claims', () => {
      for (const table of Object.keys(KEYS)) {
        const files = liveFiles(f.store, table).length;
        if (scenario === 'all-hot') expect(files, table).toBe(0);
        if (scenario === 'all-cold') {
          expect(hotCount(f, table), table).toBe(0);
          expect(files, table).toBeGreaterThan(0);
        }
        if (scenario === 'mixed') {
          expect(hotCount(f, table), table).toBeGreaterThan(0);
          expect(files, table).toBeGreaterThan(0);
        }
      }
    });

    it('bridge.query matches the oracle row for row, with identical JS types', async () => {
      for (const [table, q] of queryCases(f.someMsgId)) {
        const got = await f.store.bridge.query(table, q);
        const want = oracleQuery(f.oracle, table, q);
        expect(got, `${table} ${JSON.stringify(q, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`).toStrictEqual(want);
      }
    });

    it('bridge.sql (aggregates, joins, params) matches the oracle', async () => {
      for (const [sql, params] of sqlCases(f.someMsgId)) {
        expect(await f.store.bridge.sql(sql, params), sql).toStrictEqual(oracleSql(f.oracle, sql, params));
      }
    });

    it('keeps the value contract: bigint integers (exact beyond 2^53), number reals, Buffer blobs, null', async () => {
      const [m] = await f.store.bridge.query('messages', { where: { msg_id: f.someMsgId } });
      expect(m!.msg_id).toBe(f.someMsgId);
      expect(f.someMsgId > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
      expect(typeof m!.create_time).toBe('bigint');
      const media = await f.store.bridge.query('media_signatures', { where: { id: { in: [1, 2] } } });
      expect(media[0]!.phash).toBeNull();
      expect(Buffer.isBuffer(media[1]!.phash)).toBe(true);
      const [log] = await f.store.bridge.query('rule_logs', { where: { duration_ms: { isNull: false } }, limit: 1 });
      expect(typeof log!.duration_ms).toBe('number');
    });
  });
}

describe('bridge plan, safety and errors (mixed data)', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await makeFixture('mixed');
  });
  afterAll(() => closeFixture(f));

  it('explain: a one-day query lists only that day’s files; a recent LIMIT query lists none', async () => {
    const day = await f.store.bridge.explain('task_queue', { where: { created_at: { gte: DAY10, lt: DAY10 + DAY_S } } });
    expect(day.coldFiles.length).toBeGreaterThan(0);
    for (const file of day.coldFiles) expect(file).toContain('year=2026/month=01/day=10/');
    expect(day.hot).toBe(false);
    const recent = await f.store.bridge.explain('task_queue', { orderBy: [{ created_at: 'desc' }], limit: 20 });
    expect(recent).toEqual({ hot: true, coldFiles: [], cache: false });
    const all = await f.store.bridge.explain('task_queue', {});
    expect(all.coldFiles).toEqual(liveFiles(f.store, 'task_queue').map((x) => x.path));
    // Month-partitioned ISO table.
    const audit = await f.store.bridge.explain('audit_logs', { where: { created_at: { gte: '2025-12-10', lt: '2025-12-20' } } });
    expect(audit.coldFiles.length).toBeGreaterThan(0);
    for (const file of audit.coldFiles) expect(file).toContain('year=2025/month=12/');
  });

  it('answers the recent LIMIT query from hot alone, and reads cold when hot has too few', async () => {
    const recent = await f.store.bridge.query('messages', { orderBy: [{ create_time: 'desc' }], limit: 3 });
    expect(recent).toStrictEqual(oracleQuery(f.oracle, 'messages', { orderBy: [{ create_time: 'desc' }], limit: 3 }));
    const hotN = hotCount(f, 'messages');
    const q: QueryOptions = { orderBy: [{ create_time: 'desc' }], limit: hotN + 5 };
    expect((await f.store.bridge.explain('messages', q)).coldFiles.length).toBeGreaterThan(0);
    expect(await f.store.bridge.query('messages', q)).toStrictEqual(oracleQuery(f.oracle, 'messages', q));
  });

  it('orders by several keys of one orderBy object in the order they are written, as the oracle does', async () => {
    for (const orderBy of [[{ status: 'desc', priority: 'asc' }], [{ priority: 'asc', status: 'desc' }], [{ status: 'asc' }, { created_at: 'desc', id: 'desc' }]] as QueryOptions['orderBy'][]) {
      const q: QueryOptions = { orderBy, limit: 40 };
      expect(await f.store.bridge.query('task_queue', q)).toStrictEqual(oracleQuery(f.oracle, 'task_queue', q));
    }
  });

  it('refuses a bad where, order or table with an ArgumentError naming it', async () => {
    const b = f.store.bridge;
    await expect(b.query('task_queue', { where: { nope: 1 } })).rejects.toThrow(ArgumentError);
    await expect(b.query('task_queue', { where: { nope: 1 } })).rejects.toThrow(/nope/);
    await expect(b.query('task_queue', { where: { status: { between: [1, 2] } as never } })).rejects.toThrow(/between/);
    await expect(b.query('task_queue', { where: { status: { between: [1, 2] } as never } })).rejects.toThrow(ArgumentError);
    await expect(b.query('task_queue', { where: { status: 5 } })).rejects.toThrow(/status/);
    await expect(b.query('task_queue', { where: { priority: 'high' } })).rejects.toThrow(/priority/);
    await expect(b.query('task_queue', { orderBy: [{ created: 'desc' }] })).rejects.toThrow(/created/);
    await expect(b.query('task_queue', { orderBy: [{ created_at: 'down' as never }] })).rejects.toThrow(/down/);
    await expect(b.query('task_queue', { orderBy: [{ created_at: 'desc' }, 'id' as never] })).rejects.toThrow(/orderBy\[1\] must be an object/);
    await expect(b.query('task_queue', { where: { priority: [1] as never } })).rejects.toThrow(/priority holds INTEGER values.*an array/);
    await expect(b.query('task_queue', { limit: -1 })).rejects.toThrow(/limit/);
    await expect(b.query('task_queue', { columns: ['id', 'zzz'] })).rejects.toThrow(/zzz/);
    await expect(b.query('no_such_table')).rejects.toThrow(/no_such_table/);
    await expect(b.query('no_such_table')).rejects.toThrow(ArgumentError);
    await expect(b.explain('task_queue', { where: { status: { like: 5 as never } } })).rejects.toThrow(/like/);
  });

  it('refuses every statement that is not a read, naming it', async () => {
    const cases: [string, RegExp][] = [
      ['INSERT INTO task_queue (id) VALUES (1)', /INSERT/],
      ['UPDATE task_queue SET status = 1', /UPDATE/],
      ['DELETE FROM task_queue', /DELETE/],
      ['CREATE TABLE x (a INT)', /CREATE/],
      ['DROP TABLE task_queue', /DROP/],
      ['ALTER TABLE task_queue ADD COLUMN z INT', /ALTER/],
      ["COPY task_queue TO 'x.csv'", /COPY/],
      ["ATTACH 'x.db' AS x", /ATTACH/],
      ['DETACH x', /DETACH/],
      ['INSTALL sqlite', /INSTALL/],
      ['LOAD sqlite', /LOAD/],
      ['PRAGMA version', /PRAGMA/],
      ['SET threads = 1', /SET/],
      ["EXPORT DATABASE 'x'", /EXPORT/],
      ["IMPORT DATABASE 'x'", /IMPORT/],
      ['CALL pragma_version()', /CALL/],
      ['CHECKPOINT', /CHECKPOINT/],
      ['VACUUM', /VACUUM/],
      ['  -- a comment\n /* another */ delete from task_queue', /DELETE/],
      ['WITH a AS (SELECT 1 AS id) INSERT INTO task_queue SELECT * FROM a', /INSERT/],
      ['EXPLAIN ANALYZE DELETE FROM task_queue', /DELETE/],
      ['SELECT 1; DROP TABLE task_queue', /DROP/],
    ];
    for (const [sql, name] of cases) {
      const error = await f.store.bridge.sql(sql).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, sql).toBeInstanceOf(ReadOnlyError);
      expect((error as Error).message, sql).toMatch(name);
    }
    expect(hotCount(f, 'task_queue')).toBeGreaterThan(0);
    await expect(f.store.bridge.sql('SELECT 1 AS a; SELECT 2 AS b')).rejects.toThrow(ArgumentError);
    const explained = await f.store.bridge.sql('EXPLAIN SELECT count(*) FROM task_queue');
    expect(explained.length).toBeGreaterThan(0);
  });

  it('reads only the listed cold files: /etc/passwd and files outside the cold folder are refused', async () => {
    await expect(f.store.bridge.sql(`SELECT * FROM read_csv('/etc/passwd')`)).rejects.toThrow(TierError);
    await expect(f.store.bridge.sql(`SELECT * FROM read_csv('/etc/passwd')`)).rejects.toThrow(/cold files|Permission/);
    await expect(f.store.bridge.sql(`SELECT * FROM read_text('/etc/hostname')`)).rejects.toThrow(/Permission/);
    const outside = path.join(f.dir, 'outside');
    mkdirSync(outside, { recursive: true });
    const some = liveFiles(f.store, 'task_queue')[0]!.path;
    copyFileSync(path.join(f.store.config.coldDir, ...some.split('/')), path.join(outside, 'x.parquet'));
    await expect(f.store.bridge.sql(`SELECT count(*) FROM read_parquet('${path.join(outside, 'x.parquet')}')`)).rejects.toThrow(/Permission/);
    await expect(f.store.bridge.sql(`SELECT count(*) FROM read_parquet('${f.store.config.coldDir}/../outside/x.parquet')`)).rejects.toThrow(
      /Permission/,
    );
    await expect(f.store.bridge.sql(`SELECT current_setting('enable_external_access') AS v`)).resolves.toEqual([{ v: false }]);
    await expect(f.store.bridge.sql(`SELECT * FROM task_queue WHERE id = ? OR status = ?`, [1, "x' OR '1'='1"])).resolves.toBeDefined();
  });

  it('binds parameters, never splices them', async () => {
    const evil = "done' OR '1'='1";
    expect(await f.store.bridge.sql('SELECT count(*) AS n FROM task_queue WHERE status = ?', [evil])).toEqual([{ n: 0n }]);
    await expect(f.store.bridge.sql('SELECT count(*) AS n FROM task_queue WHERE status = ?', [])).rejects.toThrow(/parameter/);
  });

  it('caches the cold part by manifest version', async () => {
    const q: QueryOptions = { where: { created_at: { lt: NOW_S - 20 * DAY_S } }, orderBy: [{ created_at: 'desc' }], limit: 10 };
    expect((await f.store.bridge.explain('task_queue', q)).cache).toBe(false);
    const first = await f.store.bridge.query('task_queue', q);
    expect((await f.store.bridge.explain('task_queue', q)).cache).toBe(true);
    expect(await f.store.bridge.query('task_queue', q)).toStrictEqual(first);
    expect(first).toStrictEqual(oracleQuery(f.oracle, 'task_queue', q));
    // A manifest change (another archive run) makes a new version: the old entry no longer applies.
    f.store.hot.raw.prepare(`UPDATE _tierdb_meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'manifest_version'`).run();
    expect((await f.store.bridge.explain('task_queue', q)).cache).toBe(false);
  });
});

describe('bridge cold file errors, schema evolution, close', () => {
  async function small(): Promise<{ store: TierStore; dir: string }> {
    const dir = tempDir('tierdb-bridge-');
    const store = await openTierStore({ config: testConfig(dir), registry });
    onTestFinished(() => store.close());
    fill(store.hot.raw, 7, 0.25);
    await store.archiver.run({ now: NOW, tables: ['task_queue'] });
    return { store, dir };
  }

  it('explain prunes by key range when keys grow with time', async () => {
    const dir = tempDir('tierdb-bridge-');
    const store = await openTierStore({ config: testConfig(dir), registry });
    onTestFinished(() => store.close());
    const insert = store.hot.raw.prepare(`INSERT INTO task_queue (id, task_type, created_at) VALUES (?, 'send', ?)`);
    const start = NOW_S - 40 * DAY_S;
    store.hot.raw.transaction(() => {
      for (let id = 1; id <= 960; id++) insert.run(id, start + id * 3600);
    })();
    await store.archiver.run({ now: NOW, tables: ['task_queue'] });
    const all = await store.bridge.explain('task_queue', {});
    expect(all.coldFiles.length).toBeGreaterThan(20);
    const one = await store.bridge.explain('task_queue', { where: { id: { gte: 100, lte: 110 } } });
    expect(one.coldFiles.length).toBeGreaterThanOrEqual(1);
    expect(one.coldFiles.length).toBeLessThanOrEqual(2);
    const listed = await store.bridge.explain('task_queue', { where: { id: { in: [5, 6] } } });
    expect(listed.coldFiles).toHaveLength(1);
    expect(await store.bridge.query('task_queue', { where: { id: { gte: 100, lte: 110 } }, columns: ['id'] })).toEqual(
      Array.from({ length: 11 }, (_, i) => ({ id: BigInt(100 + i) })),
    );
  });

  it('answers stay exact while the archiver moves rows (manifest and hot rows read under one snapshot)', async () => {
    const dir = tempDir('tierdb-bridge-');
    const store = await openTierStore({ config: testConfig(dir, { ARCHIVE_BATCH_SIZE: '40' }), registry });
    onTestFinished(() => store.close());
    fill(store.hot.raw, 3, 0.5);
    const total = BigInt(hotCount({ store } as Fixture, 'task_queue'));
    const ids = (await store.bridge.query('task_queue', { columns: ['id'] })).map((row) => row.id);
    let done = false;
    const run = store.archiver.run({ now: NOW, tables: ['task_queue'] }).finally(() => {
      done = true;
    });
    let rounds = 0;
    while (!done) {
      const [counted] = await store.bridge.sql('SELECT count(*) AS n, count(DISTINCT id) AS d FROM task_queue');
      expect(counted).toEqual({ n: total, d: total });
      expect((await store.bridge.query('task_queue', { columns: ['id'] })).map((row) => row.id)).toEqual(ids);
      rounds++;
    }
    const report = await run;
    expect(report.tables[0]!.rowsMoved).toBeGreaterThan(100);
    expect(rounds).toBeGreaterThan(1);
    expect((await store.bridge.query('task_queue', { columns: ['id'] })).map((row) => row.id)).toEqual(ids);
  });

  it('a corrupt live file gives a ColdFileError naming it and pointing at tierdb validate', async () => {
    const { store } = await small();
    const files = liveFiles(store, 'task_queue');
    const victim = files[Math.floor(files.length / 2)]!;
    const abs = path.join(store.config.coldDir, ...victim.path.split('/'));
    writeFileSync(abs, 'this is not a parquet file at all');
    const day = Math.floor(Date.parse(`${victim.partition}T00:00:00Z`) / 1000);
    const error = await store.bridge.query('task_queue', { where: { created_at: { gte: day, lt: day + DAY_S } } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ColdFileError);
    expect((error as ColdFileError).message).toContain(victim.path);
    expect((error as ColdFileError).message).toContain('tierdb validate');
    expect((error as ColdFileError).path).toBe(abs);
    await expect(store.bridge.sql('SELECT count(*) FROM task_queue')).rejects.toThrow(ColdFileError);
    // Other days still answer.
    const other = files.find((x) => x.partition !== victim.partition)!;
    const otherDay = Math.floor(Date.parse(`${other.partition}T00:00:00Z`) / 1000);
    await expect(store.bridge.query('task_queue', { where: { created_at: { gte: otherDay, lt: otherDay + DAY_S } } })).resolves.toBeDefined();
  });

  it('a missing live file gives a ColdFileError naming it', async () => {
    const { store } = await small();
    const victim = liveFiles(store, 'task_queue')[0]!;
    unlinkSync(path.join(store.config.coldDir, ...victim.path.split('/')));
    await expect(store.bridge.query('task_queue', {})).rejects.toThrow(ColdFileError);
    await expect(store.bridge.query('task_queue', {})).rejects.toThrow(victim.path);
  });

  it('a retired file is not read; a file outside the manifest does not exist for readers', async () => {
    const { store } = await small();
    const before = (await store.bridge.query('task_queue', {})).length;
    const victim = store.hot.raw.prepare(`SELECT id, path, rows FROM _tierdb_files WHERE table_name = 'task_queue' AND state = 'live' LIMIT 1`).get() as {
      id: number;
      path: string;
      rows: number;
    };
    store.hot.raw.prepare(`UPDATE _tierdb_files SET state = 'retired', retired_at_ms = ? WHERE id = ?`).run(Date.now(), victim.id);
    store.hot.raw.prepare(`UPDATE _tierdb_meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'manifest_version'`).run();
    expect((await store.bridge.query('task_queue', {})).length).toBe(before - victim.rows);
    expect((await store.bridge.explain('task_queue', {})).coldFiles).not.toContain(victim.path);
    // A stray file in the tree is never globbed.
    const stray = path.join(store.config.coldDir, 'task_queue', 'year=2026', 'month=01', 'day=10', 'part-stray.parquet');
    mkdirSync(path.dirname(stray), { recursive: true });
    writeFileSync(stray, 'garbage');
    expect((await store.bridge.query('task_queue', {})).length).toBe(before - victim.rows);
  });

  it('a column added after some days were archived reads NULL from the older files', async () => {
    const { store } = await small();
    store.hot.raw.exec(`ALTER TABLE task_queue ADD COLUMN note TEXT`);
    store.hot.raw.exec(`UPDATE task_queue SET note = 'n' || id WHERE id % 2 = 0`);
    const rows = await store.bridge.query('task_queue', { orderBy: [{ created_at: 'asc' }] });
    expect(rows[0]!.note).toBeNull();
    expect(rows.some((r) => typeof r.note === 'string')).toBe(true);
    const noted = await store.bridge.query('task_queue', { where: { note: { isNull: false } } });
    expect(noted.length).toBe(Number(store.hot.raw.prepare(`SELECT count(*) FROM task_queue WHERE note IS NOT NULL`).pluck().get()));
    const counts = await store.bridge.sql(`SELECT count(*) AS n, count(note) AS with_note FROM task_queue`);
    expect(counts[0]!.n).toBe(BigInt(rows.length));
    // After archiving again, files with and without the column are read together.
    await store.archiver.run({ now: NOW + 5 * DAY_MS, tables: ['task_queue'] });
    expect((await store.bridge.query('task_queue', { where: { note: { isNull: false } } })).length).toBe(noted.length);
  });

  it('applies DUCKDB_MEMORY_LIMIT to the bridge’s DuckDB', async () => {
    const store = await openTierStore({ config: testConfig(tempDir('tierdb-bridge-'), { DUCKDB_MEMORY_LIMIT: '300MB' }), registry });
    onTestFinished(() => store.close());
    const [row] = await store.bridge.sql(`SELECT current_setting('memory_limit') AS m`);
    expect(String(row!.m)).toMatch(/^286(\.\d+)? MiB$/);
  });

  it('store.close() closes the bridge and its DuckDB instance', async () => {
    const { store } = await small();
    await store.bridge.query('task_queue', { limit: 1 });
    await store.bridge.sql('SELECT count(*) FROM task_queue');
    await store.close();
    await expect(store.bridge.query('task_queue', {})).rejects.toThrow(/closed/);
    await store.close();
  });
});
