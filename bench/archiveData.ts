/**
 * Data for the archive benchmark: demo `messages` tables of a given size,
 * generated once into bench/data/archive/base-*.db (cached while the
 * generator is unchanged) and copied fresh for every measured run.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { loadConfig, type TierConfig } from '../src/config.js';
import { DEMO_COLUMNS, generateDemoRows, inBatches } from '../src/demo/generateDemoData.js';
import { openTierStore } from '../src/store/openTierStore.js';
import registry from '../archive-registry.js';
import { BENCH_DATA_DIR } from './lib.js';

export const DAY_MS = 86_400_000;
/** End of the generated time range: fixed, and months before the real clock, so a writer's "now" rows stay hot. */
export const DATA_NOW = Date.UTC(2026, 6, 1);
/** The archiver's clock: with HOT_DAYS_MESSAGES=7 every generated row is old. */
export const ARCHIVE_NOW = DATA_NOW + 8 * DAY_MS;
export const ARCHIVE_DIR = path.join(BENCH_DATA_DIR, 'archive');

export interface BaseDb {
  file: string;
  rows: number;
  days: number;
}

/** Changes when the generator or any migration changes (a cached base file must match both). */
function generatorFingerprint(): string {
  const root = path.resolve(import.meta.dirname, '..');
  const files = ['src/demo/generateDemoData.ts', 'src/demo/demoVocabulary.ts', 'src/demo/random.ts'].map((f) => path.join(root, f));
  for (const dir of ['migrations/app', 'migrations/app/meta', 'migrations/tierdb', 'migrations/tierdb/meta']) {
    const abs = path.join(root, dir);
    if (existsSync(abs)) for (const f of readdirSync(abs).sort()) if (/\.(sql|json)$/.test(f)) files.push(path.join(abs, f));
  }
  const hash = createHash('sha256');
  for (const f of files) if (existsSync(f)) hash.update(f).update(readFileSync(f));
  return hash.digest('hex').slice(0, 12);
}

/** HOT_DAYS_MESSAGES of every bench store (benchConfig). */
export const BENCH_HOT_DAYS = 7;

/** The config of a store in `dataDir` for the benchmark (env given, nothing read from the machine). */
export function benchConfig(dataDir: string, env: Record<string, string> = {}): TierConfig {
  return loadConfig({ env: { LOG_LEVEL: 'silent', HOT_DAYS_MESSAGES: String(BENCH_HOT_DAYS), ...env }, envFile: false, dataDir });
}

/**
 * A hot file holding `rows` demo messages over `days` days ending at DATA_NOW
 * (the other demo tables empty), migrated by tierdb and checkpointed (no WAL).
 */
export async function ensureBaseDb(rows: number, days = 400, log: (s: string) => void = () => {}): Promise<BaseDb> {
  mkdirSync(ARCHIVE_DIR, { recursive: true });
  const file = path.join(ARCHIVE_DIR, `base-${rows}-${days}-${generatorFingerprint()}.db`);
  if (existsSync(file)) return { file, rows, days };
  const dir = path.join(ARCHIVE_DIR, `gen-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  const store = await openTierStore({ config: benchConfig(dir), registry });
  try {
    const raw = store.hot.raw;
    const cols = DEMO_COLUMNS.messages;
    const insert = raw.prepare(`INSERT INTO messages (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
    const insertBatch = raw.transaction((batch: unknown[][]) => {
      for (const values of batch) insert.run(values);
    });
    let done = 0;
    for (const batch of inBatches(generateDemoRows('messages', { rows, days, seed: 42, now: DATA_NOW }), 20_000)) {
      insertBatch(batch);
      done += batch.length;
      if (done % 500_000 === 0) log(`  generated ${done}/${rows} messages`);
    }
    raw.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    await store.close();
  }
  // Leave a single self-contained file (no -wal/-shm) behind.
  const db = new Database(path.join(dir, 'hot.db'));
  db.pragma('journal_mode = DELETE');
  db.close();
  renameSync(path.join(dir, 'hot.db'), file);
  rmSync(dir, { recursive: true, force: true });
  log(`  generated ${rows} messages over ${days} days in ${((performance.now() - t0) / 1000).toFixed(1)} s -> ${path.basename(file)}`);
  return { file, rows, days };
}

/** A fresh data folder holding a copy of the base file as hot.db. */
export function freshCopy(base: BaseDb, name: string): string {
  const dir = path.join(ARCHIVE_DIR, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  copyFileSync(base.file, path.join(dir, 'hot.db'));
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** SQLite bytes (table + its indexes) of one table, from dbstat. */
export function sqliteTableBytes(file: string, table: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return db
      .prepare(`SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = ? OR name IN (SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = ?)`)
      .pluck()
      .get(table, table) as number;
  } finally {
    db.close();
  }
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
