/**
 * Issue 7 item 10: `tierdb ingest` given a folder (or a missing path) stops
 * with an error naming the path, before it opens or creates a store.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './archiveFixtures.js';
import { tempDir } from './helpers.js';

describe('tierdb ingest <path>', () => {
  it('a directory or a missing path: exit 1 naming it, no stack trace, no store created', async () => {
    const dir = tempDir();
    const folder = path.join(dir, 'exports');
    mkdirSync(folder);
    const data = path.join(dir, 'data');
    const asFolder = await runCli(['--data-dir', data, 'ingest', folder]);
    expect(asFolder.code).toBe(1);
    expect(asFolder.stderr).toContain(`ingest: ${folder} is a directory; give one JSONL file`);
    expect(asFolder.stderr, 'a stack trace').not.toMatch(/\n\s+at /);
    const missing = path.join(dir, 'nope.jsonl');
    const asMissing = await runCli(['--data-dir', data, 'ingest', missing]);
    expect(asMissing.code).toBe(1);
    expect(asMissing.stderr).toContain(`ingest: ${missing} does not exist`);
    expect(existsSync(path.join(data, 'hot.db')), 'ingest created a store').toBe(false);
  });
});
