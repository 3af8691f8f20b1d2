/**
 * bridge.sql statements that need no cold file run on SQLite itself
 * (runHotSql, translateForSqlite). Each statement's outcome — rows with their
 * JS types, or the error — must be exactly what the DuckDB copy gives
 * (TIERDB_HOT_SQL=duckdb) on the same data: before anything is archived,
 * and after, where a time bound newer than every file keeps a statement on
 * SQLite and any other needs the files. The log says where each one ran.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../src/logger.js';
import type { Row } from '../src/query/QueryOptions.js';
import { openTierStore, type TierStore } from '../src/store/openTierStore.js';
import { DAY_S, NOW_MS, NOW_S } from './archiveFixtures.js';
import { testConfig } from './helpers.js';

/** Beyond 2^53: neighbours differ by 1, which a double cannot tell apart. */
const BIG = 2n ** 62n;

const SCHEMA = `
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  kind TEXT NOT NULL,
  score REAL,
  payload BLOB,
  note TEXT,
  big INTEGER
);
CREATE TABLE tagged (
  id INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  name TEXT COLLATE NOCASE,
  tags
);
CREATE TABLE vals (
  id INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  v NUMERIC,
  w,
  x
);`;
const registry = [
  { table: 'events', timeColumn: 'ts', timeUnit: 'unix_s', hotDays: 7, appAssignsKeys: true },
  { table: 'tagged', timeColumn: 'ts', timeUnit: 'unix_s', hotDays: 7, appAssignsKeys: true },
  { table: 'vals', timeColumn: 'ts', timeUnit: 'unix_s', hotDays: 7, appAssignsKeys: true },
] as const;

function fill(dataDir: string): void {
  const raw = new Database(path.join(dataDir, 'hot.db'));
  raw.exec(SCHEMA);
  const e = raw.prepare('INSERT INTO events (id, ts, kind, score, payload, note, big) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const t = raw.prepare('INSERT INTO tagged (id, ts, name, tags) VALUES (?, ?, ?, ?)');
  const v = raw.prepare('INSERT INTO vals (id, ts, v, w, x) VALUES (?, ?, ?, ?, ?)');
  const kinds = ['a', 'b', 'c', 'B', 'é', 'Ü'];
  raw.transaction(() => {
    for (let i = 1; i <= 300; i++) {
      const ts = NOW_S - Math.floor((i * 20 * DAY_S) / 300);
      e.run(
        i,
        ts,
        kinds[i % kinds.length],
        i % 7 === 0 ? null : (i % 50) + 0.25,
        i % 5 === 0 ? Buffer.from([i % 256, 0, 255]) : null,
        i % 3 === 0 ? null : i % 4 === 0 ? 'none' : `note ${i % 9}`,
        i % 11 === 0 ? null : BIG + BigInt(i),
      );
      t.run(i, ts, ['abc', 'ABC', 'Abc', 'x'][i % 4], i % 2 ? i : `t${i}`);
      // Untyped columns: v holds integers and reals (DuckDB's copy takes its type from the first), w text, x text or BLOBs.
      v.run(i, ts, i % 3 ? i : i + 0.5, `w${i}`, i % 4 ? `x${i}` : Buffer.from([i % 256]));
    }
  })();
  raw.close();
}

interface Logged {
  logger: Logger;
  lines: string[];
}

function capture(): Logged {
  const lines: string[] = [];
  const noop = () => {};
  const logger: Logger = {
    trace: noop,
    debug: (_o, msg) => void lines.push(String(msg)),
    info: noop,
    warn: noop,
    error: noop,
    child: () => logger,
  };
  return { logger, lines };
}

type Outcome = { rows: Row[] } | { error: string };

async function outcome(store: TierStore, sql: string, params: unknown[]): Promise<Outcome> {
  try {
    return { rows: await store.bridge.sql(sql, params) };
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

/** [statement, params, runs on SQLite] */
type Case = [string, unknown[], boolean];

const BEFORE_ARCHIVING: Case[] = [
  ['SELECT kind, count(*) AS n, sum(id) AS s, min(ts) AS lo, max(ts) AS hi, avg(id) AS a FROM events GROUP BY kind ORDER BY kind', [], true],
  ['SELECT count(*) AS n, count(score) AS c, count(DISTINCT kind) AS k, min(note) AS first_note FROM events', [], true],
  ['SELECT * FROM events ORDER BY id LIMIT 10 OFFSET 5', [], true],
  ['SELECT e.id, e.Kind, BIG FROM events AS e WHERE e.big > ? ORDER BY e.id', [BIG + 250n], true],
  ['SELECT id, big FROM events WHERE big = $1 OR big = $2', [BIG + 1n, BIG + 2n], true],
  ['SELECT id, score FROM events WHERE score BETWEEN ? AND 40 AND NOT (kind IN (\'a\', \'b\') OR note IS NULL) ORDER BY score DESC NULLS LAST, id', [10.5], true],
  ['SELECT kind, count(*) AS n FROM events WHERE ts >= $1 AND kind <> $2 GROUP BY 1 HAVING count(*) > 3 ORDER BY n DESC, kind', [NOW_S - 12 * DAY_S, 'c'], true],
  ['SELECT DISTINCT kind FROM events ORDER BY 1', [], true],
  ['SELECT id, note FROM events WHERE note NOT IN (\'none\', ?) ORDER BY id', [null], true],
  ['SELECT id, payload FROM events WHERE payload IS NOT NULL ORDER BY id DESC LIMIT 7', [], true],
  ['SELECT min(score) AS lo, max(score) AS hi FROM events WHERE score > 1 AND id <= 290', [], true],
  ['SELECT id FROM events ORDER BY big DESC NULLS FIRST, id LIMIT 15', [], true],
  ['SELECT count(*) AS n FROM events WHERE ts >= ?', [NOW_S - 1.5 * DAY_S], true],
  ['SELECT kind, sum(id) AS s FROM events WHERE id < 0 GROUP BY kind', [], true],
  ['SELECT sum(id) AS s, count(*) AS n, max(kind) AS k FROM events WHERE id < 0', [], true],
  ['SELECT id FROM events WHERE id IN (?, ?, 7) ORDER BY id', [3, 5n], true],
  ['SELECT id, w FROM vals WHERE id > 250 ORDER BY id', [], true],
  ['SELECT count(w) AS n, min(ts) AS lo FROM vals WHERE ts > 0', [], true],
  // Outside the subset, or refused at run time: DuckDB answers.
  ['SELECT kind AS id, count(*) AS n FROM events GROUP BY kind ORDER BY id', [], false],
  ['SELECT kind, count(*) FROM events GROUP BY kind ORDER BY kind', [], false],
  ['SELECT ts // 86400 AS day, count(*) AS n FROM events GROUP BY 1 ORDER BY 1', [], false],
  ['SELECT count(*) AS n FROM events WHERE kind LIKE \'B%\'', [], false],
  ['SELECT count(*) AS n FROM events WHERE id = 5.0', [], false],
  ['SELECT id FROM events WHERE kind = ?', [5], false],
  ['SELECT sum(big) AS s FROM events', [], false],
  ['SELECT name, count(*) AS n FROM tagged GROUP BY name ORDER BY name', [], false],
  ['SELECT * FROM tagged ORDER BY id LIMIT 5', [], false],
  ['SELECT count(*) AS n FROM events e JOIN tagged t ON t.id = e.id', [], false],
  ['SELECT id FROM events WHERE id = ?', [], false],
  ['SELECT id, v FROM vals ORDER BY id', [], false],
  ['SELECT id, x FROM vals WHERE id > 250 ORDER BY id', [], false],
  ['SELECT * FROM vals WHERE id > 290 AND id % 3 = 0 ORDER BY id', [], false],
];

const AFTER_ARCHIVING: Case[] = [
  ['SELECT count(*) AS n, max(ts) AS hi, min(id) AS lo FROM events WHERE ts >= ?', [NOW_S - 2 * DAY_S], true],
  ['SELECT kind, count(*) AS n FROM events WHERE ? <= ts AND kind <> \'a\' GROUP BY kind ORDER BY kind', [NOW_S - 3 * DAY_S], true],
  ['SELECT count(*) AS n FROM events WHERE ts BETWEEN ? AND ?', [NOW_S - 4 * DAY_S, NOW_S], true],
  ['SELECT count(*) AS n FROM events WHERE ts >= ?', [NOW_S - 10 * DAY_S], false],
  ['SELECT count(*) AS n FROM events WHERE ts > ? OR id = 1', [NOW_S - 2 * DAY_S], false],
  ['SELECT kind, count(*) AS n, sum(id) AS s FROM events GROUP BY kind ORDER BY kind', [], false],
  ['SELECT * FROM events WHERE ts >= ? ORDER BY id', [NOW_S - DAY_S], true],
];

describe('bridge.sql on SQLite when no cold file is needed', () => {
  let dir: string;
  let store: TierStore;
  let duck: TierStore;
  let log: Logged;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tierdb-hotsql-'));
    fill(dir);
    log = capture();
    store = await openTierStore({ config: testConfig(dir), registry: [...registry], logger: log.logger });
    duck = await openTierStore({ config: testConfig(dir, { TIERDB_HOT_SQL: 'duckdb' }), registry: [...registry], readonly: true });
  });
  afterAll(async () => {
    await store?.close();
    await duck?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function check(cases: Case[]): Promise<void> {
    for (const [sql, params, onSqlite] of cases) {
      log.lines.length = 0;
      const got = await outcome(store, sql, params);
      const ran = log.lines.includes('bridge sql ran on SQLite');
      expect({ sql, onSqlite: ran }).toEqual({ sql, onSqlite });
      expect(got, sql).toStrictEqual(await outcome(duck, sql, params));
      if (onSqlite) expect('rows' in got, sql).toBe(true);
      // Twice: the second answer comes from the cached parse and translation.
      expect(await outcome(store, sql, params), sql).toStrictEqual(got);
    }
  }

  it('answers exactly as the DuckDB copy, with the same JS types, before anything is archived', async () => {
    await check(BEFORE_ARCHIVING);
  });

  it('a value of another class than its column: returned, the copy refuses it; aggregated, SQLite counts it as bridge.query returns it', async () => {
    // vals.v holds integers and reals: DuckDB's copy types the column by its first value and refuses the others.
    const returned = 'SELECT id, v FROM vals ORDER BY id';
    expect(await outcome(store, returned, [])).toStrictEqual(await outcome(duck, returned, []));
    expect(await outcome(store, returned, [])).toMatchObject({ error: expect.stringMatching(/MixedTypeError: vals\.v/) as unknown });
    const counted = 'SELECT count(v) AS n FROM vals';
    expect(await outcome(store, counted, [])).toStrictEqual({ rows: [{ n: 300n }] });
    expect(await outcome(duck, counted, [])).toMatchObject({ error: expect.stringMatching(/MixedTypeError: vals\.v/) as unknown });
    expect(await store.bridge.query('vals', { where: { id: { lte: 3 } }, columns: ['id', 'v'] })).toStrictEqual([
      { id: 1n, v: 1n },
      { id: 2n, v: 2n },
      { id: 3n, v: 3.5 },
    ]);
  });

  it('after archiving: on SQLite only where the time bound is newer than every cold file', async () => {
    const report = await store.archiver.run({ now: NOW_MS });
    for (const t of report.tables) expect(t.error, t.table).toBeUndefined();
    expect(report.tables.find((t) => t.table === 'events')!.rowsMoved).toBeGreaterThan(100);
    await check(AFTER_ARCHIVING);
  });
});
