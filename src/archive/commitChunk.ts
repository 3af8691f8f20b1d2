/**
 * Step 4 of the move protocol, the commit point: in one short `BEGIN IMMEDIATE`
 * transaction the lease is checked and the manifest row goes in — `live` with
 * `drained_rows` 0 (readers take none of its rows from the file yet: they are
 * all still hot), or `pending` for a grace file. Nothing is deleted here: the
 * rows leave the hot table in drainFile's short transactions, which compare
 * each with the file's copy. A crash before the commit leaves the rows hot and
 * an orphan file that recovery removes; after it, the file is listed and the
 * drain goes on where it stopped.
 */
import { discardUncommitted } from './discardUncommitted.js';
import type Database from 'better-sqlite3';
import type { ArchiveContext } from './ArchiveContext.js';
import { failpoint } from './failpoint.js';
import { insertManifestFile } from '../manifest/manifestFiles.js';
import { prepareCached } from '../hot/prepareCached.js';
import type { WrittenChunk } from './writeChunk.js';

/** The commit point for written chunks, in order, in one transaction. Returns their manifest ids. On failure their files are removed. */
export async function commitChunks(ctx: Pick<ArchiveContext, 'raw' | 'cold' | 'assertLease' | 'uncommitted'>, written: readonly WrittenChunk[]): Promise<number[]> {
  let ids: number[] | undefined;
  try {
    ids = ctx.raw
      .transaction(() => {
        ctx.assertLease();
        const out = written.map((w) => insertManifestFile(ctx.raw, { ...w.manifestRow, drained_rows: w.grace ? null : 0 }));
        failpoint('inside-commit');
        return out;
      })
      .immediate();
    failpoint('after-commit');
    return ids;
  } finally {
    // Best effort, as in writeChunk: the commit's error goes out, recovery removes a file left behind.
    if (!ids) for (const w of written) await discardUncommitted(ctx, w.path);
  }
}

/** `PRAGMA data_version`: changes when another connection commits. */
export function dataVersion(raw: Database.Database): number {
  return prepareCached(raw, 'PRAGMA data_version').pluck().get() as number;
}
