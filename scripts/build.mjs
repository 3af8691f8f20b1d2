#!/usr/bin/env node
/**
 * Builds dist/ from src/ (tsc -p tsconfig.build.json: .js with .d.ts beside it)
 * into a fresh folder and swaps it in at the end, so that
 * - no file of an older build (a module since moved or deleted) is packed, and
 * - a CLI started from dist/ meanwhile (a test, another shell) never sees it half-written.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const dist = path.join(root, 'dist');
const fresh = path.join(root, `.dist-build-${process.pid}`);
const old = path.join(root, `.dist-old-${process.pid}`);

try {
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', fresh], { cwd: root, stdio: 'inherit' });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    process.exitCode = result.status ?? 1;
  } else {
    if (existsSync(dist)) renameSync(dist, old);
    renameSync(fresh, dist);
  }
} finally {
  rmSync(fresh, { recursive: true, force: true });
  rmSync(old, { recursive: true, force: true });
}
