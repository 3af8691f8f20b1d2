/**
 * Gives the space of moved rows back to the file system: incremental vacuum in
 * short steps (each a write transaction sized from measured time, with a pause
 * after it, so writers keep writing between them), a one-time VACUUM to switch
 * a database created without auto_vacuum, then a WAL checkpoint — passive ones
 * first (they never block writers), so the final TRUNCATE, which does block
 * new writers while it runs, has little left to copy.
 */
import { existsSync, statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { dataVersion } from './commitChunk.js';
import type { DrainPacer } from './drainFile.js';
import { failpoint } from './failpoint.js';

/** Pages freed by the first incremental-vacuum step; later steps are sized from measured time. */
const FIRST_STEP_PAGES = 256;
const MAX_STEP_PAGES = 8192;
/** Convert to incremental auto-vacuum when this share of the file is free. */
const FULL_VACUUM_FREE_RATIO = 0.2;
/** Passive checkpoints before the final TRUNCATE, at most. */
const PASSIVE_CHECKPOINTS = 20;

/** Bytes of the hot file and its WAL on disk. */
export function hotBytesOnDisk(file: string): number {
  let total = 0;
  for (const f of [file, `${file}-wal`]) if (existsSync(f)) total += statSync(f).size;
  return total;
}

export interface ReclaimReport {
  mode: 'incremental' | 'full' | 'none';
  freedPages: number;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.ceil(ms))));

/**
 * `targetMs`: about how long one vacuum step may hold the write lock (ARCHIVE_LOCK_TARGET_MS).
 * `pacer`: the run's DrainPacer, whose pauses also leave the lock free long enough for a writer
 * waiting under its busy timeout (without one: a pause as long as the step).
 */
export async function reclaimSpace(raw: Database.Database, targetMs = 4, pacer?: DrainPacer): Promise<ReclaimReport> {
  const autoVacuum = raw.pragma('auto_vacuum', { simple: true }) as number;
  const free = raw.pragma('freelist_count', { simple: true }) as number;
  const pages = raw.pragma('page_count', { simple: true }) as number;
  let mode: ReclaimReport['mode'] = 'none';
  if (free > 0 && autoVacuum === 2) {
    mode = 'incremental';
    let first = true;
    let step = FIRST_STEP_PAGES;
    while ((raw.pragma('freelist_count', { simple: true }) as number) > 0) {
      const t0 = performance.now();
      raw.pragma(`incremental_vacuum(${step})`);
      const ms = performance.now() - t0;
      if (first) failpoint('during-vacuum');
      first = false;
      step = Math.max(16, Math.min(MAX_STEP_PAGES, Math.floor((step / Math.max(ms, 0.05)) * targetMs)));
      if (pacer) {
        pacer.noteVersion(dataVersion(raw));
        await pacer.pause(Math.max(1, ms));
      } else await pause(ms);
    }
  } else if (free > 0 && free / pages >= FULL_VACUUM_FREE_RATIO) {
    mode = 'full';
    failpoint('during-vacuum');
    raw.pragma('auto_vacuum = INCREMENTAL');
    raw.exec('VACUUM');
  }
  for (let i = 0; i < PASSIVE_CHECKPOINTS; i++) {
    const [result] = raw.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
    if (!result || result.log < 0 || result.checkpointed >= result.log) break;
    await pause(1);
  }
  raw.pragma('wal_checkpoint(TRUNCATE)');
  return { mode, freedPages: mode === 'none' ? 0 : free };
}
