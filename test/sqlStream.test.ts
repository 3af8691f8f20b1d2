/**
 * Issue 7 item 9: `tierdb sql` streams csv / ndjson / json (a result larger
 * than the JS heap completes), and the table format shows a bounded number of
 * rows with a notice. Checked under a hard heap limit, not by speed.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TABLE_ROW_LIMIT } from '../src/cli/commands/sql.js';
import { ReadOnlyError } from '../src/errors.js';
import { openTierStore } from '../src/store/openTierStore.js';
import { NOW_MS, seedTaskQueue } from './archiveFixtures.js';
import { cliEnv, REPO_ROOT, tempDir, testConfig } from './helpers.js';

// Enough that holding the result fails: with bridge.sql in place of sqlStream the csv run dies of the 128 MB heap
// (SIGABRT after ~3 s, checked 2026-12-07); 2,000,000 before, which only took twice as long.
const ROWS = 1_000_000;

interface Counted {
  code: number | null;
  signal: NodeJS.Signals | null;
  lines: number;
  head: string;
  tail: string;
  stderr: string;
}

/** Runs the CLI with a 128 MB JS heap; counts stdout lines as they arrive (never holds the output). */
function runCounted(dir: string, args: string[]): Promise<Counted> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--max-old-space-size=128', path.join(REPO_ROOT, 'bin/tierdb.mjs'), '--data-dir', dir, ...args], {
      cwd: REPO_ROOT,
      env: cliEnv({ LOG_LEVEL: 'warn', DUCKDB_MEMORY_LIMIT: '256MB' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let lines = 0;
    let head = '';
    let tail = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      for (const byte of d) if (byte === 10) lines++;
      if (head.length < 4096) head += d.toString();
      tail = (tail + d.toString()).slice(-4096);
    });
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8192)));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, lines, head, tail, stderr }));
  });
}

describe('tierdb sql under a 128 MB heap', () => {
  it(`streams ${ROWS} rows as csv, ndjson and json; the table format shows the first ${TABLE_ROW_LIMIT} and says so`, async () => {
    const dir = tempDir();
    await (await openTierStore({ config: testConfig(dir) })).close();
    const statement = `SELECT range AS n, 'row ' || range::VARCHAR AS label FROM range(${ROWS})`;

    const csv = await runCounted(dir, ['sql', statement, '--format', 'csv']);
    expect(csv.code, `${csv.signal ?? ''} ${csv.stderr}`).toBe(0);
    expect(csv.lines).toBe(ROWS + 1);
    expect(csv.head.startsWith('n,label\r\n0,row 0\r\n1,row 1\r\n')).toBe(true);
    expect(csv.tail.endsWith(`${ROWS - 1},row ${ROWS - 1}\r\n`)).toBe(true);

    const ndjson = await runCounted(dir, ['sql', statement, '--format', 'ndjson']);
    expect(ndjson.code, `${ndjson.signal ?? ''} ${ndjson.stderr}`).toBe(0);
    expect(ndjson.lines).toBe(ROWS);
    expect(ndjson.tail.endsWith(`{"n":${ROWS - 1},"label":"row ${ROWS - 1}"}\n`)).toBe(true);

    const json = await runCounted(dir, ['sql', statement, '--format', 'json']);
    expect(json.code, `${json.signal ?? ''} ${json.stderr}`).toBe(0);
    expect(json.lines).toBe(ROWS + 2);
    expect(json.head.startsWith('[\n{"n":0,"label":"row 0"},\n')).toBe(true);
    expect(json.tail.endsWith(`{"n":${ROWS - 1},"label":"row ${ROWS - 1}"}\n]\n`)).toBe(true);

    const table = await runCounted(dir, ['sql', statement]);
    expect(table.code, `${table.signal ?? ''} ${table.stderr}`).toBe(0);
    expect(table.lines).toBe(TABLE_ROW_LIMIT + 3);
    expect(table.tail).toContain(`(first ${TABLE_ROW_LIMIT} rows; more not shown)`);
    expect(table.stderr).toContain(`shows only the first ${TABLE_ROW_LIMIT} rows`);
    expect(table.stderr).toContain('--format csv');

    // A result that fits is shown whole, without a notice.
    const small = await runCounted(dir, ['sql', 'SELECT range AS n FROM range(5)']);
    expect(small.code).toBe(0);
    expect(small.tail).toContain('(5 rows)');
    expect(small.stderr).toBe('');
  }, 300_000);
});

describe('bridge.sqlStream', () => {
  it('yields exactly the rows and values bridge.sql returns, hot and cold; refuses writes; an early break frees the connection', async () => {
    const dir = tempDir();
    const env = { ARCHIVE_BATCH_SIZE: '300', HOT_DAYS_TASK: '7' };
    await seedTaskQueue(dir, 2000, 20, env);
    const store = await openTierStore({ config: testConfig(dir, env) });
    try {
      await store.archiver.run({ now: NOW_MS, tables: ['task_queue'] });
      const text = 'SELECT * FROM task_queue WHERE priority <> ? ORDER BY id';
      const want = await store.bridge.sql(text, [3]);
      expect(want.length).toBeGreaterThan(1000);
      const got = [];
      for await (const row of store.bridge.sqlStream(text, [3], { batchSize: 7 })) got.push(row);
      expect(got).toStrictEqual(want);

      await expect(async () => {
        for await (const row of store.bridge.sqlStream('DELETE FROM task_queue')) void row;
      }).rejects.toThrow(ReadOnlyError);
      let seen = 0;
      for await (const row of store.bridge.sqlStream('SELECT id FROM task_queue')) {
        void row;
        if (++seen === 10) break;
      }
      expect(await store.bridge.sql('SELECT count(*) AS n FROM task_queue')).toStrictEqual([{ n: 2000n }]);
    } finally {
      await store.close();
    }
  }, 60_000);
});
