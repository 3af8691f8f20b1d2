/**
 * Issue 7 (items 3 and 7): `tierdb validate` finds every damaged file (any
 * flipped bit, by the whole-file sha256), names missing files with what they
 * held and how to get the rows back, reports keys stored twice, and warns
 * about files in the cold tree the manifest does not list.
 */
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { validateColdFiles } from '../src/archive/validateColdFiles.js';
import { absoluteColdPath } from '../src/cold/coldLayout.js';
import { DuckDbEngine } from '../src/cold/DuckDbEngine.js';
import { openTierStore } from '../src/store/openTierStore.js';
import { NOW_MS, NOW_S, runCli, seedTaskQueue } from './archiveFixtures.js';
import { tempDir, testConfig } from './helpers.js';

const ENV = { ARCHIVE_BATCH_SIZE: '500', HOT_DAYS_TASK: '7' };

interface FileRow {
  path: string;
  rows: number;
  partition: string;
  min_key: number;
}

/** An archived store; returns its live files in id order. */
async function archived(dir: string): Promise<FileRow[]> {
  await seedTaskQueue(dir, 3000, 20, ENV);
  const store = await openTierStore({ config: testConfig(dir, ENV) });
  try {
    await store.archiver.run({ now: NOW_MS, tables: ['task_queue'] });
    return store.hot.raw.prepare(`SELECT path, rows, partition, min_key FROM _tierdb_files WHERE state = 'live' ORDER BY id`).all() as FileRow[];
  } finally {
    await store.close();
  }
}

/** Lists a copy of `from` under a new path in the manifest, as a second live file with the same rows. */
function listCopy(dir: string, from: string, to: string): void {
  const db = new Database(path.join(dir, 'hot.db'));
  try {
    const columns = (db.prepare(`PRAGMA table_info(_tierdb_files)`).all() as { name: string }[]).map((c) => c.name).filter((c) => c !== 'id' && c !== 'path');
    db.prepare(`INSERT INTO _tierdb_files (path, ${columns.join(', ')}) SELECT ?, ${columns.join(', ')} FROM _tierdb_files WHERE path = ?`).run(to, from);
  } finally {
    db.close();
  }
}

describe('tierdb validate finds damage', () => {
  it('flags a single flipped bit at each of 64 offsets of an archived file', async () => {
    const dir = tempDir();
    const files = await archived(dir);
    const config = testConfig(dir, ENV);
    const target = absoluteColdPath(config.coldDir, files[1]!.path);
    const original = readFileSync(target);
    const store = await openTierStore({ config, readonly: true });
    const engine = await DuckDbEngine.create({ memoryLimit: '256MB', threads: 1 });
    const missed: number[] = [];
    const advice = new Set<string>();
    try {
      expect((await validateColdFiles(store.hot.raw, engine, store.cold)).problems).toEqual([]);
      const flips = 64;
      for (let i = 0; i < flips; i++) {
        const offset = Math.floor((i * (original.length - 1)) / (flips - 1));
        const damaged = Buffer.from(original);
        damaged[offset] = damaged[offset]! ^ (1 << i % 8);
        writeFileSync(target, damaged);
        const report = await validateColdFiles(store.hot.raw, engine, store.cold);
        const named = report.problems.filter((p) => p.path === target);
        if (named.length !== 1 || report.problems.length !== 1) missed.push(offset);
        else advice.add(named[0]!.recovery);
        writeFileSync(target, original);
      }
      expect(missed, `offsets of flipped bits validate did not flag (file of ${original.length} bytes)`).toEqual([]);
      expect([...advice]).toEqual([expect.stringContaining(`${files[1]!.rows} rows of task_queue (partition ${files[1]!.partition})`)]);
      expect((await validateColdFiles(store.hot.raw, engine, store.cold)).problems).toEqual([]);
    } finally {
      engine.close();
      await store.close();
    }
  }, 120_000);

  it('names every missing and damaged file with its rows and how to restore it; notes files without a checksum; warns about unlisted files', async () => {
    const dir = tempDir();
    const files = await archived(dir);
    const coldDir = path.join(dir, 'cold');
    const missingA = absoluteColdPath(coldDir, files[0]!.path);
    const missingB = absoluteColdPath(coldDir, files[2]!.path);
    const damaged = absoluteColdPath(coldDir, files[3]!.path);
    rmSync(missingA);
    rmSync(missingB);
    const bytes = readFileSync(damaged);
    bytes[Math.floor(bytes.length / 3)]! ^= 0x10;
    writeFileSync(damaged, bytes);
    const db = new Database(path.join(dir, 'hot.db'));
    db.prepare('UPDATE _tierdb_files SET file_sha256 = NULL WHERE path = ?').run(files[4]!.path);
    db.close();
    const stray = path.join(path.dirname(absoluteColdPath(coldDir, files[5]!.path)), 'part-copied-by-hand.parquet');
    copyFileSync(absoluteColdPath(coldDir, files[5]!.path), stray);

    const r = await runCli(['--data-dir', dir, 'validate'], ENV);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain('3 problems');
    for (const [abs, f] of [
      [missingA, files[0]!],
      [missingB, files[2]!],
    ] as const) {
      expect(r.stdout).toContain(`task_queue ${abs}: missing`);
      expect(r.stdout).toContain(`its ${f.rows} rows of task_queue (partition ${f.partition}) are gone from the cold tier`);
      expect(r.stdout).toContain(`Restore ${abs} from a copy or backup`);
    }
    expect(r.stdout).toMatch(new RegExp(`task_queue ${damaged.replaceAll('/', '\\/')}: damaged: its sha256 is`));
    expect(r.stdout).toContain(`Restore ${damaged} from a copy or backup`);
    expect(r.stdout).toMatch(/1 file has no whole-file checksum[^\n]*\n\s+\S+/);
    expect(r.stdout).toContain(absoluteColdPath(coldDir, files[4]!.path));
    expect(r.stdout).toMatch(/warning: 1 file in the cold tree is not listed in the manifest/);
    expect(r.stdout).toContain(stray);

    const json = await runCli(['--data-dir', dir, 'validate', '--json'], ENV);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as { problems: { path: string; rows: number }[]; unlisted: string[]; withoutChecksum: string[] };
    expect(report.problems.map((p) => p.path).sort()).toEqual([missingA, missingB, damaged].sort());
    expect(report.unlisted).toEqual([stray]);
    expect(report.withoutChecksum).toEqual([absoluteColdPath(coldDir, files[4]!.path)]);
  }, 120_000);

  it('reports a key stored in two live files and a key both hot and cold: table, count, example keys, files', async () => {
    const dir = tempDir();
    const files = await archived(dir);
    const coldDir = path.join(dir, 'cold');
    const original = files[1]!;
    const copyRel = original.path.replace(/\.parquet$/, '-copy.parquet');
    copyFileSync(absoluteColdPath(coldDir, original.path), absoluteColdPath(coldDir, copyRel));
    listCopy(dir, original.path, copyRel);
    const ok = await runCli(['--data-dir', dir, 'validate', '--json'], ENV);
    expect(ok.code).toBe(1);
    const first = JSON.parse(ok.stdout) as { problems: unknown[]; duplicateKeys: { table: string; kind: string; count: number; examples: string[]; files: string[] }[] };
    expect(first.problems).toEqual([]);
    expect(first.duplicateKeys).toEqual([
      {
        table: 'task_queue',
        keyColumn: 'id',
        kind: 'cold',
        count: original.rows,
        examples: expect.arrayContaining([String(original.min_key)]) as unknown as string[],
        files: [absoluteColdPath(coldDir, original.path), absoluteColdPath(coldDir, copyRel)],
      },
    ]);
    expect(first.duplicateKeys[0]!.examples).toHaveLength(5);

    // A cold key written back into the hot table.
    const coldKey = files[3]!.min_key;
    const db = new Database(path.join(dir, 'hot.db'));
    db.prepare(`INSERT INTO task_queue (id, task_type, status, payload, created_at) VALUES (?, 'again', 'done', '{}', ?)`).run(coldKey, NOW_S - 60);
    db.close();
    const r = await runCli(['--data-dir', dir, 'validate'], ENV);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('2 problems');
    expect(r.stdout).toContain(`task_queue: ${original.rows} keys of id stored in more than one place in live cold files`);
    expect(r.stdout).toContain(`task_queue: 1 key of id both hot and in a live cold file`);
    expect(r.stdout).toContain(`e.g. ${coldKey};`);
    expect(r.stdout).toContain(absoluteColdPath(coldDir, files[3]!.path));
    expect(r.stdout).toContain(absoluteColdPath(coldDir, copyRel));
  }, 120_000);
});
