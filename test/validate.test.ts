import { rmSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { absoluteColdPath } from '../src/cold/coldLayout.js';
import { openTierStore } from '../src/store/openTierStore.js';
import { NOW_MS, runCli, seedTaskQueue } from './archiveFixtures.js';
import { tempDir, testConfig } from './helpers.js';

describe('tierdb validate', () => {
  it('passes on intact files and names a corrupt and a missing file', async () => {
    const dir = tempDir();
    const env = { ARCHIVE_BATCH_SIZE: '1000', HOT_DAYS_TASK: '7' };
    await seedTaskQueue(dir, 1000, 20, env);
    const config = testConfig(dir, env);
    const store = await openTierStore({ config });
    let files: string[];
    try {
      await store.archiver.run({ now: NOW_MS, tables: ['task_queue'] });
      files = store.hot.raw.prepare(`SELECT path FROM _tierdb_files WHERE state = 'live' ORDER BY id`).pluck().all() as string[];
    } finally {
      await store.close();
    }
    expect(files.length).toBeGreaterThan(3);
    const ok = await runCli(['--data-dir', dir, 'validate', '--json'], env);
    expect(ok.code, ok.stderr).toBe(0);
    const okReport = JSON.parse(ok.stdout) as { filesChecked: number; rowsChecked: number; problems: unknown[] };
    expect(okReport.filesChecked).toBe(files.length);
    expect(okReport.problems).toEqual([]);

    const corrupt = absoluteColdPath(config.coldDir, files[0]!);
    const missing = absoluteColdPath(config.coldDir, files[1]!);
    writeFileSync(corrupt, 'PAR1 this is not a parquet file');
    rmSync(missing);
    const bad = await runCli(['--data-dir', dir, 'validate'], env);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(`${files.length} files`);
    expect(bad.stdout).toContain('2 problems');
    expect(bad.stdout).toMatch(new RegExp(`${corrupt.replaceAll('/', '\\/')}: .*(unreadable|size)`));
    expect(bad.stdout).toContain(`${missing}: missing`);
  });
});
