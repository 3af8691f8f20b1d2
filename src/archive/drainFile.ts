/**
 * Step 5 of the move protocol: after a file is committed (listed live with
 * `drained_rows` 0), its rows are deleted from the hot table in short
 * transactions, each one moving the file's drained prefix forward. Readers take
 * a draining file's rows before the prefix from the file and the rest from the
 * hot table (coldRelation), so every row is visible exactly once all along.
 *
 * Each transaction takes the next rows of the file (file order) and, per row:
 * - the hot row equals the file's (and no delete marker hides the file's copy):
 *   the hot row is deleted — the file's copy is the row now;
 * - the hot row differs, or is gone (the app changed or deleted it after the
 *   chunk was read): a delete marker (`stale`) masks the file's copy for good
 *   and the hot row, if any, stays — it is the row;
 * then the prefix moves past them (NULL at the end) and `manifest_version` is
 * bumped. When no other connection committed since just before the chunk was
 * read (`PRAGMA data_version`), the rows cannot differ: they are deleted
 * without being compared. A crash between transactions leaves a consistent
 * prefix; the next run (or maintenance job) finishes the drain (finishDrains).
 *
 * The write lock is held for a bounded time: DrainPacer sizes each transaction
 * from the measured time of the last ones (ARCHIVE_LOCK_TARGET_MS) and leaves a
 * gap after each, so the app's writers (polling under their busy timeout) get
 * in between; the gap is as long as the transaction while other connections write.
 */
import { prepareCached } from '../hot/prepareCached.js';
import { insertMarkers, type Marker } from '../manifest/deleteMarkers.js';
import { advanceDrain } from '../manifest/manifestFiles.js';
import { readManifestVersion } from '../manifest/manifestVersion.js';
import type { ArchiveContext } from './ArchiveContext.js';
import { keyText } from './chunkKeys.js';
import { dataVersion } from './commitChunk.js';
import { failpoint } from './failpoint.js';
import type { TableShape } from './TableShape.js';

/** A committed file whose rows are still (partly) hot. */
export interface DrainJob {
  shape: TableShape;
  /** The file's manifest id and path. */
  fileId: number;
  path: string;
  /**
   * The file's rows in file order, as better-sqlite3 returns them (`safeIntegers`); null: unknown (every
   * row left is masked); undefined: not loaded — `loadRows` reads them from the file when a comparison is
   * needed (another connection committed since the chunk was read), so a queued file holds only its keys.
   */
  rows?: readonly (readonly unknown[])[] | null | undefined;
  loadRows?: () => Promise<readonly (readonly unknown[])[] | null>;
  /** The file's keys in file order. */
  keys: readonly unknown[];
  /** The file's row count. */
  total: number;
  /** The drained prefix now (`drained_rows`). */
  from: number;
  /** `PRAGMA data_version` taken just before the rows were read; undefined: compare every row. */
  dataVersion?: number | undefined;
}

export interface DrainResult {
  /** Hot rows deleted: their file copy is the row now. */
  deleted: number;
  /** File copies masked (`stale`): the hot row changed or went meanwhile. */
  masked: number;
}

const MIN_ROWS = 16;
const MAX_ROWS = 50_000;
const FIRST_ROWS = 64;

/** After another connection's commit, drains stay polite this long. */
const CONTENDED_MS = 1000;
/**
 * SQLite's default busy handler (busy_timeout) retries after sleeping 1, 2, 5,
 * 10, 15, 20, 25, 25, 25 ms, then 50 and 100: a writer that found the lock
 * taken tries again at least every 25 ms until it has waited 128 ms. Short
 * pauses as long as each transaction leave the lock free half the time, but at
 * random moments: a writer can miss them eight times in a row (the 133 and
 * 179 ms maxima measured were exactly such retry sums). So while contended the
 * lock is also left free OPEN_MS (longer than that 25 ms) at least once every
 * OPEN_EVERY_MS: a waiting writer's next try falls inside it, and no wait
 * reaches ~OPEN_EVERY_MS + OPEN_MS + one transaction (~85 ms), whatever it missed before.
 */
const OPEN_MS = 27;
const OPEN_EVERY_MS = 50;

/**
 * Sizes drain transactions from measured time: rows per transaction so that
 * one takes about `targetMs`, whatever the data. After each, a pause: as long
 * as the transaction took while other connections are writing (seen by
 * `PRAGMA data_version` moving between transactions, or in the first second),
 * so the write lock is free at least half the time and a writer polling under
 * its busy timeout gets in; a bare turn of the event loop (~1 ms) when nobody
 * else has written for a second. One per run, so what it learned carries over
 * from file to file.
 */
export class DrainPacer {
  readonly targetMs: number;
  #rowsPerMs: number | undefined;
  #lastVersion: number | undefined;
  #contendedUntil: number;
  /** When the lock was last left free for OPEN_MS (see OPEN_MS). */
  #openedAt: number;

  constructor(targetMs: number) {
    this.targetMs = targetMs;
    this.#contendedUntil = performance.now() + CONTENDED_MS;
    this.#openedAt = performance.now();
  }

  /** Rows for the next transaction. */
  nextRows(): number {
    if (this.#rowsPerMs === undefined) return FIRST_ROWS;
    return Math.max(MIN_ROWS, Math.min(MAX_ROWS, Math.floor(this.#rowsPerMs * this.targetMs)));
  }

  /** A transaction of `rows` rows took `ms`; `version` is `PRAGMA data_version` after it. */
  record(rows: number, ms: number, version: number): void {
    const rate = rows / Math.max(ms, 0.05);
    // A slow transaction (another process's I/O, a checkpoint) counts at once; a fast one eases in.
    this.#rowsPerMs = this.#rowsPerMs === undefined || rate < this.#rowsPerMs ? rate : this.#rowsPerMs * 0.7 + rate * 0.3;
    this.noteVersion(version);
  }

  /** `PRAGMA data_version` after one of this connection's write transactions (a drain step, a vacuum step). */
  noteVersion(version: number): void {
    if (this.#lastVersion !== undefined && version !== this.#lastVersion) this.#contendedUntil = performance.now() + CONTENDED_MS;
    this.#lastVersion = version;
  }

  /** Whether other connections wrote lately. */
  get contended(): boolean {
    return performance.now() < this.#contendedUntil;
  }

  /** The pause after a transaction that took `ms`: as long, and OPEN_MS at least every OPEN_EVERY_MS, while contended; a bare turn otherwise. */
  async pause(ms: number): Promise<void> {
    let wait = 0;
    if (this.contended) {
      const now = performance.now();
      wait = Math.max(1, Math.ceil(ms));
      if (now - this.#openedAt >= OPEN_EVERY_MS) wait = Math.max(wait, OPEN_MS);
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
    if (wait >= OPEN_MS) this.#openedAt = performance.now();
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  return false;
}

function sameRow(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let c = 0; c < a.length; c++) if (!sameValue(a[c], b[c])) return false;
  return true;
}

/** Thrown inside a fast-path transaction that found a row not as read: roll back, compare instead. */
class NotAsRead extends Error {}

/**
 * Key-list sizes of the fast path's DELETE statements, largest first: one statement per 512 keys
 * costs ~0.8 of one per key (1M demo messages: 2.9 vs 3.5-3.7 s in plain better-sqlite3), the
 * rest of a step goes in smaller lists. Four statements, prepared once.
 */
export const DELETE_LISTS = [512, 64, 8, 1];

/**
 * Deletes the hot rows of `keys[from, to)` (distinct: a file's keys), or throws NotAsRead when any
 * is missing. Each list must delete exactly as many rows as it names: the registry's key is unique
 * in SQLite (resolveRegistry), so a row per key, and a key gone shows as a short count.
 * `key IN (?, …)` compares as `key = ?` does (the list's values take no affinity, as a bound
 * parameter has none; the column's collation applies).
 */
function deleteKeys(raw: ArchiveContext['raw'], s: TableShape, keys: readonly unknown[], from: number, to: number): number {
  let i = from;
  for (const size of DELETE_LISTS) {
    if (to - i < size) continue;
    const del = prepareCached(raw, `DELETE FROM ${s.from} WHERE ${s.key} IN (${size === 1 ? '?' : '?,'.repeat(size - 1) + '?'})`);
    for (; to - i >= size; i += size) {
      if (del.run(...keys.slice(i, i + size)).changes !== size) throw new NotAsRead();
    }
  }
  return to - from;
}

/** One drain transaction over rows [from, to) of the file. */
function drainStep(ctx: Pick<ArchiveContext, 'raw' | 'assertLease'>, job: DrainJob, to: number, compare: boolean): DrainResult {
  const { raw } = ctx;
  const s = job.shape;
  return raw
    .transaction((): DrainResult => {
      ctx.assertLease();
      let deleted = 0;
      const stale: Marker[] = [];
      const { rows, keys } = job;
      if (!compare && job.dataVersion !== undefined && dataVersion(raw) === job.dataVersion) {
        // No other connection committed since the rows were read: they are exactly as read.
        deleted = deleteKeys(raw, s, keys, job.from, to);
      } else if (rows === undefined) {
        // A comparison is needed and the rows are not loaded: roll back (nothing done), load them, come back.
        throw new NotAsRead();
      } else {
        const del = prepareCached(raw, `DELETE FROM ${s.from} WHERE ${s.key} = ?`);
        const select = prepareCached(raw, `SELECT ${s.selectList} FROM ${s.from} WHERE ${s.key} = ?`).raw(true).safeIntegers(true);
        const marked = new Set(
          (prepareCached(raw, `SELECT key FROM _tierdb_deletes WHERE path = ?`).pluck().safeIntegers(true).all(job.path) as unknown[]).map(keyText),
        );
        for (let i = job.from; i < to; i++) {
          const key = keys[i];
          if (marked.has(keyText(key))) continue;
          const current = rows ? (select.get(key) as unknown[] | undefined) : undefined;
          if (current && sameRow(current, rows![i]!)) {
            del.run(key);
            deleted++;
          } else stale.push({ path: job.path, key });
        }
        if (stale.length > 0) insertMarkers(raw, s.t.table, stale, 'stale', readManifestVersion(raw), Date.now());
      }
      advanceDrain(raw, job.fileId, job.from, to, job.total);
      failpoint('inside-drain');
      return { deleted, masked: stale.length };
    })
    .immediate();
}

/**
 * Drains a committed file's remaining rows, in paced transactions. A file
 * whose rows are unknown (`rows` null: its columns no longer match the
 * table's) has every remaining row masked: they all stay hot.
 */
export async function drainFile(ctx: Pick<ArchiveContext, 'raw' | 'assertLease'>, job: DrainJob, pacer: DrainPacer): Promise<DrainResult> {
  const total: DrainResult = { deleted: 0, masked: 0 };
  let compare = false;
  while (job.from < job.total) {
    if (compare && job.rows === undefined) {
      if (!job.loadRows) throw new Error(`drain of ${job.path}: rows needed for a comparison and no way to load them`);
      job.rows = await job.loadRows();
    }
    const to = Math.min(job.total, job.from + pacer.nextRows());
    const t0 = performance.now();
    let step: DrainResult;
    try {
      step = drainStep(ctx, job, to, compare);
    } catch (error) {
      if (!(error instanceof NotAsRead)) throw error;
      compare = true;
      continue;
    }
    const ms = performance.now() - t0;
    pacer.record(to - job.from, ms, dataVersion(ctx.raw));
    job.from = to;
    total.deleted += step.deleted;
    total.masked += step.masked;
    failpoint('after-drain');
    if (job.from < job.total) await pacer.pause(ms);
  }
  return total;
}
