import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import registry from '../archive-registry.js';
import { appendMessages } from '../src/presets/wechat/appendMessages.js';
import { MESSAGE_COLUMNS, normalizeFast, normalizeMessage, normalizeMessageWithSchema } from '../src/presets/wechat/messageRow.js';
import { openTierStore, type TierStore } from '../src/store/openTierStore.js';
import { tempDir, testConfig } from './helpers.js';

async function openStore(): Promise<TierStore> {
  const store = await openTierStore({ config: testConfig(tempDir()), registry });
  return store;
}

interface StoredRow {
  msg_id: bigint;
  from_username: string;
  to_username: string;
  content: string | null;
  create_time: bigint;
  msg_type: bigint;
  is_chatroom_msg: bigint;
  chatroom: string | null;
  chatroom_sender: string | null;
  desc: string | null;
  source: string | null;
  guid: string | null;
  notify_type: bigint | null;
  extra_fields: string | null;
}

/** Every stored row, integers read as bigint so nothing is rounded on the way out. */
function readAll(raw: Database.Database): Map<bigint, StoredRow> {
  const rows = raw.prepare('SELECT * FROM messages ORDER BY msg_id').safeIntegers(true).all() as StoredRow[];
  return new Map(rows.map((r) => [r.msg_id, r]));
}

function storageClass(raw: Database.Database, msgId: bigint, column: string): string {
  return raw.prepare(`SELECT typeof("${column}") AS t FROM messages WHERE msg_id = ?`).pluck().get(msgId) as string;
}

const base = (id: number | bigint | string, extra: Record<string, unknown> = {}) => ({
  msg_id: id,
  from_username: 'wxid_alice',
  to_username: 'wxid_bob',
  content: `hello ${String(id)}`,
  create_time: 1_700_000_000,
  msg_type: 1,
  ...extra,
});

describe('appendMessages', () => {
  it('counts valid, duplicate (stored and within the batch) and invalid rows exactly, and loses nothing', async () => {
    await using store = await openStore();
    const first = await store.hot.appendMessages([base(1), base(2)]);
    expect(first).toEqual({ inserted: 2, duplicates: 0, rejected: [] });

    const batch: unknown[] = [
      base(3, { is_chatroom_msg: true, chatroom: '123@chatroom', chatroom_sender: 'wxid_carol', desc: 'd', guid: 'g-3', notify_type: 2 }), // 0 valid
      base(1, { content: 'replaced?' }), // 1 duplicate of a stored row
      { ...base(4), msg_id: 'abc' }, // 2 invalid msg_id
      base(5, { content: null, source: '<msgsource/>' }), // 3 valid
      base(5, { content: 'second copy' }), // 4 duplicate within the batch
      { ...base(6), create_time: 1_700_000_000_000 }, // 5 invalid: milliseconds
      { msg_id: 7, to_username: 'wxid_bob', create_time: 1_700_000_000, msg_type: 1 }, // 6 missing from_username
      'not a row', // 7
      null, // 8
      { ...base(8), msg_type: 1.5 }, // 9 invalid msg_type
      base(9, { msg_type: '49', create_time: '1700000001' }), // 10 valid, numbers as text
      { ...base(10), is_chatroom_msg: 2 }, // 11 invalid flag
      { ...base(11), from_username: '' }, // 12 empty username
      base(12, { notify_type: 'x' }), // 13 invalid notify_type
      base(13, { extra_fields: '[1,2]' }), // 14 extra_fields not an object
    ];
    const result = await store.hot.appendMessages(batch);
    expect(result.inserted).toBe(3);
    expect(result.duplicates).toBe(2);
    expect(result.rejected.map((r) => r.index)).toEqual([2, 5, 6, 7, 8, 9, 11, 12, 13, 14]);
    const reason = (i: number) => result.rejected.find((r) => r.index === i)!.reason;
    expect(reason(2)).toMatch(/^msg_id: /);
    expect(reason(5)).toMatch(/^create_time: .*milliseconds/);
    expect(reason(6)).toBe('from_username: is required');
    expect(reason(7)).toBe('expected an object, got string');
    expect(reason(8)).toBe('expected an object, got null');
    expect(reason(9)).toMatch(/^msg_type: /);
    expect(reason(11)).toMatch(/^is_chatroom_msg: /);
    expect(reason(12)).toMatch(/^from_username: /);
    expect(reason(13)).toMatch(/^notify_type: /);
    expect(reason(14)).toMatch(/^extra_fields: /);
    // Every input position is accounted for exactly once.
    expect(result.inserted + result.duplicates + result.rejected.length).toBe(batch.length);

    const stored = readAll(store.hot.raw);
    expect([...stored.keys()]).toEqual([1n, 2n, 3n, 5n, 9n]);
    expect(stored.get(1n)!.content).toBe('hello 1'); // the stored row wins over a duplicate
    expect(stored.get(5n)!.content).toBeNull(); // the first of two in-batch copies wins
    expect(stored.get(3n)).toEqual({
      msg_id: 3n,
      from_username: 'wxid_alice',
      to_username: 'wxid_bob',
      content: 'hello 3',
      create_time: 1_700_000_000n,
      msg_type: 1n,
      is_chatroom_msg: 1n,
      chatroom: '123@chatroom',
      chatroom_sender: 'wxid_carol',
      desc: 'd',
      source: null,
      guid: 'g-3',
      notify_type: 2n,
      extra_fields: null,
    });
    expect(stored.get(5n)!.source).toBe('<msgsource/>');
    expect(stored.get(5n)!.is_chatroom_msg).toBe(0n);
    expect(stored.get(9n)!.msg_type).toBe(49n);
    expect(stored.get(9n)!.create_time).toBe(1_700_000_001n);
    expect(storageClass(store.hot.raw, 9n, 'create_time')).toBe('integer');
  });

  it('reports a hole in a sparse array instead of skipping it', async () => {
    await using store = await openStore();
    const rows = [base(1), , base(2)];
    const result = await store.hot.appendMessages(rows);
    expect(result.inserted).toBe(2);
    expect(result.rejected).toEqual([{ index: 1, reason: 'expected an object, got undefined' }]);
  });

  it('keeps unknown fields in extra_fields JSON, merged with a given extra_fields', async () => {
    await using store = await openStore();
    const result = await store.hot.appendMessages([
      base(1, { img_path: '/a.jpg', voice_len: 12, nested: { a: [1, 'x'] }, big: 2n ** 60n }),
      base(2, { extra_fields: { kept: true }, also: 'top' }),
      base(3, { extra_fields: '{"from":"text"}', more: 1 }),
      base(4, { extra_fields: { same: 1 }, same: 1 }), // same value both ways: fine
      base(5, { extra_fields: { clash: 1 }, clash: 2 }), // different values: rejected, never one silently lost
      JSON.parse('{"msg_id":6,"from_username":"a","to_username":"b","create_time":1700000000,"msg_type":1,"__proto__":{"x":1}}'),
      base(7, { ignored: undefined }),
    ]);
    expect(result.inserted).toBe(6);
    expect(result.rejected).toEqual([{ index: 4, reason: 'clash: given both as a field and inside extra_fields, with different values' }]);
    const stored = readAll(store.hot.raw);
    const extra = (id: bigint) => JSON.parse(stored.get(id)!.extra_fields!) as unknown;
    expect(extra(1n)).toEqual({ img_path: '/a.jpg', voice_len: 12, nested: { a: [1, 'x'] }, big: (2n ** 60n).toString() });
    expect(extra(2n)).toEqual({ kept: true, also: 'top' });
    expect(extra(3n)).toEqual({ from: 'text', more: 1 });
    expect(extra(4n)).toEqual({ same: 1 });
    expect(stored.get(6n)!.extra_fields).toBe('{"__proto__":{"x":1}}');
    expect(stored.get(7n)!.extra_fields).toBeNull();
    // Known columns never leak into extra_fields.
    expect(extra(1n)).not.toHaveProperty('msg_id');
  });

  it('round-trips 64-bit msg_ids exactly, given as bigint or decimal string', async () => {
    await using store = await openStore();
    const max = 9223372036854775807n;
    const min = -9223372036854775808n;
    const p53 = 2n ** 53n + 1n; // 9007199254740993: a JS number cannot hold it
    const result = await store.hot.appendMessages([
      base(max),
      base(p53.toString()),
      base(min.toString()),
      base(' 9007199254740995 '),
      base(2n ** 53n + 7n),
    ]);
    expect(result).toEqual({ inserted: 5, duplicates: 0, rejected: [] });
    const ids = [...readAll(store.hot.raw).keys()];
    expect(ids).toEqual([min, p53, 9007199254740995n, 2n ** 53n + 7n, max]);
    expect(storageClass(store.hot.raw, max, 'msg_id')).toBe('integer');
    // The same id as text is a duplicate of the bigint one.
    expect(await store.hot.appendMessages([base('9223372036854775807')])).toEqual({ inserted: 0, duplicates: 1, rejected: [] });
  });

  it('rejects msg_ids that are not exact 64-bit integers instead of rounding them', async () => {
    await using store = await openStore();
    const result = await store.hot.appendMessages([
      base(2 ** 53 + 2), // an unsafe JS number: precision may already be lost
      base(9223372036854775808n), // 2^63: beyond int64
      base('9223372036854775808'),
      base('12.5'),
      base(1.5),
      base(''),
      base(Number.NaN),
      { ...base(1), msg_id: undefined },
    ]);
    expect(result.inserted).toBe(0);
    expect(result.rejected.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (const r of result.rejected) expect(r.reason).toMatch(/^msg_id: /);
    expect(result.rejected[0]!.reason).toContain('beyond 2^53');
    expect(result.rejected[0]!.reason).toContain(String(2 ** 53 + 2));
    expect(result.rejected[7]!.reason).toBe('msg_id: is required');
    expect(readAll(store.hot.raw).size).toBe(0);
  });

  it('rejects unsafe integers in other integer columns', async () => {
    await using store = await openStore();
    const result = await store.hot.appendMessages([
      base(1, { msg_type: 2 ** 53 }),
      base(2, { notify_type: '99999999999999999999' }),
      base(3, { msg_type: 49n, notify_type: 3n }), // bigint in safe range is fine
    ]);
    expect(result.inserted).toBe(1);
    expect(result.rejected.map((r) => [r.index, r.reason.split(':')[0]])).toEqual([
      [0, 'msg_type'],
      [1, 'notify_type'],
    ]);
  });

  it('stores an integer source as text', async () => {
    await using store = await openStore();
    await store.hot.appendMessages([base(1, { source: 0 }), base(2, { source: 12345 }), base(3, { source: '<msgsource/>' }), base(4, { source: 7n })]);
    const stored = readAll(store.hot.raw);
    expect(stored.get(1n)!.source).toBe('0');
    expect(stored.get(2n)!.source).toBe('12345');
    expect(stored.get(3n)!.source).toBe('<msgsource/>');
    expect(stored.get(4n)!.source).toBe('7');
    for (const id of [1n, 2n, 4n]) expect(storageClass(store.hot.raw, id, 'source')).toBe('text');
  });

  it('commits rows and the alsoInTransaction work together, or neither', async () => {
    await using store = await openStore();
    const raw = store.hot.raw;
    expect(() =>
      appendMessages(raw, [base(1)], () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(readAll(raw).size).toBe(0);
    const seen: number[] = [];
    appendMessages(raw, [base(1), base(1), { bad: true }], (r) => seen.push(r.inserted, r.duplicates, r.rejected.length));
    expect(seen).toEqual([1, 1, 1]);
  });

  it('the fast path gives exactly what the zod schema gives', () => {
    const inputs: unknown[] = [
      base(1),
      base(2n ** 62n),
      base('123'),
      base(' 123'),
      base(2 ** 53 + 2),
      base(1, { is_chatroom_msg: true, chatroom: 'r', chatroom_sender: 's' }),
      base(1, { is_chatroom_msg: false }),
      base(1, { is_chatroom_msg: null, content: null, desc: undefined }),
      base(1, { source: 5 }),
      base(1, { source: Number.POSITIVE_INFINITY }),
      base(1, { notify_type: null }),
      base(1, { notify_type: 3 }),
      base(1, { notify_type: 3.5 }),
      base(1, { extra_fields: { a: 1 }, b: 2 }),
      base(1, { extra_fields: '{"a":1}' }),
      base(1, { extra_fields: 'nope' }),
      base(1, { extra_fields: new Date(0) }),
      base(1, { extra_fields: { a: 1 }, a: 2 }),
      base(1, { create_time: 946_684_799 }),
      base(1, { create_time: 4_102_444_800 }),
      base(1, { content: 5 }),
      base(1, { msg_type: -0 }),
      base(1, { from_username: '' }),
      base(1, { unknown: 1n }),
    ];
    for (const input of inputs) expect(normalizeMessage(input), JSON.stringify(input, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))).toEqual(normalizeMessageWithSchema(input));
    // The plain shape really takes the fast path (a fast path that always declines would pass the loop above),
    // and whatever the fast path accepts, it gives exactly what the schema gives.
    const plain = [base(1), base(2n ** 62n), base('123'), base(1, { is_chatroom_msg: 1, chatroom: 'r' }), base(1, { notify_type: 3, source: 5 })];
    for (const input of plain) expect(normalizeFast(input), JSON.stringify(input, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))).toBeDefined();
    for (const input of inputs) {
      const fast = normalizeFast(input as Record<string, unknown>);
      if (fast) expect(fast).toEqual(normalizeMessageWithSchema(input));
    }
  });

  it('works on a raw handle opened without the store', async () => {
    const dir = tempDir();
    const store = await openTierStore({ config: testConfig(dir), registry });
    const file = store.hot.path;
    await store.close();
    const raw = new Database(file);
    try {
      expect(appendMessages(raw, [base(1)])).toEqual({ inserted: 1, duplicates: 0, rejected: [] });
      expect(MESSAGE_COLUMNS).toHaveLength(14);
    } finally {
      raw.close();
    }
  });
});
