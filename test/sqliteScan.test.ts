import { describe, expect, it } from 'vitest';
import { runCli } from './archiveFixtures.js';
import { tempDir } from './helpers.js';

describe('TIERDB_SQLITE_SCAN', () => {
  it('isolated fails with a clear error where the sqlite extension cannot load; off (the default) answers', async () => {
    const dir = tempDir();
    expect((await runCli(['--data-dir', dir, 'migrate'])).code).toBe(0);
    const isolated = await runCli(['--data-dir', dir, 'sql', 'SELECT count(*) AS n FROM task_queue', '--format', 'json'], { TIERDB_SQLITE_SCAN: 'isolated' });
    expect(isolated.code).toBe(1);
    expect(isolated.stderr).toContain('TIERDB_SQLITE_SCAN=isolated');
    expect(isolated.stderr).toContain('sqlite extension');
    const off = await runCli(['--data-dir', dir, 'sql', 'SELECT count(*) AS n FROM task_queue', '--format', 'json']);
    expect(off.code, off.stderr).toBe(0);
    expect(off.stdout.replace(/\s/g, '')).toBe('[{"n":0}]');
  });
});
