/**
 * Step 4 of the move protocol, the only commit point: in one `BEGIN IMMEDIATE`
 * transaction the lease is checked, the rows are proved unchanged and deleted,
 * and the manifest row goes in. A crash before it leaves the rows hot and an
 * orphan file that recovery removes; after it, the rows are cold.
 */
import { discardUncommitted } from './discardUncommitted.js';
import type Database from 'better-sqlite3';
import { ChunkChangedError } from '../errors.js';
import type { ArchiveContext } from './ArchiveContext.js';
import { keysJson } from './chunkKeys.js';
import { failpoint } from './failpoint.js';
import { insertManifestFile } from '../manifest/manifestFiles.js';
import { prepareCached } from '../hot/prepareCached.js';
import type { TableShape } from './TableShape.js';
import type { WrittenChunk } from './writeChunk.js';

/** Step 4, the commit point: rows unchanged, manifest row in, rows out — one transaction. On failure the file is removed. */
export async function commitChunk(ctx: Pick<ArchiveContext, 'raw' | 'cold' | 'assertLease' | 'uncommitted'>, w: WrittenChunk): Promise<void> {
  let committed = false;
  try {
    ctx.raw
      .transaction(() => {
        ctx.assertLease();
        if (!w.grace) deleteUnchanged(ctx.raw, w.shape, w.rows, w.keys, w.dataVersion);
        insertManifestFile(ctx.raw, w.manifestRow);
        failpoint('inside-commit');
      })
      .immediate();
    committed = true;
    failpoint('after-commit');
  } finally {
    // Best effort, as in writeChunk: the commit's error goes out, recovery removes a file left behind.
    if (!committed) await discardUncommitted(ctx, w.path);
  }
}

/** `PRAGMA data_version`: changes when another connection commits. */
export function dataVersion(raw: Database.Database): number {
  return prepareCached(raw, 'PRAGMA data_version').pluck().get() as number;
}

/**
 * Inside the commit transaction: the rows must be exactly as read, then they go.
 * When no other connection has committed since `readAtVersion` (taken before
 * the rows were read), they cannot have changed and the re-read is skipped.
 */
export function deleteUnchanged(raw: Database.Database, s: TableShape, expected: readonly unknown[][], keys: readonly unknown[], readAtVersion?: number): void {
  const json = keysJson(keys);
  if (readAtVersion === undefined || dataVersion(raw) !== readAtVersion) expectRows(raw, s, expected, json);
  const deleted = prepareCached(raw, `DELETE FROM ${s.from} WHERE ${s.key} IN (SELECT value FROM json_each(?))`).run(json).changes;
  if (deleted !== expected.length) throw new ChunkChangedError(`${s.t.table}: deleted ${deleted} rows, expected ${expected.length}`);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  return false;
}

/** The rows with these keys, in (time, key) order, equal `expected` value for value. */
function expectRows(raw: Database.Database, s: TableShape, expected: readonly unknown[][], json: string): void {
  const current = raw
    .prepare(`SELECT ${s.selectList} FROM ${s.from} WHERE ${s.key} IN (SELECT value FROM json_each(?)) ORDER BY ${s.time}, ${s.key}`)
    .raw(true)
    .safeIntegers(true)
    .all(json) as unknown[][];
  if (current.length !== expected.length) {
    throw new ChunkChangedError(`${s.t.table}: ${expected.length - current.length} rows of the chunk were deleted meanwhile`);
  }
  for (let r = 0; r < current.length; r++) {
    const a = current[r]!;
    const b = expected[r]!;
    if (a.length !== b.length) throw new ChunkChangedError(`${s.t.table}: the table's columns changed meanwhile`);
    for (let c = 0; c < a.length; c++) {
      if (!sameValue(a[c], b[c])) throw new ChunkChangedError(`${s.t.table}: row ${String(b[s.keyIndex])} changed meanwhile`);
    }
  }
}
