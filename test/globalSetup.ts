/**
 * CLI tests run the built CLI (bin/tierdb.mjs → dist/): build it once before
 * any test, so a test never runs yesterday's dist/ against today's src/.
 * scripts/build.mjs builds into a fresh folder and swaps it in: dist/ holds
 * exactly today's modules (the packaging test packs it as is).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export default function setup(): void {
  const root = path.resolve(import.meta.dirname, '..');
  execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' });
}
