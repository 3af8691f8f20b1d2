/**
 * The other process of test/bridgeConcurrency.test.ts: an application writing
 * and archiving while the test queries. Started with fork() (IPC) as
 * `node --import tsx test/bridgeConcurrencyWriter.ts <dataDir> <startNowMs> <endNowMs> [<cold env JSON>]`.
 *
 * Each round:
 *  1. inserts deterministic `backfill` rows into old (mostly already archived)
 *     days and a few `new` rows at the simulated clock (task_queue; the
 *     test's fixed rows have task_type 'fixed' and are never touched);
 *  2. runs archiver.run({ now }) — the fixed rows move hot → cold a day at a
 *     time while the clock advances, the backfill rows every round;
 *  3. every second round, runs the real compaction (store.maintenance.compact, small
 *     target size so it merges a few days at a time): new files listed and old ones retired in
 *     one transaction; retired files are unlinked by the next run's recovery once
 *     TIERDB_RETIRED_GRACE_SECONDS (here RETIRE_UNLINK_MS) have passed (the default is 10 minutes;
 *     the test's queries take milliseconds, but a loaded CI machine can stall one for seconds).
 *  4. from round CHANGE_FROM_ROUND on, every second round, the next of
 *     VICTIM_STEPS: store.delete, store.update or store.erase of one group of
 *     the test's `victim` rows (task_type 'victim', group = attempts) — hot and
 *     cold rows, delete markers, updated rows turned hot (and archived again),
 *     cold files rewritten by the erase (its grace ERASE_GRACE_S: the replaced
 *     files stay readable that long).
 * The clock advances by STEP_MS a round until endNowMs, then stays there.
 *
 * Backfill row k: msg_id = k, priority = k % 7, payload = `b<k>`,
 * created_at = backfillTime(k) — the test checks every backfill row it sees.
 *
 * Messages to the parent: { ready }, { round, rowsMoved, files, compacted, retiredUnlinked (so far) }
 * after each round, { change: <steps committed>, hot, cold, files } once a
 * victim step has committed (sent after the call returns: a lower bound),
 * { error } (then exit 1); on { stop } it finishes the round, closes the
 * store and replies { done: stats }.
 */
import { pathToFileURL } from 'node:url';
import registry from '../archive-registry.js';
import { loadConfig } from '../src/config.js';
import { openTierStore } from '../src/store/openTierStore.js';

export const DAY_S = 86_400;
export const STEP_MS = 6 * 3_600_000;
export const RETIRE_UNLINK_MS = 10_000;
/** Compaction's target: a few days of task_queue files per merged file, so every compaction has work. */
export const COMPACT_TARGET = 64 * 1024;
/** Pause between rounds: the archiver commits several times a second without taking a whole core. */
export const ROUND_PAUSE_MS = 250;
/** Where backfill rows fall: the 30 days before this (seconds). */
export const BACKFILL_END_S = Math.floor(Date.UTC(2026, 5, 15) / 1000);

/** How long an erase leaves the files it replaced readable (TIERDB_ERASE_GRACE_SECONDS): a query that listed them finishes first. */
export const ERASE_GRACE_S = 4;
/** The first round that changes victim rows (by then most of them are cold). */
export const CHANGE_FROM_ROUND = 3;

/** The changes to the victim rows, in order: group g = the victim rows with attempts = g. Group 1 is updated, then erased (its masked cold copies too). */
export const VICTIM_STEPS: readonly { op: 'delete' | 'update' | 'erase'; group: number }[] = [
  { op: 'delete', group: 0 },
  { op: 'update', group: 1 },
  { op: 'erase', group: 1 },
  { op: 'delete', group: 2 },
  { op: 'update', group: 3 },
  { op: 'erase', group: 4 },
];
/** What an update step sets (status, and a payload naming the group). */
export function victimUpdate(group: number): { status: string; payload: string } {
  return { status: 'updated', payload: `u${group}` };
}

/** The created_at of backfill row k: 20 rows a day (so a round touches 2 days), cycling through the 30 days before BACKFILL_END_S. */
export function backfillTime(k: number): number {
  const day = Math.floor(k / 20) % 30;
  return BACKFILL_END_S - (day + 1) * DAY_S + ((k * 7_919) % DAY_S);
}

async function main(): Promise<void> {
  const [dataDir, startArg, endArg, coldEnvArg] = process.argv.slice(2);
  // Where the cold tier lives (TIERDB_COLD_URL and the S3 settings), as JSON; empty: the local folder.
  const coldEnv = JSON.parse(coldEnvArg ?? '{}') as Record<string, string>;
  if (!dataDir || !startArg || !endArg || !process.send) throw new Error('usage: fork test/bridgeConcurrencyWriter.ts <dataDir> <startNowMs> <endNowMs>');
  const send = (m: unknown): void => void process.send!(m);
  let stopping = false;
  process.on('message', (m: { stop?: boolean }) => {
    if (m.stop) stopping = true;
  });
  const config = loadConfig({
    env: {
      LOG_LEVEL: 'silent',
      HOT_DAYS_TASK: '7',
      TIERDB_RETIRED_GRACE_SECONDS: String(RETIRE_UNLINK_MS / 1000),
      TIERDB_ERASE_GRACE_SECONDS: String(ERASE_GRACE_S),
      ...coldEnv,
    },
    envFile: false,
    dataDir,
  });
  const store = await openTierStore({ config, registry });
  const raw = store.hot.raw;
  const insert = raw.prepare(
    `INSERT INTO task_queue (task_type, status, priority, msg_id, payload, attempts, created_at) VALUES (?, 'done', ?, ?, ?, 0, ?)`,
  );
  let k = Number(raw.prepare(`SELECT coalesce(max(msg_id), 0) FROM task_queue WHERE task_type = 'backfill'`).pluck().get()) + 1;
  let now = Number(startArg);
  const end = Number(endArg);
  const stats = { rounds: 0, rowsMoved: 0, files: 0, compacted: 0, retiredUnlinked: 0, backfill: 0, changes: 0, changedHot: 0, changedCold: 0, erasedFiles: 0 };
  send({ ready: true });
  while (!stopping) {
    raw.transaction(() => {
      for (let i = 0; i < 40; i++, k++) insert.run('backfill', k % 7, k, `b${k}`, backfillTime(k));
      for (let i = 0; i < 5; i++) insert.run('new', 0, null, null, Math.floor(now / 1000) - i);
    })();
    stats.backfill += 40;
    const report = await store.archiver.run({ now, tables: ['task_queue'] });
    const t = report.tables[0]!;
    if (t.error) throw new Error(`archive round ${stats.rounds}: ${t.error}`);
    stats.rowsMoved += t.rowsMoved;
    stats.files += t.files;
    stats.retiredUnlinked += report.recovery?.retiredUnlinked ?? 0;
    let compacted = 0;
    if (stats.rounds % 2 === 1) {
      const c = await store.maintenance.compact({ tables: ['task_queue'], minFiles: 2, targetSize: COMPACT_TARGET });
      const ct = c.tables[0]!;
      if (ct.error) throw new Error(`compaction round ${stats.rounds}: ${ct.error}`);
      compacted = ct.groups.reduce((n, g) => n + g.inputs.length, 0);
    }
    stats.compacted += compacted;
    stats.rounds++;
    send({ round: stats.rounds, rowsMoved: t.rowsMoved, files: t.files, compacted, retiredUnlinked: stats.retiredUnlinked, now });
    if (stats.rounds >= CHANGE_FROM_ROUND && stats.rounds % 2 === 1 && stats.changes < VICTIM_STEPS.length) {
      const step = VICTIM_STEPS[stats.changes]!;
      const where = { task_type: 'victim', attempts: step.group };
      let changed: { hot: number; cold: number; files: number };
      if (step.op === 'erase') {
        const receipt = await store.erase('task_queue', { where });
        if (receipt.status !== 'complete') throw new Error(`erase of victim group ${step.group}: receipt ${receipt.status}`);
        changed = { hot: receipt.hotRows, cold: receipt.coldRows, files: receipt.files.length };
      } else {
        const r = step.op === 'delete' ? await store.delete('task_queue', { where }) : await store.update('task_queue', { where, set: victimUpdate(step.group) });
        changed = { ...r, files: 0 };
      }
      stats.changes++;
      stats.changedHot += changed.hot;
      stats.changedCold += changed.cold;
      stats.erasedFiles += changed.files;
      send({ change: stats.changes, ...changed });
    }
    if (now < end) now = Math.min(end, now + STEP_MS);
    await new Promise((resolve) => setTimeout(resolve, ROUND_PAUSE_MS));
  }
  await store.close();
  // The IPC channel keeps a forked child alive: leave it once the reply is out.
  process.send!({ done: stats }, () => process.disconnect());
}

// Run only as the forked script (the test imports the constants above).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.send?.({ error: error instanceof Error ? `${error.message}\n${error.stack}` : String(error) });
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 100);
  });
}
