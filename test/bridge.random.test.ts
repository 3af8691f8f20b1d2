/**
 * Randomized: rounds of inserts, updates, deletes, archive runs and random
 * queries, each answer compared with an oracle SQLite file holding the same
 * rows, never archived.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import registry from '../archive-registry.js';
import type { OrderBy, QueryOptions, Where, WhereOperators } from '../src/query/QueryOptions.js';
import { openTierStore } from '../src/store/openTierStore.js';
import { tempDir, testConfig } from './helpers.js';
import { oracleQuery, rng } from './oracleSql.js';
import { startS3Server } from './s3Server.js';

const DAY_S = 86_400;
const BIG = 7_000_000_000_000_000_000n;
const ROUNDS = 220;

/** The cold tier in the local folder, and in a bucket of an S3 server the test starts. */
const TIERS: { name: string; coldEnv: () => Promise<Record<string, string>>; rounds: number }[] = [
  { name: 'local folder', coldEnv: async () => ({}), rounds: ROUNDS },
  // The same rounds through the bucket's ColdStore (its cache and object reads): half as many, the bridge logic is shared.
  { name: 'S3 bucket', coldEnv: async () => (await startS3Server()).env(), rounds: ROUNDS / 2 },
];

describe.each(TIERS)('bridge, randomized against the oracle, cold tier in the $name', ({ coldEnv, rounds }) => {
  it(`${rounds} rounds of insert / update / delete / archive / query`, { timeout: 240_000 }, async () => {
    const dir = tempDir('tierdb-bridge-random-');
    const store = await openTierStore({ config: testConfig(dir, { ARCHIVE_BATCH_SIZE: '150', ...(await coldEnv()) }), registry });
    onTestFinished(() => store.close());
    const oraclePath = path.join(dir, 'oracle.db');
    await store.hot.raw.backup(oraclePath);
    const oracle = new Database(oraclePath);
    onTestFinished(() => {
      oracle.close();
    });
    oracle.defaultSafeIntegers(true);
    const both = (sql: string, ...params: unknown[]) => {
      store.hot.raw.prepare(sql).run(...params);
      oracle.prepare(sql).run(...params);
    };

    const r = rng(42);
    const int = (n: number) => Math.floor(r() * n);
    const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
    let now = Date.UTC(2026, 0, 1) / 1000;
    let nextTask = 1;
    let nextMsg = 0n;
    let archived = 0;
    let compared = 0;
    let coldAnswers = 0;

    const taskWhere = (): Record<string, WhereOperators> => {
      const w: Record<string, WhereOperators> = {};
      const n = int(4);
      for (let i = 0; i < n; i++) {
        const c = pick(['status', 'priority', 'created_at', 'id', 'payload', 'msg_id', 'updated_at']);
        const t = now - int(40 * DAY_S);
        if (c === 'status') w.status = pick([{ eq: pick(['a', 'b', 'c']) }, { ne: 'a' }, { in: ['a', 'c'] }, { in: [] }]);
        if (c === 'priority') w.priority = pick([{ gt: int(5) }, { lte: int(5) }, { gte: 2, lt: 4 }, { eq: 3 }]);
        if (c === 'created_at') w.created_at = pick([{ gte: t }, { lt: t }, { gte: t, lt: t + int(3 * DAY_S) }, { gt: t, lte: t + DAY_S }]);
        if (c === 'id') w.id = pick([{ gte: int(nextTask) }, { lt: int(nextTask) }, { in: [int(nextTask), int(nextTask), int(nextTask)] }, { eq: int(nextTask) }]);
        if (c === 'payload') w.payload = pick([{ isNull: true }, { isNull: false }, { like: pick(['x1%', '%2', 'X%']) }]);
        if (c === 'msg_id') w.msg_id = pick([{ isNull: true }, { gt: BIG + BigInt(int(Number(nextMsg) + 1)) }]);
        if (c === 'updated_at') w.updated_at = pick([{ isNull: true }, { gte: t }]);
      }
      return w;
    };
    const order = (cols: string[]): Record<string, 'asc' | 'desc'>[] =>
      Array.from({ length: int(3) }, () => ({ [pick(cols)]: pick(['asc', 'desc'] as const) }));

    for (let round = 0; round < rounds; round++) {
      now += int(10 * 3600);
      // Writes: inserts (mostly recent, some late-arriving), updates and deletes of hot rows.
      for (let i = int(12); i > 0; i--) {
        const created = now - (r() < 0.1 ? int(30 * DAY_S) : int(3 * DAY_S));
        both(
          `INSERT INTO task_queue (id, task_type, status, priority, msg_id, payload, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          nextTask++,
          pick(['send', 'fetch']),
          pick(['a', 'b', 'c']),
          int(6),
          r() < 0.3 ? null : BIG + nextMsg,
          r() < 0.2 ? null : `${pick(['x', 'X', 'y'])}${int(100)}`,
          created,
          r() < 0.3 ? null : created + int(600),
        );
        both(
          `INSERT INTO messages (msg_id, from_username, to_username, content, create_time, msg_type, chatroom) VALUES (?, ?, ?, ?, ?, ?, ?)`,
          BIG + nextMsg++ * 104_729n,
          'wxid_a',
          'wxid_b',
          r() < 0.2 ? null : `m${int(50)}`,
          created,
          pick([1, 3]),
          r() < 0.5 ? null : pick(['r1', 'r2']),
        );
      }
      // Only hot rows can change (a cold row is history).
      const hotId = () => store.hot.raw.prepare(`SELECT id FROM task_queue ORDER BY id LIMIT 1 OFFSET ?`).pluck().get(int(50));
      if (r() < 0.3) {
        const id = hotId();
        if (id !== undefined) both(`UPDATE task_queue SET status = 'c', priority = priority + 1 WHERE id = ?`, id);
      }
      if (r() < 0.2) {
        const victim = hotId();
        if (victim !== undefined) both(`DELETE FROM task_queue WHERE id = ?`, victim);
      }
      if (round % 9 === 8) {
        const report = await store.archiver.run({ now: now * 1000, tables: ['task_queue', 'messages'] });
        for (const t of report.tables) expect(t.error, t.table).toBeUndefined();
        archived += report.tables.reduce((a, t) => a + t.rowsMoved, 0);
      }

      // Reads.
      const tq: QueryOptions = { where: taskWhere(), orderBy: order(['created_at', 'priority', 'status', 'updated_at', 'id']) };
      if (r() < 0.7) tq.limit = int(40);
      if (r() < 0.3) tq.offset = int(20);
      if (r() < 0.3) tq.columns = ['id', 'status', 'created_at'];
      const explain = await store.bridge.explain('task_queue', tq);
      if (explain.coldFiles.length > 0) coldAnswers++;
      const label = `round ${round}: ${JSON.stringify(tq, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`;
      expect(await store.bridge.query('task_queue', tq), label).toStrictEqual(oracleQuery(oracle, 'task_queue', 'id', tq));
      compared++;

      const t = now - int(30 * DAY_S);
      const mq: QueryOptions = {
        where: pick<Where>([{}, { create_time: { gte: t, lt: t + int(5 * DAY_S) } }, { chatroom: { eq: 'r1' } }, { content: { like: 'm1%' } }, { msg_type: { in: [3] } }]),
        orderBy: pick<OrderBy>([[{ create_time: 'desc' }], [{ create_time: 'asc' }, { msg_id: 'desc' }], []]),
        limit: pick([undefined, 1, 10, 100]),
      };
      expect(await store.bridge.query('messages', mq), `round ${round} messages`).toStrictEqual(oracleQuery(oracle, 'messages', 'msg_id', mq));
      compared++;

      if (round % 5 === 0) {
        const sql = `SELECT status, count(*) AS n, sum(priority) AS s, min(created_at) AS lo FROM task_queue WHERE created_at >= ? GROUP BY status ORDER BY status`;
        expect(await store.bridge.sql(sql, [t]), `round ${round} sql`).toStrictEqual(oracle.prepare(sql).all(t));
        compared++;
      }
    }
    expect(archived).toBeGreaterThan(500);
    expect(coldAnswers).toBeGreaterThan(rounds / 4);
    expect(compared).toBeGreaterThan(2 * rounds);
  });
});
