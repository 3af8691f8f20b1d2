/**
 * bridge.stream against bridge.query on mixed hot/cold data: the same rows, in
 * the same order, with the same JS types, across many batches.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import registry from '../archive-registry.js';
import type { QueryOptions, Row } from '../src/query/QueryOptions.js';
import { openTierStore, type TierStore } from '../src/store/openTierStore.js';
import { DAY_S, NOW_MS, NOW_S, seedTaskQueue } from './archiveFixtures.js';
import { testConfig } from './helpers.js';

const ROWS = 6000;
/** One hot row deleted (id 1), one cold key made hot again (id ROWS). */
const VISIBLE = ROWS - 1;

async function collect(iterable: AsyncIterable<Row>): Promise<Row[]> {
  const rows: Row[] = [];
  for await (const row of iterable) rows.push(row);
  return rows;
}

describe('bridge.stream', () => {
  let store: TierStore;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tierdb-stream-'));
    await seedTaskQueue(dir, ROWS, 30);
    store = await openTierStore({ config: testConfig(dir), registry });
    const media = store.hot.raw.prepare(
      'INSERT INTO media_signatures (msg_id, media_type, sha256, phash, size_bytes, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    store.hot.raw.transaction(() => {
      for (let i = 0; i < 400; i++) {
        media.run(
          i % 3 === 1 ? null : 9_223_372_036_854_775_807n - BigInt(i),
          i % 2 ? 'image' : 'video',
          `sha-${i}`,
          i % 5 === 0 ? null : Buffer.from([i & 255, (i * 7) & 255, 0, 255]),
          i % 4 === 0 ? null : i * 1000,
          NOW_MS - 1 - i * 12 * 3_600_000,
        );
      }
    })();
    const report = await store.archiver.run({ now: NOW_MS });
    for (const t of report.tables) expect([t.table, t.error]).toEqual([t.table, undefined]);
    // A cold key that is hot again: the hot row must win, in stream as in query.
    // seedTaskQueue numbers rows newest first, so the highest id is the oldest row: cold.
    expect(store.hot.raw.prepare('SELECT count(*) FROM task_queue WHERE id = ?').pluck().get(ROWS)).toBe(0);
    store.hot.raw.prepare('DELETE FROM task_queue WHERE id = 1').run();
    store.hot.raw.prepare(`INSERT INTO task_queue (id, task_type, status, priority, created_at) VALUES (?, 'send', 'retried', 9, ?)`).run(ROWS, NOW_S - 30);
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is really mixed: hot rows and several cold files', async () => {
    const plan = await store.bridge.explain('task_queue', {});
    expect(plan.hot).toBe(true);
    expect(plan.coldFiles.length).toBeGreaterThan(10);
    expect((await store.bridge.explain('media_signatures', {})).coldFiles.length).toBeGreaterThan(0);
    const again = await collect(store.bridge.stream('task_queue', { where: { id: ROWS } }));
    expect(again).toMatchObject([{ id: BigInt(ROWS), status: 'retried', priority: 9n }]);
  });

  it('yields exactly the rows of bridge.query, across many batches, for each query shape', async () => {
    const cases: [string, QueryOptions, number][] = [
      ['task_queue', {}, 500],
      ['task_queue', { orderBy: [{ created_at: 'desc' }] }, 333],
      ['task_queue', { where: { status: 'failed' }, orderBy: [{ priority: 'asc' }, { created_at: 'desc' }] }, 100],
      ['task_queue', { where: { created_at: { gte: NOW_S - 20 * DAY_S, lt: NOW_S - 2 * DAY_S } }, columns: ['id', 'msg_id', 'created_at'] }, 250],
      ['task_queue', { orderBy: [{ created_at: 'asc' }], limit: 2500, offset: 1234 }, 256],
      ['task_queue', { orderBy: [{ created_at: 'desc' }], limit: 5 }, 2],
      ['task_queue', { where: { id: { in: [ROWS, ROWS - 1, 2] } } }, 1],
      ['task_queue', { where: { payload: { like: '%任务 1%' } } }, 7],
      ['media_signatures', { orderBy: [{ phash: 'desc' }] }, 64],
      ['media_signatures', { where: { msg_id: { isNull: false } }, orderBy: [{ msg_id: 'desc' }] }, 3000],
    ];
    for (const [table, q, batchSize] of cases) {
      const want = await store.bridge.query(table, q);
      const got = await collect(store.bridge.stream(table, q, { batchSize }));
      expect(got, `${table} ${JSON.stringify(q)}`).toStrictEqual(want);
    }
    const all = await store.bridge.query('task_queue', {});
    expect(all.length).toBe(VISIBLE);
    expect(all.length / 500).toBeGreaterThan(10);
  });

  it('keeps the value contract: bigint (2^63-1 exact), Buffer, null', async () => {
    const rows = await collect(store.bridge.stream('media_signatures', { where: { id: { lte: 6 } } }));
    expect(rows[0]!.msg_id).toBe(9_223_372_036_854_775_807n);
    expect(rows[1]!.msg_id).toBeNull();
    expect(Buffer.isBuffer(rows[1]!.phash)).toBe(true);
    expect(rows[0]!.phash).toBeNull();
    expect(rows[1]!.size_bytes).toBe(1000n);
    const [top] = await collect(store.bridge.stream('media_signatures', { orderBy: [{ msg_id: 'desc' }], limit: 1 }));
    expect(top!.msg_id).toBe(2n ** 63n - 1n);
  });

  it('reports the total first when asked, and releases DuckDB when the loop breaks', async () => {
    let total = -1;
    let seen = 0;
    for await (const row of store.bridge.stream('task_queue', {}, { batchSize: 100, onTotal: (n) => (total = n) })) {
      expect(total).toBe(VISIBLE);
      expect(row.id).toBeTypeOf('bigint');
      if (++seen === 250) break;
    }
    expect(seen).toBe(250);
    // The next query still runs (the broken stream closed its connection).
    expect((await store.bridge.sql('SELECT count(*) AS n FROM task_queue'))[0]!.n).toBe(BigInt(VISIBLE));
    let hotTotal = -1;
    const hotOnly = await collect(store.bridge.stream('task_queue', { orderBy: [{ created_at: 'desc' }], limit: 3 }, { onTotal: (n) => (hotTotal = n) }));
    expect(hotOnly).toHaveLength(3);
    expect(hotTotal).toBe(3);
  });

  it('refuses a bad batch size or query with the same errors as query', async () => {
    await expect(collect(store.bridge.stream('task_queue', {}, { batchSize: 0 }))).rejects.toThrow(/batchSize/);
    await expect(collect(store.bridge.stream('task_queue', { where: { nope: 1 } }))).rejects.toThrow(/nope/);
    await expect(collect(store.bridge.stream('no_such_table'))).rejects.toThrow(/no_such_table/);
  });
});
