/**
 * Gives the space of moved rows back to the file system: incremental vacuum in
 * short steps (writers keep writing between them), a one-time VACUUM to switch
 * a database created without auto_vacuum, then a WAL checkpoint.
 */
import { existsSync, statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { failpoint } from './failpoint.js';

/** Pages freed per incremental-vacuum step: a short write transaction each. */
const VACUUM_STEP_PAGES = 2048;
/** Convert to incremental auto-vacuum when this share of the file is free. */
const FULL_VACUUM_FREE_RATIO = 0.2;

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

export function reclaimSpace(raw: Database.Database): ReclaimReport {
  const autoVacuum = raw.pragma('auto_vacuum', { simple: true }) as number;
  const free = raw.pragma('freelist_count', { simple: true }) as number;
  const pages = raw.pragma('page_count', { simple: true }) as number;
  let mode: ReclaimReport['mode'] = 'none';
  if (free > 0 && autoVacuum === 2) {
    mode = 'incremental';
    let first = true;
    while ((raw.pragma('freelist_count', { simple: true }) as number) > 0) {
      raw.pragma(`incremental_vacuum(${VACUUM_STEP_PAGES})`);
      if (first) failpoint('during-vacuum');
      first = false;
    }
  } else if (free > 0 && free / pages >= FULL_VACUUM_FREE_RATIO) {
    mode = 'full';
    failpoint('during-vacuum');
    raw.pragma('auto_vacuum = INCREMENTAL');
    raw.exec('VACUUM');
  }
  raw.pragma('wal_checkpoint(TRUNCATE)');
  return { mode, freedPages: mode === 'none' ? 0 : free };
}
