import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { onTestFinished } from 'vitest';
import { loadConfig, type TierConfig } from '../src/config.js';

/** A fresh folder for one test, removed when the test finishes. */
export function tempDir(prefix = 'tierdb-test-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A config for a temp data folder, ignoring the machine's env and `.env`. */
export function testConfig(dataDir: string, env: Record<string, string> = {}): TierConfig {
  return loadConfig({ env: { LOG_LEVEL: 'silent', ...env }, envFile: false, dataDir });
}

export const REPO_ROOT = path.resolve(import.meta.dirname, '..');
