#!/usr/bin/env node
/**
 * Checks the package as it ships: publint (strict) and are-the-types-wrong
 * (ESM only: tierdb has no CommonJS entry) on one packed tarball.
 *
 *   npm run check:package                 # packs the project (prepare builds dist/ first)
 *   npm run check:package -- tierdb.tgz   # checks a tarball packed already (the packaging test's)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
/** The JS file of a devDependency's bin (run with this node, so no shell or .cmd shim is involved). */
const binOf = (pkg, name) => {
  const dir = path.join(root, 'node_modules', pkg);
  const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  return path.join(dir, typeof manifest.bin === 'string' ? manifest.bin : manifest.bin[name]);
};

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

let tarball = process.argv[2];
let packDir;
if (tarball === undefined) {
  packDir = mkdtempSync(path.join(os.tmpdir(), 'tierdb-check-'));
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const packed = spawnSync(npm, ['pack', '--json', '--pack-destination', packDir], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], shell: process.platform === 'win32' });
  if (packed.status !== 0) process.exit(packed.status ?? 1);
  tarball = path.join(packDir, JSON.parse(packed.stdout)[0].filename);
}
tarball = path.resolve(tarball);

try {
  let status = run(process.execPath, [binOf('publint', 'publint'), 'run', tarball, '--strict']);
  if (status === 0) status = run(process.execPath, [binOf('@arethetypeswrong/cli', 'attw'), tarball, '--profile', 'esm-only', '--format', 'ascii']);
  process.exitCode = status;
} finally {
  if (packDir) rmSync(packDir, { recursive: true, force: true });
}
