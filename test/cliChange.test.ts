/**
 * `tierdb delete`, `tierdb update` and `tierdb erase` through the CLI: the
 * same filters as `tierdb query`, counts and a receipt printed; bad flags and
 * filters refused with an error naming the problem, nothing changed.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wechatPreset } from '../src/presets/wechat/wechatPreset.js';
import { openTierStore } from '../src/store/openTierStore.js';
import { NOW_MS, runCli, seedTaskQueue } from './archiveFixtures.js';
import { tempDir, testConfig } from './helpers.js';

const ENV = { HOT_DAYS_TASK: '7', TIERDB_ERASE_GRACE_SECONDS: '0' };
let template: string;

async function count(dir: string, where = ''): Promise<number> {
  const store = await openTierStore({ config: testConfig(dir, ENV), preset: wechatPreset, readonly: true });
  try {
    const [row] = await store.bridge.sql(`SELECT count(*) AS n FROM task_queue ${where}`);
    return Number(row!.n);
  } finally {
    await store.close();
  }
}

describe('tierdb delete / update / erase', () => {
  beforeAll(async () => {
    template = mkdtempSync(path.join(tmpdir(), 'tierdb-template-'));
    await seedTaskQueue(template, 1000, 30);
    const store = await openTierStore({ config: testConfig(template, ENV), preset: wechatPreset });
    await store.archiver.run({ now: NOW_MS });
    await store.close();
  }, 60_000);
  afterAll(() => rmSync(template, { recursive: true, force: true }));

  it('deletes, updates and erases with --where/--since/--until, printing counts and a receipt', async () => {
    const dir = tempDir();
    cpSync(template, dir, { recursive: true });
    const cli = (...args: string[]) => runCli(['--data-dir', dir, ...args], ENV);
    const del = await cli('delete', '--table', 'task_queue', '--where', 'priority=4', '--json');
    expect(del.code, del.stderr).toBe(0);
    const deleted = JSON.parse(del.stdout) as { hot: number; cold: number };
    expect(deleted.hot + deleted.cold).toBe(200);
    expect(deleted.cold).toBeGreaterThan(0);
    const upd = await cli('update', '--table', 'task_queue', '--where', 'priority=3', '--until', '2026-06-01', '--set', 'status=archived', '--set-null', 'payload');
    expect(upd.code, upd.stderr).toBe(0);
    expect(upd.stdout).toMatch(/^updated \d+ rows of task_queue: \d+ hot, \d+ cold/);
    expect(await count(dir, "WHERE status = 'archived' AND payload IS NULL")).toBeGreaterThan(0);
    const dry = await cli('erase', '--table', 'task_queue', '--where', 'priority=1', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/erase dry run/);
    expect(await count(dir, 'WHERE priority = 1')).toBe(200);
    const erased = await cli('erase', '--table', 'task_queue', '--where', 'priority=1');
    expect(erased.code, erased.stderr).toBe(0);
    expect(erased.stdout).toMatch(/receipt \d+, complete/);
    expect(erased.stdout).toMatch(/sha256 [0-9a-f]{64}/);
    expect(erased.stdout).toContain('"priority":{"eq":"sha256:');
    expect(await count(dir, 'WHERE priority = 1')).toBe(0);
    expect(await count(dir)).toBe(600);
  });

  it('refuses a missing filter, unknown columns, bad --set and bad times, naming them; nothing changes', async () => {
    const dir = tempDir();
    cpSync(template, dir, { recursive: true });
    const cli = (...args: string[]) => runCli(['--data-dir', dir, ...args], ENV);
    // The library's refusals (unknown columns, values a column cannot hold, the key column) are
    // tested in change.test.ts; here what the CLI itself parses, and one refusal passed through.
    const cases: [string[], RegExp][] = [
      [['delete', '--table', 'task_queue'], /no where filter given.*all: true/],
      [['delete', '--table', 'task_queue', '--where', 'priority'], /--where "priority": expected col=val/],
      [['delete', '--where', 'id=1'], /--table/],
      [['update', '--table', 'task_queue', '--where', 'priority=1', '--set', 'status'], /--set "status": expected col=value/],
      [['update', '--table', 'task_queue', '--where', 'priority=1', '--set', 'id=5'], /key column id cannot be changed/],
      [['erase', '--table', 'task_queue', '--since', 'yesterday'], /--since "yesterday" is not an ISO-8601 time/],
    ];
    for (const [args, message] of cases) {
      const result = await cli(...args);
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(result.stderr, args.join(' ')).toMatch(message);
    }
    expect(await count(dir)).toBe(1000);
  });
});
