/**
 * CLI tests run the built CLI (bin/tierdb.mjs → dist/): build it once before
 * any test, so a test never runs yesterday's dist/ against today's src/.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export default function setup(): void {
  const root = path.resolve(import.meta.dirname, '..');
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
}
