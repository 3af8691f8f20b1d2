import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { expect, onTestFinished } from 'vitest';
import { loadConfig, type TierConfig } from '../src/config.js';
import { openTierStore, type TierStore } from '../src/store/openTierStore.js';

/** A fresh folder for one test, removed when the test finishes. */
export function tempDir(prefix = 'tierdb-test-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A config for a temp data folder, ignoring the machine's env and `.env`. */
/**
 * `ARCHIVE_THREAD_MIN_ROWS` from the test run's own environment reaches every store and CLI child:
 * `ARCHIVE_THREAD_MIN_ROWS=0 npm test` runs every archive's reads and writes on the worker thread.
 */
const threadEnv = (): Record<string, string> => (process.env.ARCHIVE_THREAD_MIN_ROWS === undefined ? {} : { ARCHIVE_THREAD_MIN_ROWS: process.env.ARCHIVE_THREAD_MIN_ROWS });

export function testConfig(dataDir: string, env: Record<string, string> = {}): TierConfig {
  return loadConfig({ env: { LOG_LEVEL: 'silent', ...threadEnv(), ...env }, envFile: false, dataDir });
}

export const REPO_ROOT = path.resolve(import.meta.dirname, '..');

/**
 * The environment of a CLI child process: only what a process needs to run, never the developer's
 * shell variables or `.env` (TIERDB_DOTENV=off), plus `extra`.
 */
export function cliEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'TEMP', 'TMP', 'SYSTEMROOT', 'LANG', 'TZ', 'NODE_OPTIONS'];
  const env: Record<string, string> = { TIERDB_DOTENV: 'off', ...threadEnv() };
  for (const name of keep) if (process.env[name] !== undefined) env[name] = process.env[name]!;
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

/**
 * Waits until every retired file the manifest lists is older than the retired grace (TIERDB_RETIRED_GRACE_SECONDS,
 * `graceMs`) by `marginMs`: what a fixed sleep of grace + margin after the last retiring run waited for, less the
 * time that has passed since (nothing when there is no retired file, or when they are past it already).
 */
export async function waitPastRetiredGrace(raw: Database.Database, graceMs: number, marginMs = 100): Promise<void> {
  const last = raw.prepare(`SELECT max(retired_at_ms) FROM _tierdb_files WHERE state = 'retired'`).pluck().get() as number | null;
  const wait = last === null ? 0 : last + graceMs + marginMs - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}

/**
 * The run after a crash, in this process instead of a CLI child (the crash itself is the CLI's):
 * opens the store (its recovery runs), runs `work`, closes it. Failpoints read this process's
 * environment here (a CLI child's came from cliEnv), so none may be set.
 */
export async function rerunInProcess<T>(options: Parameters<typeof openTierStore>[0], work: (store: TierStore) => Promise<T>): Promise<T> {
  expect(process.env.TIERDB_FAILPOINT, 'TIERDB_FAILPOINT in the test runner would kill it').toBeUndefined();
  const store = await openTierStore(options);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}
