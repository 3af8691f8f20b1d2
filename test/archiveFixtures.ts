/**
 * Fixtures for archiver tests: a data folder with old task_queue rows, and the
 * invariants every archive state must satisfy (no row lost, none duplicated,
 * none hidden, no orphan file).
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import { DuckDbEngine } from '../src/cold/DuckDbEngine.js';
import { readParquetRows } from '../src/cold/ParquetChunkWriter.js';
import { absoluteColdPath } from '../src/cold/coldLayout.js';
import { createColdStore } from '../src/cold/createColdStore.js';
import { wechatPreset } from '../src/presets/wechat/wechatPreset.js';
import { openTierStore } from '../src/store/openTierStore.js';
import { cliEnv, REPO_ROOT, testConfig } from './helpers.js';

export const DAY_S = 86_400;
/** The clock of the archiver tests: 2026-06-15T00:00:00Z. */
export const NOW_MS = Date.UTC(2026, 5, 15);
export const NOW_S = NOW_MS / 1000;

/** Fills task_queue (the WeChat preset's, created here) with `rows` rows spread over the `days` before NOW; returns the row count. */
export async function seedTaskQueue(dataDir: string, rows: number, days: number, env: Record<string, string> = {}): Promise<number> {
  const store = await openTierStore({ config: testConfig(dataDir, env), preset: wechatPreset });
  try {
    const ins = store.hot.raw.prepare(
      'INSERT INTO task_queue (task_type, status, priority, msg_id, payload, attempts, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    store.hot.raw.transaction(() => {
      for (let i = 0; i < rows; i++) {
        const t = NOW_S - 1 - Math.floor((i * days * DAY_S) / rows);
        ins.run('forward', i % 4 === 0 ? 'failed' : 'done', i % 5, 7_000_000_000_000_000_000n + BigInt(i), JSON.stringify({ i, text: `任务 ${i} 🚀` }), i % 3, t);
      }
    })();
  } finally {
    await store.close();
  }
  return rows;
}

export interface TierState {
  hotKeys: bigint[];
  /** Keys of the cold rows readers see: live files' drained rows not hidden by a delete marker. */
  coldKeys: bigint[];
  liveFiles: string[];
  treeFiles: string[];
  tmpFiles: string[];
}

/**
 * Reads keys of one table from the hot file and from every live manifest file.
 * With an `env` naming an S3 cold tree (TIERDB_COLD_URL), the files are read
 * from the bucket through a cache of the check's own, the tree is the bucket's
 * listing and the temp files are those of the local staging folder.
 */
export async function readTierState(dataDir: string, table = 'task_queue', key = 'id', env: Record<string, string> = {}): Promise<TierState> {
  const db = new Database(path.join(dataDir, 'hot.db'), { readonly: true });
  db.defaultSafeIntegers(true);
  let hotKeys: bigint[];
  let liveFiles: string[];
  let refs: { path: string; bytes: number; sha256: string | null }[];
  /** Per live file, how many leading rows are cold (a file still draining holds rows that are still hot after them). */
  const coldRows = new Map<string, number>();
  /** `path\0key` of every row a delete marker hides. */
  const masked = new Set<string>();
  try {
    hotKeys = db.prepare(`SELECT "${key}" FROM "${table}"`).pluck().all() as bigint[];
    const files = db
      .prepare(`SELECT path, bytes, file_sha256, rows, drained_rows FROM _tierdb_files WHERE table_name = ? AND state = 'live'`)
      .safeIntegers(false)
      .all(table) as { path: string; bytes: number; file_sha256: string | null; rows: number; drained_rows: number | null }[];
    refs = files.map((r) => ({ path: r.path, bytes: r.bytes, sha256: r.file_sha256 }));
    for (const f of files) coldRows.set(f.path, f.drained_rows ?? f.rows);
    for (const m of db.prepare(`SELECT path, key FROM _tierdb_deletes WHERE table_name = ?`).all(table) as { path: string; key: unknown }[]) masked.add(`${m.path}\0${String(m.key)}`);
    liveFiles = refs.map((r) => r.path);
  } finally {
    db.close();
  }
  /** The keys of a live file's rows readers see: its drained prefix, minus masked rows. */
  const visible = (rel: string, rows: unknown[][]): bigint[] =>
    rows
      .slice(0, coldRows.get(rel) ?? rows.length)
      .map((row) => row[0] as bigint)
      .filter((k) => !masked.has(`${rel}\0${String(k)}`));
  if (env.TIERDB_COLD_URL) {
    const config = testConfig(dataDir, { ...env, TIERDB_COLD_CACHE_DIR: mkdtempSync(path.join(tmpdir(), 'tierdb-check-cache-')) });
    const cold = await createColdStore(config);
    const coldKeys: bigint[] = [];
    try {
      if (refs.length > 0) {
        const read = await cold.openForRead(refs);
        const engine = await DuckDbEngine.create({ memoryLimit: '512MB', threads: 1 });
        try {
          for (const [i, local] of read.paths.entries()) coldKeys.push(...visible(refs[i]!.path, await readParquetRows(engine, local, [key])));
        } finally {
          engine.close();
          read.release();
        }
      }
      const treeFiles = (await cold.list()).map((o) => o.path);
      const tmpFiles = existsSync(config.coldStagingDir) ? readdirSync(config.coldStagingDir) : [];
      return { hotKeys, coldKeys, liveFiles, treeFiles, tmpFiles };
    } finally {
      await cold.close();
      rmSync(config.coldCacheDir, { recursive: true, force: true });
    }
  }
  const coldDir = path.join(dataDir, 'cold');
  const coldKeys: bigint[] = [];
  if (liveFiles.length > 0) {
    const engine = await DuckDbEngine.create({ memoryLimit: '512MB', threads: 1 });
    try {
      for (const f of liveFiles) coldKeys.push(...visible(f, await readParquetRows(engine, absoluteColdPath(coldDir, f), [key])));
    } finally {
      engine.close();
    }
  }
  const treeFiles: string[] = [];
  const walk = (dir: string, rel: string) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(dir, e.name), r);
      else if (e.name.endsWith('.parquet') && !r.startsWith('_tmp/')) treeFiles.push(r);
    }
  };
  walk(coldDir, '');
  const tmpDir = path.join(coldDir, '_tmp');
  const tmpFiles = existsSync(tmpDir) ? readdirSync(tmpDir) : [];
  return { hotKeys, coldKeys, liveFiles, treeFiles, tmpFiles };
}

/** No row lost, none duplicated, none both hot and cold. */
export function expectExactlyOnce(state: TierState, totalRows: number): void {
  const hot = new Set(state.hotKeys);
  const cold = new Set(state.coldKeys);
  expect(cold.size, 'a key appears twice in cold files').toBe(state.coldKeys.length);
  const both = state.coldKeys.filter((k) => hot.has(k));
  expect(both, 'keys both hot and cold').toEqual([]);
  expect(hot.size + cold.size, 'rows lost or added').toBe(totalRows);
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the tierdb CLI in a child process. */
export function runCli(args: string[], env: Record<string, string> = {}, killAfterMs?: number): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/tierdb.mjs'), ...args], {
      cwd: REPO_ROOT,
      env: cliEnv({ LOG_LEVEL: 'warn', ...env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
