/**
 * Crash safety of Iceberg publishing: `tierdb publish iceberg` SIGKILLed at
 * each step (ICEBERG_FAILPOINTS). Right after the kill, readers (icebird over
 * HTTP) see the last good snapshot — the previous one before the hint switch,
 * the new one after it — never a torn table; recovery at the next open keeps
 * it so (an attempt the hint names is committed, any other undone); the rerun
 * publishes, icebird equals the bridge, and every object under `_iceberg/` is
 * one a kept snapshot wrote (or the hint).
 */
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { icebergRead } from 'icebird';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ICEBERG_FAILPOINTS } from '../src/archive/failpoint.js';
import { wechatPreset } from '../src/presets/wechat/wechatPreset.js';
import { openTierStore } from '../src/store/openTierStore.js';
import { NOW_MS, runCli, seedTaskQueue } from './archiveFixtures.js';
import { tempDir, testConfig } from './helpers.js';
import { checkTableMetadata, expectIcebirdEqualsBridge, serveFolder } from './icebergFixtures.js';

let template: string;
let served = '';
let url: string;
let close: () => Promise<void>;
const env = (): Record<string, string> => ({ LOG_LEVEL: 'silent', HOT_DAYS_TASK: '7', ICEBERG_LOCATION: url, ICEBERG_KEEP_SNAPSHOTS: '1', ICEBERG_SNAPSHOT_DAYS: '0' });
const DELETED = Array.from({ length: 10 }, (_, i) => 1500 + i);
const tableUrl = () => `${url}/task_queue/_iceberg`;

async function icebirdKeys(): Promise<string[]> {
  return ((await icebergRead({ tableUrl: tableUrl() })) as { id: bigint }[]).map((r) => String(r.id)).sort();
}

describe('crash safety of Iceberg publishing', () => {
  let before: string[];
  let after: string[];
  beforeAll(async () => {
    const server = await serveFolder(() => served, { closeAfterTest: false });
    url = server.url;
    close = () => new Promise((resolve) => server.server.close(() => resolve()));
    template = mkdtempSync(path.join(tmpdir(), 'tierdb-iceberg-template-'));
    served = path.join(template, 'cold');
    await seedTaskQueue(template, 2000, 30, env());
    const store = await openTierStore({ config: testConfig(template, env()), preset: wechatPreset });
    try {
      await store.archiver.run({ now: NOW_MS });
      await store.maintenance.publishIceberg({ tables: ['task_queue'] });
      before = await icebirdKeys();
      expect((await store.delete('task_queue', { where: { id: { in: DELETED } } })).cold).toBe(DELETED.length);
      after = before.filter((k) => !DELETED.includes(Number(k)));
    } finally {
      await store.close();
    }
  }, 120_000);
  afterAll(async () => {
    await close?.();
    if (template) rmSync(template, { recursive: true, force: true });
  });

  for (const point of ICEBERG_FAILPOINTS) {
    it(`SIGKILL at ${point}: readers see the last good snapshot; recovery and the rerun leave the new one and no stray object`, { timeout: 120_000 }, async () => {
      const dir = tempDir();
      cpSync(template, dir, { recursive: true });
      served = path.join(dir, 'cold');
      const args = ['--data-dir', dir, 'publish', 'iceberg', '--table', 'task_queue'];
      const crashed = await runCli(args, { ...env(), TIERDB_FAILPOINT: point });
      expect(crashed.signal, `${crashed.stdout}\n${crashed.stderr}`).toBe('SIGKILL');
      const switched = point === 'iceberg-after-hint' || point === 'iceberg-after-commit';
      await checkTableMetadata(tableUrl());
      expect(await icebirdKeys()).toEqual(switched ? after : before);

      const store = await openTierStore({ config: testConfig(dir, env()), preset: wechatPreset });
      try {
        expect(await icebirdKeys(), 'after recovery').toEqual(switched ? after : before);
        expect(store.hot.raw.prepare(`SELECT count(*) FROM _tierdb_iceberg_snapshots WHERE state = 'writing'`).pluck().get()).toBe(0);
      } finally {
        await store.close();
      }
      const rerun = await runCli(args, env());
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(await icebirdKeys()).toEqual(after);
      const check = await openTierStore({ config: testConfig(dir, env()), preset: wechatPreset });
      try {
        await expectIcebirdEqualsBridge(check, 'task_queue', tableUrl());
      } finally {
        await check.close();
      }
      const { metadata } = await checkTableMetadata(tableUrl());
      expect(metadata.snapshots.length).toBe(1);
      // Every object under _iceberg/ is one a kept snapshot wrote, or the hint.
      const db = new Database(path.join(dir, 'hot.db'), { readonly: true });
      try {
        const owned = new Set((db.prepare(`SELECT objects_json FROM _tierdb_iceberg_snapshots WHERE state = 'live'`).pluck().all() as string[]).flatMap((j) => JSON.parse(j) as string[]));
        owned.add('task_queue/_iceberg/metadata/version-hint.text');
        const root = path.join(dir, 'cold', 'task_queue', '_iceberg');
        const found = readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(path.join(dir, 'cold'), path.join(e.parentPath, e.name)).split(path.sep).join('/'));
        expect(found.filter((f) => !owned.has(f)), 'stray objects').toEqual([]);
      } finally {
        db.close();
      }
    });
  }
});
