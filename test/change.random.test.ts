/**
 * Randomized: rounds of inserts, store.update / store.delete / store.erase with
 * random filters (rows hot and cold alike), archive runs, compaction and random
 * queries; every answer compared with an oracle SQLite file that holds the same
 * rows and gets the same changes as plain SQL, never archived. 0 differences.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import registry from '../archive-registry.js';
import type { QueryOptions, WhereOperators } from '../src/query/QueryOptions.js';
import { openTierStore } from '../src/store/openTierStore.js';
import { tempDir, testConfig } from './helpers.js';
import { oracleQuery, oracleWhere, rng } from './oracleSql.js';

const DAY_S = 86_400;
const ROUNDS = 300;

describe('changes, randomized against the oracle', () => {
  it(`${ROUNDS} rounds of insert / update / delete / erase / archive / compact / query`, { timeout: 400_000 }, async () => {
    const dir = tempDir('tierdb-change-random-');
    const store = await openTierStore({ config: testConfig(dir, { ARCHIVE_BATCH_SIZE: '150', TIERDB_ERASE_GRACE_SECONDS: '0', HOT_DAYS_TASK: '3' }), registry });
    onTestFinished(() => store.close());
    const oraclePath = path.join(dir, 'oracle.db');
    await store.hot.raw.backup(oraclePath);
    const oracle = new Database(oraclePath);
    onTestFinished(() => {
      oracle.close();
    });
    oracle.defaultSafeIntegers(true);

    const r = rng(7);
    const int = (n: number) => Math.floor(r() * n);
    const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
    let now = Date.UTC(2026, 0, 1) / 1000;
    let nextTask = 1;
    const counts = { deleted: 0, updated: 0, erased: 0, coldChanged: 0, refused: 0, compacted: 0, compared: 0 };

    const where = (): Record<string, WhereOperators> => {
      const w: Record<string, WhereOperators> = {};
      for (let i = 1 + int(2); i > 0; i--) {
        const c = pick(['status', 'priority', 'created_at', 'id', 'payload']);
        const t = now - int(30 * DAY_S);
        if (c === 'status') w.status = pick([{ eq: pick(['a', 'b', 'c', 'u1']) }, { in: ['a', 'u2'] }]);
        if (c === 'priority') w.priority = pick([{ eq: int(6) }, { gte: 4 }, { lt: 1 }]);
        if (c === 'created_at') w.created_at = pick([{ gte: t, lt: t + int(2 * DAY_S) }, { lt: t - 10 * DAY_S }]);
        if (c === 'id') w.id = pick([{ in: [int(nextTask), int(nextTask), int(nextTask)] }, { eq: int(nextTask) }, { gte: int(nextTask), lt: int(nextTask) + 20 }]);
        if (c === 'payload') w.payload = pick([{ like: pick(['x1%', '%2']) }, { isNull: true }]);
      }
      return w;
    };
    const total = (): number => Number(oracle.prepare('SELECT count(*) FROM task_queue').pluck().get());
    const matching = (w: Record<string, WhereOperators>): number => {
      const f = oracleWhere(w);
      return Number(oracle.prepare(`SELECT count(*) FROM task_queue${f.sql}`).pluck().get(...f.params));
    };

    for (let round = 0; round < ROUNDS; round++) {
      now += int(8 * 3600);
      for (let i = int(10); i > 0; i--) {
        const created = now - (r() < 0.1 ? int(20 * DAY_S) : int(2 * DAY_S));
        const sql = `INSERT INTO task_queue (id, task_type, status, priority, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)`;
        const values = [nextTask++, 'send', pick(['a', 'b', 'c']), int(6), r() < 0.2 ? null : `${pick(['x', 'y'])}${int(30)}`, created];
        store.hot.raw.prepare(sql).run(...values);
        oracle.prepare(sql).run(...values);
      }
      const w = where();
      const n = matching(w);
      const refusedAll = n > 0 && n >= total();
      const change = r();
      if (change < 0.45) {
        const f = oracleWhere(w);
        const label = `round ${round}: ${JSON.stringify(w)}`;
        if (change < 0.2) {
          const set = { status: `u${int(3)}`, priority: BigInt(int(6)) };
          if (refusedAll) {
            await expect(store.update('task_queue', { where: w, set }), label).rejects.toThrow(/every row/);
            counts.refused++;
          } else {
            const result = await store.update('task_queue', { where: w, set });
            expect(result.hot + result.cold, label).toBe(n);
            oracle.prepare(`UPDATE task_queue SET status = ?, priority = ?${f.sql}`).run(set.status, set.priority, ...f.params);
            counts.updated += n;
            counts.coldChanged += result.cold;
          }
        } else if (change < 0.38) {
          if (refusedAll) {
            await expect(store.delete('task_queue', { where: w }), label).rejects.toThrow(/every row/);
            counts.refused++;
          } else {
            const result = await store.delete('task_queue', { where: w });
            expect(result.hot + result.cold, label).toBe(n);
            oracle.prepare(`DELETE FROM task_queue${f.sql}`).run(...f.params);
            counts.deleted += n;
            counts.coldChanged += result.cold;
          }
        } else if (!refusedAll) {
          const receipt = await store.erase('task_queue', { where: w });
          expect(receipt.hotRows + receipt.coldRows, label).toBe(n);
          expect(receipt.status, label).toBe('complete');
          oracle.prepare(`DELETE FROM task_queue${f.sql}`).run(...f.params);
          counts.erased += n;
          counts.coldChanged += receipt.coldRows;
        }
      }
      if (round % 7 === 6) {
        const report = await store.archiver.run({ now: now * 1000, tables: ['task_queue'] });
        for (const t of report.tables) expect(t.error, t.table).toBeUndefined();
      }
      if (round % 25 === 24) {
        const report = await store.maintenance.compact({ tables: ['task_queue'], minFiles: 2 });
        counts.compacted += report.tables[0]?.groups.length ?? 0;
      }

      const q: QueryOptions = { where: r() < 0.5 ? where() : {}, orderBy: [{ [pick(['created_at', 'priority', 'id'])]: pick(['asc', 'desc'] as const) }] };
      if (r() < 0.5) q.limit = int(60);
      const label = `round ${round}: ${JSON.stringify(q)}`;
      expect(await store.bridge.query('task_queue', q), label).toStrictEqual(oracleQuery(oracle, 'task_queue', 'id', q));
      counts.compared++;
      if (round % 10 === 0) {
        const sql = `SELECT status, count(*) AS n, sum(priority) AS s FROM task_queue GROUP BY status ORDER BY status`;
        expect(await store.bridge.sql(sql), `round ${round} sql`).toStrictEqual(oracle.prepare(sql).all());
        counts.compared++;
      }
    }
    // The whole table at the end, row for row.
    expect(await store.bridge.query('task_queue', { orderBy: [{ id: 'asc' }] })).toStrictEqual(oracleQuery(oracle, 'task_queue', 'id', { orderBy: [{ id: 'asc' }] }));
    expect(counts.coldChanged, JSON.stringify(counts)).toBeGreaterThan(50);
    expect(counts.erased).toBeGreaterThan(0);
    expect(counts.compacted).toBeGreaterThan(0);
    expect(counts.compared).toBeGreaterThan(ROUNDS);
  });
});
