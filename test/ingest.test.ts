import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import registry from '../archive-registry.js';
import { TierError } from '../src/errors.js';
import { checkpointName, ingestJsonl, rejectsPathFor, type IngestCheckpoint } from '../src/presets/wechat/ingestJsonl.js';
import { parseJsonLine, quoteBigIntegers } from '../src/presets/wechat/parseJsonLine.js';
import { openTierStore, type TierStore } from '../src/store/openTierStore.js';
import { cliEnv, REPO_ROOT, tempDir, testConfig } from './helpers.js';

const BASE_ID = 7_000_000_000_000_000_000n; // beyond 2^53: must stay exact

/** A JSON line for a message whose msg_id is written as a bare JSON integer. */
function messageLine(id: bigint, extra = ''): string {
  return `{"msg_id":${id},"from_username":"wxid_${id % 97n}","to_username":"wxid_self","content":"msg ${id} \\"quoted\\" 12345678901234567890","create_time":${1_700_000_000 + Number(id % 100000n)},"msg_type":1${extra}}`;
}

interface Fixture {
  text: string;
  validIds: Set<bigint>;
  /** Line numbers (1-based) that must be rejected, with a pattern for the reason. */
  invalid: Map<number, RegExp>;
  nonBlank: number;
  duplicates: number;
}

/**
 * n lines: mostly valid rows, some duplicates of earlier ids, some invalid
 * rows or non-JSON, some blank lines; the last line has no trailing newline.
 */
function makeFixture(n: number): Fixture {
  const lines: string[] = [];
  const validIds = new Set<bigint>();
  const invalid = new Map<number, RegExp>();
  let duplicates = 0;
  let nonBlank = 0;
  for (let i = 1; i <= n; i++) {
    const id = BASE_ID + BigInt(i);
    if (i % 211 === 0) {
      lines.push('');
      continue;
    }
    nonBlank++;
    if (i % 97 === 0) {
      lines.push(`{"msg_id":${id},"from_username":"x"`); // truncated JSON
      invalid.set(i, /^not JSON/);
    } else if (i % 89 === 0) {
      lines.push(messageLine(id).replace('"create_time":', '"create_time_ms":'));
      invalid.set(i, /create_time: is required/);
    } else if (i % 83 === 0) {
      lines.push(`[${id}]`);
      invalid.set(i, /expected an object, got an array/);
    } else if (i % 50 === 0 && i > 1) {
      lines.push(messageLine(BASE_ID + BigInt(i - 1), ',"dup":true')); // same msg_id as the line before
      if (validIds.has(BASE_ID + BigInt(i - 1))) duplicates++;
      else validIds.add(BASE_ID + BigInt(i - 1));
    } else {
      lines.push(messageLine(id));
      validIds.add(id);
    }
  }
  return { text: lines.join('\n'), validIds, invalid, nonBlank, duplicates };
}

async function openStore(dataDir = tempDir()): Promise<TierStore> {
  return openTierStore({ config: testConfig(dataDir), registry });
}

function storedIds(raw: Database.Database): bigint[] {
  return raw.prepare('SELECT msg_id FROM messages ORDER BY msg_id').safeIntegers(true).pluck().all() as bigint[];
}

function readRejects(file: string): { line: number; reason: string; text: string }[] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  expect(text === '' || text.endsWith('\n')).toBe(true);
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { line: number; reason: string; text: string });
}

function readCheckpoint(raw: Database.Database, file: string): IngestCheckpoint | undefined {
  const v = raw.prepare('SELECT value FROM _tierdb_checkpoints WHERE name = ?').pluck().get(checkpointName(file)) as string | undefined;
  return v === undefined ? undefined : (JSON.parse(v) as IngestCheckpoint);
}

function expectRejectsMatch(fixture: Fixture, file: string, sourceLines: string[]): void {
  const rejects = readRejects(rejectsPathFor(file));
  expect(rejects.map((r) => r.line)).toEqual([...fixture.invalid.keys()].sort((a, b) => a - b));
  for (const r of rejects) {
    expect(r.reason).toMatch(fixture.invalid.get(r.line)!);
    expect(r.text).toBe(sourceLines[r.line - 1]);
  }
}

describe('parseJsonLine', () => {
  it('keeps integers beyond 2^53 exact, as decimal strings, outside strings only', () => {
    expect(parseJsonLine('{"a":9223372036854775807,"b":-9223372036854775808,"c":9007199254740993,"d":9007199254740991}')).toEqual({
      a: '9223372036854775807',
      b: '-9223372036854775808',
      c: '9007199254740993',
      d: 9007199254740991,
    });
    expect(parseJsonLine('[9007199254740992, 12, 1.5, 12345678901234567890.5, 1e400, 1234567890123456789e2]')).toEqual([
      '9007199254740992',
      12,
      1.5,
      12345678901234567890.5,
      Number.POSITIVE_INFINITY,
      1234567890123456789e2,
    ]);
    // Digits inside strings, also after escaped quotes and backslashes, are left alone.
    const tricky = String.raw`{"s":"a\"12345678901234567890\\","t":"\\\"","n":12345678901234567890,"u":"\u0022 99999999999999999999"}`;
    expect(parseJsonLine(tricky)).toEqual({ s: 'a"12345678901234567890\\', t: '\\"', n: '12345678901234567890', u: '" 99999999999999999999' });
    expect(quoteBigIntegers('{"a":1}')).toBe('{"a":1}');
  });

  it('keeps invalid JSON invalid', () => {
    expect(() => parseJsonLine('{"a":012345678901234567}')).toThrow(SyntaxError);
    expect(() => parseJsonLine('{"a":x12345678901234567890}')).toThrow(SyntaxError);
    expect(() => parseJsonLine('not json')).toThrow(SyntaxError);
  });
});

describe('ingestJsonl', () => {
  it('counts valid, duplicate and invalid lines exactly and writes every reject with its line number and reason', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'messages.jsonl');
    const fixture = makeFixture(3000);
    writeFileSync(file, fixture.text);
    await using store = await openStore(path.join(dir, 'data'));
    // Two rows already stored: one also in the file (a duplicate), one not.
    await store.hot.appendMessages([
      { msg_id: (BASE_ID + 1n).toString(), from_username: 'pre', to_username: 'x', create_time: 1_700_000_000, msg_type: 1 },
      { msg_id: '42', from_username: 'pre', to_username: 'x', create_time: 1_700_000_000, msg_type: 1 },
    ]);
    const progress: number[] = [];
    const result = await ingestJsonl(store, file, { batchSize: 128, onProgress: (done) => progress.push(done) });
    const size = statSync(file).size;
    expect(result).toEqual({
      lines: fixture.nonBlank,
      inserted: fixture.validIds.size - 1,
      duplicates: fixture.duplicates + 1,
      rejected: fixture.invalid.size,
      rejectsPath: `${file}.rejects.jsonl`,
      resumedFromByte: 0,
    });
    expect(result.lines).toBe(result.inserted + result.duplicates + result.rejected);
    expect(progress.at(-1)).toBe(size);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));

    const ids = storedIds(store.hot.raw);
    expect(ids).toEqual([42n, ...[...fixture.validIds].sort((a, b) => (a < b ? -1 : 1))]);
    expectRejectsMatch(fixture, file, fixture.text.split('\n'));
    // The pre-stored row was kept, not overwritten.
    expect(store.hot.raw.prepare('SELECT from_username FROM messages WHERE msg_id = ?').pluck().get(BASE_ID + 1n)).toBe('pre');
    expect(readCheckpoint(store.hot.raw, file)).toEqual({ offset: size, line: 3000, rejectsBytes: statSync(result.rejectsPath).size });

    // A second run finds the file done and does nothing.
    const again = await ingestJsonl(store, file);
    expect(again).toEqual({ lines: 0, inserted: 0, duplicates: 0, rejected: 0, rejectsPath: result.rejectsPath, resumedFromByte: size });
    expect(readRejects(result.rejectsPath)).toHaveLength(fixture.invalid.size);
  });

  it('round-trips 64-bit msg_ids written as bare JSON integers, and stores exact values', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'big.jsonl');
    const ids = [9223372036854775807n, 9007199254740993n, -9223372036854775808n, 9007199254740992n, 1n];
    writeFileSync(file, ids.map((id) => messageLine(id, `,"ref":${id},"source":12`)).join('\n') + '\n');
    await using store = await openStore(path.join(dir, 'data'));
    const result = await ingestJsonl(store.hot, file);
    expect(result).toMatchObject({ lines: 5, inserted: 5, rejected: 0 });
    expect(storedIds(store.hot.raw)).toEqual([...ids].sort((a, b) => (a < b ? -1 : 1)));
    const row = store.hot.raw.prepare('SELECT * FROM messages WHERE msg_id = ?').safeIntegers(true).get(9007199254740993n) as Record<string, unknown>;
    expect(row).toMatchObject({ content: 'msg 9007199254740993 "quoted" 12345678901234567890', source: '12', create_time: 1_700_000_000n + (9007199254740993n % 100000n) });
    // An unknown field with a big integer keeps every digit (as text) in extra_fields.
    expect(JSON.parse(row.extra_fields as string)).toEqual({ ref: '9007199254740993' });
  });

  it('skips blank lines, handles CRLF and a BOM, and processes a last line without a newline', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'edge.jsonl');
    const text = `\uFEFF${messageLine(1n)}\r\n\r\n   \n${messageLine(2n)}\n\n${messageLine(3n)}`;
    writeFileSync(file, text);
    await using store = await openStore(path.join(dir, 'data'));
    const result = await ingestJsonl(store, file, { batchSize: 1 });
    expect(result).toMatchObject({ lines: 3, inserted: 3, duplicates: 0, rejected: 0 });
    expect(existsSync(result.rejectsPath)).toBe(false);
    expect(readCheckpoint(store.hot.raw, file)).toEqual({ offset: Buffer.byteLength(text), line: 6, rejectsBytes: 0 });
  });

  it('rejects lines that are not UTF-8 instead of storing altered text', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'latin1.jsonl');
    writeFileSync(file, Buffer.concat([Buffer.from(messageLine(1n) + '\n'), Buffer.from('{"msg_id":2,"content":"caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]));
    await using store = await openStore(path.join(dir, 'data'));
    const result = await ingestJsonl(store, file);
    expect(result).toMatchObject({ lines: 2, inserted: 1, rejected: 1 });
    expect(readRejects(result.rejectsPath)).toEqual([{ line: 2, reason: 'not valid UTF-8', text: '{"msg_id":2,"content":"caf\uFFFD"}' }]);
  });

  it('stops on abort between batches, keeps what was committed, and resumes without duplicating a row or a reject', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'abort.jsonl');
    const fixture = makeFixture(12_000); // > 1 MiB: lines cross read-chunk boundaries
    writeFileSync(file, fixture.text);
    const size = statSync(file).size;
    expect(size).toBeGreaterThan(1 << 20);
    await using store = await openStore(path.join(dir, 'data'));

    const abort = new AbortController();
    let batches = 0;
    const aborted = ingestJsonl(store, file, {
      batchSize: 1000,
      signal: abort.signal,
      onProgress: (done) => {
        if (done > 0 && ++batches === 5) abort.abort(new Error('stop now'));
      },
    });
    await expect(aborted).rejects.toThrow('stop now');
    const cp = readCheckpoint(store.hot.raw, file)!;
    expect(cp.offset).toBeGreaterThan(0);
    expect(cp.offset).toBeLessThan(size);
    expect(cp.line).toBeGreaterThanOrEqual(5000);
    // The committed rows are exactly the valid rows before the checkpoint's line.
    const lines = fixture.text.split('\n');
    expect(Buffer.byteLength(lines.slice(0, cp.line).join('\n')) + 1).toBe(cp.offset);
    const committed = storedIds(store.hot.raw);
    expect(committed.length).toBe([...fixture.validIds].filter((id) => id - BASE_ID <= BigInt(cp.line)).length);
    expect(statSync(rejectsPathFor(file)).size).toBe(cp.rejectsBytes);

    // A crash after the rejects were fsynced but before the commit leaves bytes past the checkpoint.
    appendFileSync(rejectsPathFor(file), '{"line":999999,"reason":"from a rolled-back batch","text":""}\n');

    const resumed = await ingestJsonl(store, file, { batchSize: 1000 });
    expect(resumed.resumedFromByte).toBe(cp.offset);
    expect(resumed.lines).toBe(fixture.nonBlank - (cp.line - lines.slice(0, cp.line).filter((l) => l === '').length));
    expect(storedIds(store.hot.raw).length).toBe(fixture.validIds.size);
    expectRejectsMatch(fixture, file, lines);
  });

  it('refuses a checkpoint beyond the end of the file, and --restart starts over', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'shrunk.jsonl');
    writeFileSync(file, [messageLine(1n), messageLine(2n), '{bad'].join('\n') + '\n');
    await using store = await openStore(path.join(dir, 'data'));
    await ingestJsonl(store, file);
    writeFileSync(file, messageLine(3n) + '\n'); // replaced by a shorter file
    const err = await ingestJsonl(store, file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TierError);
    expect((err as TierError).message).toMatch(/beyond|only \d+ bytes/);
    expect((err as TierError).message).toContain('--restart');
    const restarted = await ingestJsonl(store, file, { restart: true });
    expect(restarted).toMatchObject({ lines: 1, inserted: 1, rejected: 0, resumedFromByte: 0 });
    expect(existsSync(restarted.rejectsPath)).toBe(false); // the old rejects went with the old checkpoint
    expect(storedIds(store.hot.raw)).toEqual([1n, 2n, 3n]);
  });

  it('resumes after the CLI process is killed mid-ingest (SIGKILL)', async () => {
    const dir = tempDir();
    const dataDir = path.join(dir, 'data');
    const file = path.join(dir, 'big.jsonl');
    const fixture = makeFixture(50_000);
    writeFileSync(file, fixture.text);
    const size = statSync(file).size;
    // Create the database first, so the poller never races the child's migrations.
    await (await openStore(dataDir)).close();
    const hotPath = path.join(dataDir, 'hot.db');

    const env = cliEnv({ LOG_LEVEL: 'silent', TIERDB_DATA_DIR: dataDir });
    const cli = (args: string[]) => spawn(process.execPath, ['bin/tierdb.mjs', '--data-dir', dataDir, 'ingest', file, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const finished = (child: ReturnType<typeof cli>) =>
      new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
        let stdout = '';
        let stderr = '';
        child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
      });

    const poller = new Database(hotPath, { readonly: true });
    try {
      const first = cli(['--batch-size', '500']);
      const firstDone = finished(first);
      let seen: IngestCheckpoint | undefined;
      let exited = false;
      void firstDone.then(() => (exited = true));
      while (!exited) {
        seen = readCheckpoint(poller, file);
        if (seen !== undefined && seen.offset > 0) {
          first.kill('SIGKILL');
          break;
        }
        await new Promise((r) => setTimeout(r, 2));
      }
      const killed = await firstDone;
      expect(killed.signal, `first run was not killed mid-way: ${killed.stderr}`).toBe('SIGKILL');
      const atKill = readCheckpoint(poller, file)!;
      expect(atKill.offset).toBeGreaterThan(0);
      expect(atKill.offset).toBeLessThan(size);
      // Rows committed so far match the checkpoint exactly.
      expect(storedIds(poller).length).toBe([...fixture.validIds].filter((id) => id - BASE_ID <= BigInt(atKill.line)).length);

      const second = await finished(cli(['--batch-size', '500']));
      expect(second.code, second.stderr).toBe(0);
      const summary = JSON.parse(second.stdout.trim()) as { lines: number; inserted: number; duplicates: number; rejected: number; resumedFromByte: number };
      expect(summary.resumedFromByte).toBe(atKill.offset);
      expect(summary.resumedFromByte).toBeGreaterThan(0);
      expect(summary.lines).toBe(summary.inserted + summary.duplicates + summary.rejected);

      const ids = storedIds(poller);
      expect(ids.length).toBe(fixture.validIds.size);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual([...fixture.validIds].sort((a, b) => (a < b ? -1 : 1)));
      expectRejectsMatch(fixture, file, fixture.text.split('\n'));
      expect(readCheckpoint(poller, file)).toMatchObject({ offset: size, line: 50_000 });
    } finally {
      poller.close();
    }
  });
});
