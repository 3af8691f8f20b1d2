/**
 * Fixtures for the manifest rebuild tests: the scenario (archive, back
 * up the hot file, archive more, restore the backup), a never-archived oracle
 * holding every row, and the checks that compare the bridge with it.
 */
import { copyFileSync, cpSync, existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import type { TierConfig } from '../src/config.js';
import { openTierStore, type TierStore } from '../src/store/openTierStore.js';
import { DAY_S, NOW_MS, NOW_S, seedTaskQueue } from './archiveFixtures.js';
import { TemplateFolders } from './templateFolders.js';
import { tempDir, testConfig } from './helpers.js';

export const ENV = { ARCHIVE_BATCH_SIZE: '300', HOT_DAYS_TASK: '7', LOG_LEVEL: 'silent' };
export const DAY_MS = DAY_S * 1000;

export interface Scenario {
  dir: string;
  config: TierConfig;
  /** Every row ever written, never archived. */
  oraclePath: string;
  /** The hot file's backup, taken between the two archive runs. */
  backupPath: string;
  total: number;
}

const INSERT = `INSERT INTO task_queue (id, task_type, status, priority, msg_id, payload, attempts, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;

/**
 * 3000 rows over 40 days; archive with the clock 15 days back (days older than
 * NOW−22d move); back up the hot file; 300 late rows (200 for days the next run
 * moves, beside rows that were hot at the backup; 100 for days already cold);
 * archive at NOW (days older than NOW−7d move). With `restore`, the backup
 * replaces the hot file: its manifest knows only the first run.
 */
export async function backupScenario(restore = true): Promise<Scenario> {
  let template = templates.get(restore);
  if (!template) templates.set(restore, (template = buildScenario(restore)));
  const t = await template;
  const dir = tempDir('tierdb-rebuild-');
  const aside = tempDir('tierdb-rebuild-aside-');
  cpSync(t.dir, dir, { recursive: true });
  cpSync(path.dirname(t.oraclePath), aside, { recursive: true });
  return { dir, config: testConfig(dir, ENV), oraclePath: path.join(aside, 'oracle.db'), backupPath: path.join(aside, 'backup.db'), total: t.total };
}

/**
 * The scenario is built once per test file and per `restore`, and each test gets a copy of its
 * folders (the same files, rows and manifest) instead of seeding and archiving twice again.
 */
const templates = new Map<boolean, Promise<Scenario>>();
const folders = new TemplateFolders();

/** Removes the scenario templates (a test file's afterAll). */
export function removeScenarioTemplates(): void {
  templates.clear();
  folders.removeAll();
}

async function buildScenario(restore: boolean): Promise<Scenario> {
  const dir = folders.make('tierdb-rebuild-template-');
  const aside = folders.make('tierdb-rebuild-template-aside-');
  const config = testConfig(dir, ENV);
  await seedTaskQueue(dir, 3000, 40, ENV);
  const oraclePath = path.join(aside, 'oracle.db');
  const backupPath = path.join(aside, 'backup.db');
  const store = await openTierStore({ config });
  try {
    await store.hot.raw.backup(oraclePath);
    const first = await store.archiver.run({ now: NOW_MS - 15 * DAY_MS, tables: ['task_queue'] });
    expect(first.tables[0]!.rowsMoved).toBeGreaterThan(0);
    await store.hot.raw.backup(backupPath);
    const oracle = new Database(oraclePath);
    try {
      const late = (id: number, t: number) => [id, 'late', 'done', id % 5, 7_100_000_000_000_000_000n + BigInt(id), `{"late":${id}}`, 0, t] as const;
      const rows = [
        ...Array.from({ length: 200 }, (_, i) => late(5001 + i, NOW_S - 21 * DAY_S + Math.floor((i * 13 * DAY_S) / 200))),
        ...Array.from({ length: 100 }, (_, i) => late(5201 + i, NOW_S - 38 * DAY_S + Math.floor((i * 15 * DAY_S) / 100))),
      ];
      for (const db of [store.hot.raw, oracle]) {
        const ins = db.prepare(INSERT);
        db.transaction(() => {
          for (const r of rows) ins.run(...r);
        })();
      }
    } finally {
      oracle.close();
    }
    const second = await store.archiver.run({ now: NOW_MS, tables: ['task_queue'] });
    expect(second.tables[0]!.error).toBeUndefined();
  } finally {
    await store.close();
  }
  if (restore) restoreHotFile(config.hotPath, backupPath);
  return { dir, config, oraclePath, backupPath, total: 3300 };
}

/** Puts a backup in place of the hot file (and drops its WAL). */
export function restoreHotFile(hotPath: string, backupPath: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${hotPath}${suffix}`, { force: true });
  copyFileSync(backupPath, hotPath);
}

/** The oracle's rows of task_queue in key order (safe integers, as the bridge returns them). */
export function oracleRows(oraclePath: string, where = '1'): Record<string, unknown>[] {
  const db = new Database(oraclePath, { readonly: true });
  try {
    return db.prepare(`SELECT * FROM task_queue WHERE ${where} ORDER BY id`).safeIntegers(true).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

const GROUPED = 'SELECT status, task_type, count(*) AS n, sum(priority) AS p, min(created_at) AS lo, max(id) AS hi FROM task_queue GROUP BY 1, 2 ORDER BY 1, 2';

/** The bridge answers as the oracle does: every row, and an aggregate through bridge.sql. */
export async function expectBridgeEqualsOracle(store: TierStore, oraclePath: string, where?: { sql: string; ids: (id: bigint) => boolean }): Promise<void> {
  let rows = await store.bridge.query('task_queue', { orderBy: [{ id: 'asc' }] });
  const expected = oracleRows(oraclePath, where?.sql);
  if (where) rows = rows.filter((r) => where.ids(r.id as bigint));
  expect(rows.length, 'rows through the bridge').toBe(expected.length);
  expect(rows).toStrictEqual(expected);
  if (where) return;
  const db = new Database(oraclePath, { readonly: true });
  try {
    expect(await store.bridge.sql(GROUPED)).toStrictEqual(db.prepare(GROUPED).safeIntegers(true).all());
  } finally {
    db.close();
  }
}

/** Every `.parquet` of the tree (outside `_tmp`), relative. */
export function treeFiles(coldDir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (r !== '_tmp') walk(path.join(dir, e.name), r);
      } else if (e.name.endsWith('.parquet')) out.push(r);
    }
  };
  walk(coldDir, '');
  return out.sort();
}

/** The manifest's paths by state. */
export function manifestPaths(hotPath: string): { live: string[]; pending: string[]; retired: string[] } {
  const db = new Database(hotPath, { readonly: true });
  try {
    const of = (state: string) => (db.prepare(`SELECT path FROM _tierdb_files WHERE state = ? ORDER BY path`).pluck().all(state) as string[]).sort();
    return { live: of('live'), pending: of('pending'), retired: of('retired') };
  } finally {
    db.close();
  }
}
