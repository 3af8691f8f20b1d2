/**
 * The seed scenario: a big hot file, mostly months of task_queue rows, shrinks
 * below 1/14 of its size after one archive run with HOT_DAYS_TASK=7; no row is
 * lost or doubled (hot + cold == before), and a second run moves nothing.
 *
 * Full size (~144 MB, 234,000 task rows): about 15 s on a 2-core machine.
 * The same scenario, timed, is the "seed scenario" section of
 * `npm run bench -- archive`.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listFiles } from '../src/manifest/manifestFiles.js';
import { openTierStore } from '../src/store/openTierStore.js';
import registry from '../archive-registry.js';
import { hotFileBytes, SEED_SCENARIO_ENV, SEED_SCENARIO_FULL, writeSeedScenario, type SeedCounts } from '../bench/seedScenario.js';
import { tempDir, testConfig } from './helpers.js';

/** Mid-day, so the hot window is 7.5 days of rows. */
const NOW = Date.UTC(2026, 2, 15, 12);
const TABLES = ['task_queue', 'messages', 'rule_logs', 'audit_logs', 'media_signatures'] as const;

describe('seed scenario: months of task_queue in a big hot file', () => {
  it('shrinks a ~144 MB hot file below 10 MB with HOT_DAYS_TASK=7, losing nothing', { timeout: 180_000 }, async () => {
    const dir = tempDir('tierdb-seed-');
    const config = testConfig(dir, { ...SEED_SCENARIO_ENV });
    const hotPath = path.join(dir, 'hot.db');
    await using store = await openTierStore({ config, registry });
    const raw = store.hot.raw;

    const before: SeedCounts = writeSeedScenario(raw, { ...SEED_SCENARIO_FULL, now: NOW });
    expect(before.task_queue).toBe(234_000);
    raw.pragma('wal_checkpoint(TRUNCATE)');
    const count = (t: string) => raw.prepare(`SELECT count(*) FROM "${t}"`).pluck().get() as number;
    for (const t of TABLES) expect(count(t)).toBe(before[t]);
    const bytesBefore = hotFileBytes(hotPath);
    // About 144 MB.
    expect(bytesBefore).toBeGreaterThan(130e6);
    expect(bytesBefore).toBeLessThan(160e6);

    const report = await store.archiver.run({ now: NOW });
    for (const t of report.tables) {
      expect(t.error, `${t.table}: ${t.error}`).toBeUndefined();
      expect(t.refused).toEqual([]);
      expect(t.abandoned).toBe(0);
    }

    // db + wal on disk (the run's own bookkeeping after its report adds a few WAL frames).
    const bytesAfter = hotFileBytes(hotPath);
    expect(bytesAfter).toBeLessThan(10e6);
    expect(bytesAfter).toBeLessThan(bytesBefore / 14);

    const coldRows = (t: string) => listFiles(raw, t, ['live']).reduce((a, f) => a + f.rows, 0);
    for (const t of TABLES) {
      expect(count(t) + coldRows(t), t).toBe(before[t]);
      expect(coldRows(t), `${t} moved something`).toBeGreaterThan(0);
    }
    // Only the last 7-8 days of tasks stay hot; every task row left is younger than the cutoff.
    const cutoffS = Date.parse(report.tables.find((t) => t.table === 'task_queue')!.cutoff) / 1000;
    expect(raw.prepare('SELECT count(*) FROM task_queue WHERE created_at < ?').pluck().get(cutoffS)).toBe(0);
    expect(count('task_queue')).toBeLessThan(before.task_queue * (9 / 180));

    const filesAfterFirst = listFiles(raw, undefined, ['live', 'pending', 'retired']).length;
    const second = await store.archiver.run({ now: NOW });
    for (const t of second.tables) {
      expect(t.error).toBeUndefined();
      expect(t.rowsMoved, t.table).toBe(0);
      expect(t.files, t.table).toBe(0);
    }
    expect(listFiles(raw, undefined, ['live', 'pending', 'retired']).length).toBe(filesAfterFirst);
    for (const t of TABLES) expect(count(t) + coldRows(t), t).toBe(before[t]);
    // Only the run bookkeeping (a few WAL frames) was written.
    expect(hotFileBytes(hotPath)).toBeLessThan(bytesAfter + 1e6);
  });
});
