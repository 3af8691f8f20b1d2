/**
 * Issue 7 item 8: `tierdb export --out` writes a new file or (with --force)
 * replaces a regular file, atomically; a folder, a device, a FIFO or a link is
 * refused naming the path, even with --force, and is left exactly as it was.
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertOutputPath } from '../src/export/assertOutputPath.js';
import { ArgumentError } from '../src/errors.js';
import { runCli, seedTaskQueue } from './archiveFixtures.js';
import { tempDir } from './helpers.js';

describe('export --out refuses what is not a regular file', () => {
  it('a folder, a FIFO, a symbolic link (live or dangling): exit 1 naming the path, no stack trace, nothing removed or replaced', async () => {
    const dir = tempDir();
    await seedTaskQueue(dir, 50, 2);
    const outDir = path.join(dir, 'out');
    mkdirSync(outDir);
    const folder = path.join(outDir, 'a-folder');
    mkdirSync(folder);
    writeFileSync(path.join(folder, 'inside.txt'), 'keep');
    const fifo = path.join(outDir, 'a-fifo');
    execFileSync('mkfifo', [fifo]);
    const target = path.join(outDir, 'target.csv');
    writeFileSync(target, 'keep me');
    const link = path.join(outDir, 'link.csv');
    symlinkSync(target, link);
    const dangling = path.join(outDir, 'dangling.csv');
    symlinkSync(path.join(outDir, 'nowhere.csv'), dangling);

    const cases: [string, string[], RegExp][] = [
      [folder, ['--force'], /is a directory, not a regular file/],
      [folder, [], /is a directory, not a regular file/],
      [fifo, ['--force'], /is a FIFO \(named pipe\), not a regular file/],
      [link, ['--force'], /is a symbolic link, not a regular file/],
      [dangling, [], /is a symbolic link, not a regular file/],
    ];
    for (const [out, extra, message] of cases) {
      const r = await runCli(['--data-dir', dir, 'export', 'task_queue', '--format', 'csv', '--out', out, ...extra]);
      expect(r.code, `${out} ${extra.join(' ')}: ${r.stdout}`).toBe(1);
      expect(r.stderr).toContain(`--out ${out} is `);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain('never removed or replaced');
      expect(r.stderr, 'a stack trace').not.toMatch(/\n\s+at /);
    }
    expect(lstatSync(folder).isDirectory()).toBe(true);
    expect(readFileSync(path.join(folder, 'inside.txt'), 'utf8')).toBe('keep');
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(target);
    expect(readFileSync(target, 'utf8')).toBe('keep me');
    expect(lstatSync(dangling).isSymbolicLink()).toBe(true);
    // No temp file left beside them.
    expect(readdirSync(outDir).sort()).toEqual(['a-fifo', 'a-folder', 'dangling.csv', 'link.csv', 'target.csv']);

    // A new path and a regular file with --force still work.
    const fresh = path.join(outDir, 'fresh.csv');
    const ok = await runCli(['--data-dir', dir, 'export', 'task_queue', '--format', 'csv', '--out', fresh]);
    expect(ok.code, ok.stderr).toBe(0);
    const forced = await runCli(['--data-dir', dir, 'export', 'task_queue', '--format', 'csv', '--out', target, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(target, 'utf8').split('\r\n').filter((l) => l !== '')).toHaveLength(51);
  }, 60_000);

  it('a device such as /dev/null is refused even with --force (checked without running an export)', () => {
    expect(() => assertOutputPath('/dev/null', true)).toThrow(ArgumentError);
    expect(() => assertOutputPath('/dev/null', true)).toThrow('--out /dev/null is a character device, not a regular file');
    expect(lstatSync('/dev/null').isCharacterDevice()).toBe(true);
  });
});
