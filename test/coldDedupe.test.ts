import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import registry from '../archive-registry.js';
import { coldKeyCandidates } from '../src/cold/coldKeyCandidates.js';
import type { ColdKeyIndex } from '../src/cold/ColdKeyIndex.js';
import { TierError } from '../src/errors.js';
import { appendMessages } from '../src/presets/wechat/appendMessages.js';
import { ingestJsonl } from '../src/presets/wechat/ingestJsonl.js';
import { openTierStore, type TierStore } from '../src/store/openTierStore.js';
import { DAY_S, NOW_MS, NOW_S, readTierState } from './archiveFixtures.js';
import { tempDir, testConfig } from './helpers.js';

/** Beyond 2^53: neighbours differ by 1, which a double cannot tell apart (its spacing there is 1024). */
const BASE = 2n ** 62n;

const message = (id: bigint, createTime: number) => ({
  msg_id: id.toString(),
  from_username: 'wxid_alice',
  to_username: 'wxid_bob',
  content: `hello ${id}`,
  create_time: createTime,
  msg_type: 1,
});

/** 10 messages 20 days old (even offsets from BASE) and 3 from today. */
function thirteen(): ReturnType<typeof message>[] {
  const old = Array.from({ length: 10 }, (_, i) => message(BASE + BigInt(2 * i), NOW_S - 20 * DAY_S + i));
  const recent = Array.from({ length: 3 }, (_, i) => message(BASE + 1000n + BigInt(i), NOW_S - 60 + i));
  return [...old, ...recent];
}

async function openStore(dataDir: string): Promise<TierStore> {
  return openTierStore({ config: testConfig(dataDir), registry });
}

async function expectEachKeyOnce(dataDir: string, total: number): Promise<void> {
  const state = await readTierState(dataDir, 'messages', 'msg_id');
  const all = [...state.hotKeys, ...state.coldKeys];
  expect(all).toHaveLength(total);
  expect(new Set(all.map(String)).size).toBe(total);
  for (const k of state.hotKeys) expect(state.coldKeys).not.toContain(k);
}

describe('appends dedupe against the cold tier too', () => {
  it('appendMessages after an archive counts archived msg_ids as duplicates; the next archive keeps each key once', async () => {
    const dir = tempDir();
    {
      await using store = await openStore(dir);
      expect(await store.hot.appendMessages(thirteen())).toEqual({ inserted: 13, duplicates: 0, rejected: [] });
      const report = await store.archiver.run({ now: NOW_MS, tables: ['messages'] });
      expect(report.tables[0]!.rowsMoved).toBe(10);
      expect(store.hot.raw.prepare('SELECT count(*) FROM messages').pluck().get()).toBe(3);

      // The same rows again, plus odd neighbours of cold keys (inside the file's key range, not in it).
      const neighbours = [message(BASE + 1n, NOW_S - 20 * DAY_S), message(BASE + 17n, NOW_S - 20 * DAY_S)];
      expect(await store.hot.appendMessages([...thirteen(), ...neighbours])).toEqual({ inserted: 2, duplicates: 13, rejected: [] });
      await store.archiver.run({ now: NOW_MS, tables: ['messages'] });
    }
    await expectEachKeyOnce(dir, 15);
  });

  it('`ingest --restart` after an archive re-inserts nothing that is cold', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'f.jsonl');
    writeFileSync(file, thirteen().map((m) => JSON.stringify(m)).join('\n') + '\n');
    {
      await using store = await openStore(path.join(dir, 'data'));
      expect(await ingestJsonl(store, file)).toMatchObject({ inserted: 13, duplicates: 0 });
      await store.archiver.run({ now: NOW_MS, tables: ['messages'] });
      expect(await ingestJsonl(store, file, { restart: true, batchSize: 4 })).toMatchObject({ lines: 13, inserted: 0, duplicates: 13, rejected: 0 });
      // Through the HotStore as target too.
      expect(await ingestJsonl(store.hot, file, { restart: true })).toMatchObject({ inserted: 0, duplicates: 13 });
      await store.archiver.run({ now: NOW_MS, tables: ['messages'] });
    }
    await expectEachKeyOnce(path.join(dir, 'data'), 13);
  });

  it('rereads when an archive commits between the cold lookup and the insert', async () => {
    const dir = tempDir();
    await using store = await openStore(dir);
    const day1 = Array.from({ length: 5 }, (_, i) => message(BASE + BigInt(i), NOW_S - 30 * DAY_S));
    const day2 = Array.from({ length: 5 }, (_, i) => message(BASE + 100n + BigInt(i), NOW_S - 20 * DAY_S));
    await store.hot.appendMessages(day1);
    await store.archiver.run({ now: NOW_MS, tables: ['messages'] });
    await store.hot.appendMessages(day2);
    const coldKeys = store.hot.coldKeys as ColdKeyIndex;
    const findKeys = coldKeys.findKeys.bind(coldKeys);
    let calls = 0;
    coldKeys.findKeys = async (column, candidates) => {
      const found = await findKeys(column, candidates);
      // Day 2 (still hot when the manifest was checked) moves cold now.
      if (calls++ === 0) expect((await store.archiver.run({ now: NOW_MS, tables: ['messages'] })).tables[0]!.rowsMoved).toBe(5);
      return found;
    };
    // A key cold from the start, and a key hot at the first check but cold by the insert.
    expect(await store.hot.appendMessages([day1[0]!, day2[0]!])).toEqual({ inserted: 0, duplicates: 2, rejected: [] });
    expect(calls).toBe(2);
    expect(store.hot.raw.prepare('SELECT count(*) FROM messages').pluck().get()).toBe(0);
  });

  it('a bare SQLite handle refuses keys inside a cold file range (it cannot read files), and accepts new keys', async () => {
    const dir = tempDir();
    {
      await using store = await openStore(dir);
      await store.hot.appendMessages(thirteen());
      await store.archiver.run({ now: NOW_MS, tables: ['messages'] });
    }
    const raw = new Database(path.join(dir, 'hot.db'));
    try {
      const error = (() => {
        try {
          appendMessages(raw, [message(BASE + 4n, NOW_S)]);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(TierError);
      expect((error as TierError).message).toMatch(/1 msg_id\(s\) \(first: 4611686018427387908\).*cold file.*messages\/.*nothing was inserted/);
      expect(appendMessages(raw, [message(BASE + 5000n, NOW_S)])).toEqual({ inserted: 1, duplicates: 0, rejected: [] });
    } finally {
      raw.close();
    }
  });

  it('new keys above every file need no DuckDB', async () => {
    const dir = tempDir();
    await using store = await openStore(dir);
    await store.hot.appendMessages(thirteen());
    await store.archiver.run({ now: NOW_MS, tables: ['messages'] });
    const coldKeys = store.hot.coldKeys as ColdKeyIndex;
    let calls = 0;
    const findKeys = coldKeys.findKeys.bind(coldKeys);
    coldKeys.findKeys = async (column, candidates) => {
      calls++;
      return findKeys(column, candidates);
    };
    const fresh = Array.from({ length: 50 }, (_, i) => message(BASE + 10_000n + BigInt(i), NOW_S));
    expect(await store.hot.appendMessages(fresh)).toEqual({ inserted: 50, duplicates: 0, rejected: [] });
    expect(calls).toBe(0);
  });
});

describe('coldKeyCandidates', () => {
  /** A manifest with files of TEXT key ranges, in a store's hot file. */
  async function manifestWith(ranges: [string, unknown, unknown, string][]): Promise<Database.Database> {
    const dir = tempDir();
    const store = await openStore(dir);
    await store.close();
    const raw = new Database(path.join(dir, 'hot.db'));
    const ins = raw.prepare(
      `INSERT INTO _tierdb_files (table_name, path, partition, rows, min_time_ms, max_time_ms, min_key, max_key, bytes, checksum, schema_json, state, created_at_ms)
       VALUES ('tags', ?, '2026-01-01', 1, 0, 0, ?, ?, 1, 'x', '[]', ?, 0)`,
    );
    for (const [p, min, max, state] of ranges) ins.run(p, min, max, state);
    raw.prepare(`INSERT INTO _tierdb_meta (key, value) VALUES ('manifest_version', '1') ON CONFLICT(key) DO UPDATE SET value = value + 1`).run();
    return raw;
  }

  it('compares TEXT keys in SQLite (UTF-8) order and looks at live and pending files, not retired ones', async () => {
    // UTF-16 puts 😀 (U+1F600, surrogates D83D DE00) below ｚ (U+FF5A); UTF-8 (SQLite) puts it above.
    const raw = await manifestWith([
      ['a.parquet', 'a', 'ｚ', 'live'],
      ['b.parquet', 'a', '😀', 'pending'],
      ['c.parquet', 'a', '😀', 'retired'],
    ]);
    try {
      const c = coldKeyCandidates(raw, 'tags', ['😀', 'ｚ', '\u{10FFFF}']);
      expect(Object.fromEntries(c)).toEqual({ 'a.parquet': ['ｚ'], 'b.parquet': ['😀', 'ｚ'] });
    } finally {
      raw.close();
    }
  });

  it('compares 64-bit INTEGER keys exactly', async () => {
    const raw = await manifestWith([['a.parquet', 2n ** 62n, 2n ** 62n + 10n, 'live']]);
    raw.defaultSafeIntegers(true);
    try {
      const c = coldKeyCandidates(raw, 'tags', [2n ** 62n - 1n, 2n ** 62n, 2n ** 62n + 10n, 2n ** 62n + 11n]);
      expect(Object.fromEntries(c)).toEqual({ 'a.parquet': [2n ** 62n, 2n ** 62n + 10n] });
    } finally {
      raw.close();
    }
  });
});
