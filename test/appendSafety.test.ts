import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import registry from '../archive-registry.js';
import { ArgumentError, TierError } from '../src/errors.js';
import { appendMessages } from '../src/presets/wechat/appendMessages.js';
import { checkpointName, ingestJsonl, type IngestCheckpoint } from '../src/presets/wechat/ingestJsonl.js';
import { openTierStore, type TierStore } from '../src/store/openTierStore.js';
import { tempDir, testConfig } from './helpers.js';

const row = (id: number | string | null, extra: Record<string, unknown> = {}) => ({
  msg_id: id,
  from_username: 'wxid_alice',
  to_username: 'wxid_bob',
  content: `hello ${String(id)}`,
  create_time: 1_700_000_000,
  msg_type: 1,
  ...extra,
});

async function openStore(dataDir = tempDir()): Promise<TierStore> {
  return openTierStore({ config: testConfig(dataDir), registry });
}

function storedIds(store: TierStore): string[] {
  return (store.hot.raw.prepare('SELECT msg_id FROM messages ORDER BY msg_id').safeIntegers(true).pluck().all() as bigint[]).map(String);
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('appendMessages refuses what is not an array of rows, naming what it got', () => {
  it.each([
    [null, /got null/],
    [undefined, /got undefined/],
    ['[{"msg_id":1}]', /got a string \("\[\{\\"msg_id\\":1\}\]"\)/],
    [{ length: 2, 0: row(1), 1: row(2) }, /got an array-like Object of length 2, not an array/],
    [{ msg_id: 1 }, /got an object/],
    [42, /got a number \(42\)/],
  ])('%j', async (input, pattern) => {
    await using store = await openStore();
    const error = await rejection(store.hot.appendMessages(input as never));
    expect(error).toBeInstanceOf(ArgumentError);
    expect((error as Error).message).toMatch(/appendMessages expects an array of rows/);
    expect((error as Error).message).toMatch(pattern);
    expect(() => appendMessages(store.hot.raw, input as never)).toThrow(ArgumentError);
    expect(storedIds(store)).toEqual([]);
  });
});

describe('rows that cannot be stored exactly are refused one by one', () => {
  it('a lone surrogate in any text column refuses that row with its index and reason; well-formed pairs are kept', async () => {
    await using store = await openStore();
    const result = await store.hot.appendMessages([
      row(1, { content: 'ok 😀' }),
      row(2, { content: 'bad \uD800 here' }),
      row(3, { from_username: '\uDC00x' }),
      row(4, { chatroom: 'x\uD83D' }),
      row(5, { weird: 'kept \uD800 as a JSON escape' }),
    ]);
    expect(result.inserted).toBe(2);
    expect(result.rejected).toEqual([
      { index: 1, reason: expect.stringMatching(/^content: holds a lone surrogate \(U\+D800\) at character 4/) as unknown },
      { index: 2, reason: expect.stringMatching(/^from_username: holds a lone surrogate \(U\+DC00\) at character 0/) as unknown },
      { index: 3, reason: expect.stringMatching(/^chatroom: holds a lone surrogate \(U\+D83D\)/) as unknown },
    ]);
    const stored = store.hot.raw.prepare('SELECT content, extra_fields FROM messages ORDER BY msg_id').all() as { content: string; extra_fields: string | null }[];
    expect(stored[0]!.content).toBe('ok 😀');
    expect(JSON.parse(stored[1]!.extra_fields!)).toEqual({ weird: 'kept \uD800 as a JSON escape' });
  });

  it('a lone surrogate arriving as a JSON escape in JSONL goes to the rejects file; the other lines are ingested', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'in.jsonl');
    writeFileSync(file, [JSON.stringify(row(1)), '{"msg_id":2,"from_username":"a","to_username":"b","content":"x\\ud800","create_time":1700000000,"msg_type":1}', JSON.stringify(row(3))].join('\n') + '\n');
    await using store = await openStore(path.join(dir, 'data'));
    const result = await ingestJsonl(store, file);
    expect(result).toMatchObject({ lines: 3, inserted: 2, rejected: 1 });
    const rejects = readFileSync(result.rejectsPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { line: number; reason: string });
    expect(rejects).toEqual([{ line: 2, reason: expect.stringMatching(/^content: holds a lone surrogate \(U\+D800\)/) as unknown, text: expect.any(String) as unknown }]);
    expect(storedIds(store)).toEqual(['1', '3']);
  });

  it('a NULL msg_id refuses that row, saying so', async () => {
    await using store = await openStore();
    const result = await store.hot.appendMessages([row(null), row(2)]);
    expect(result).toEqual({ inserted: 1, duplicates: 0, rejected: [{ index: 0, reason: 'msg_id: is required, got null' }] });
  });
});

describe('a full disk', () => {
  it('appendMessages: TIERDB_DISK_FULL naming the hot file; nothing of the call is stored', async () => {
    await using store = await openStore();
    const raw = store.hot.raw;
    raw.pragma(`max_page_count = ${raw.pragma('page_count', { simple: true }) as number}`);
    const rows = Array.from({ length: 200 }, (_, i) => row(i + 1, { content: 'x'.repeat(2000) }));
    const error = await rejection(store.hot.appendMessages(rows));
    expect(error).toBeInstanceOf(TierError);
    expect((error as TierError).code).toBe('TIERDB_DISK_FULL');
    expect((error as Error).message).toContain(store.hot.path);
    expect(storedIds(store)).toEqual([]);
  });

  it('ingest: TIERDB_DISK_FULL naming the input and the hot file; the checkpoint matches what was committed, and a rerun resumes', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'big.jsonl');
    const lines: string[] = [];
    for (let i = 1; i <= 400; i++) lines.push(i % 25 === 0 ? '{"not":"a row"}' : JSON.stringify(row(i, { content: `${i} ${'y'.repeat(1500)}` })));
    writeFileSync(file, lines.join('\n') + '\n');
    await using store = await openStore(path.join(dir, 'data'));
    const raw = store.hot.raw;
    const pages = raw.pragma('page_count', { simple: true }) as number;
    raw.pragma(`max_page_count = ${pages + 40}`);

    const error = await rejection(ingestJsonl(store, file, { batchSize: 20 }));
    expect(error).toBeInstanceOf(TierError);
    expect((error as TierError).code).toBe('TIERDB_DISK_FULL');
    const message = (error as Error).message;
    expect(message).toContain(file);
    expect(message).toContain(store.hot.path);
    const checkpoint = JSON.parse(raw.prepare('SELECT value FROM _tierdb_checkpoints WHERE name = ?').pluck().get(checkpointName(file)) as string) as IngestCheckpoint;
    expect(checkpoint.line).toBeGreaterThan(0);
    expect(checkpoint.line).toBeLessThan(400);
    expect(message).toContain(`Nothing past the last checkpoint (line ${checkpoint.line}, byte ${checkpoint.offset}) was committed`);
    // Exactly the rows of the committed lines are stored.
    const committedRows = lines.slice(0, checkpoint.line).filter((l) => l.startsWith('{"msg_id"')).length;
    expect(storedIds(store)).toHaveLength(committedRows);

    raw.pragma('max_page_count = 1073741823');
    const resumed = await ingestJsonl(store, file, { batchSize: 20 });
    expect(resumed.resumedFromByte).toBe(checkpoint.offset);
    expect(storedIds(store)).toHaveLength(400 - 16);
    const rejects = readFileSync(resumed.rejectsPath, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { line: number }).line);
    expect(rejects).toEqual(Array.from({ length: 16 }, (_, i) => (i + 1) * 25));
  });
});
