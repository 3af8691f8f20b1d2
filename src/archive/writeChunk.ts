/**
 * Steps 2–3 of the move protocol for one chunk, once its temp file is written
 * (writeTempChunk, on whichever thread staged it): verify (row count, key
 * checksum, read by this thread's DuckDB), whole-file sha256, then `cold.put`
 * makes it durable in the tree (a local rename, or an upload confirmed by size
 * and sha256). The file is not visible until commitChunk; on any failure here
 * it is removed again.
 */
import { discardUncommitted } from './discardUncommitted.js';
import { rmSync, statSync } from 'node:fs';
import { coldFilePath, type PartitionSpan } from '../cold/coldLayout.js';
import { fileSha256 } from '../cold/fileSha256.js';
import { readBackKeysOn } from '../cold/ParquetChunkWriter.js';
import type { ConnectionLane } from '../cold/ConnectionLane.js';
import { ColdFileError } from '../errors.js';
import type { ArchiveContext } from './ArchiveContext.js';
import { keyForManifest } from './chunkKeys.js';
import type { StagedInfo } from './ChunkProducer.js';
import { failpoint } from './failpoint.js';
import type { NewManifestFile } from '../manifest/manifestFiles.js';
import type { TableShape } from './TableShape.js';

export interface WriteChunkOptions {
  shape: TableShape;
  span: PartitionSpan;
  /** The file id, `fileId(runId, seq, runToken)`. */
  id: string;
  /** The temp file the producer writes. */
  tmp: string;
  /** What was staged: summary (keys, checksum, ranges) and column types; no refusal, at least one row. */
  staged: StagedInfo;
  /** Settles once the temp file is written (rejects when writing it failed; the producer removed it then). */
  written: Promise<void>;
  runId: number;
  now: number;
  /** Average SQLite bytes per row, for the manifest's `hot_bytes`. */
  hotBytesPerRow: number;
  /** `PRAGMA data_version` on the archiver's connection, taken before the rows were read. */
  dataVersion: number;
  /** Where the file is read back: a side connection, beside the next chunk's COPY. */
  sideLane: ConnectionLane;
  /**
   * Awaited before the file goes into the tree (the pipeline: the previous chunk's commit), so a crash
   * leaves at most one unlisted file of the run in the tree, as recovery expects.
   */
  beforePut?: Promise<unknown>;
}

/** A chunk written, verified and putStarted into the tree, waiting for its commit. */
export interface WrittenChunk {
  shape: TableShape;
  span: PartitionSpan;
  /** The chunk's row count (its rows are in the file only). */
  rowCount: number;
  keys: unknown[];
  /** Manifest path of the file, already in the tree. */
  path: string;
  manifestRow: NewManifestFile;
  dataVersion: number;
  grace: boolean;
}

export async function writeChunk(ctx: Pick<ArchiveContext, 'config' | 'cold' | 'uncommitted'>, o: WriteChunkOptions): Promise<WrittenChunk> {
  const { shape: s, span, id, staged, tmp } = o;
  const { summary, types } = staged;
  const rowCount = summary.rows;
  const { t } = s;
  const rel = coldFilePath(t.table, span, id);
  const { keys, checksum, minKey, maxKey, minTimeMs: minTime, maxTimeMs: maxTime } = summary;
  const schema = s.names.map((name, i) => ({ name, type: types[i]! }));
  let putStarted = false;
  let done = false;
  try {
    await o.written;
    const back = await o.sideLane.run((con) => readBackKeysOn(con, tmp, t.keyColumn));
    if (back.rows !== rowCount || back.checksum !== checksum) {
      throw new ColdFileError(tmp, `verification failed for ${tmp}: read back ${back.rows} rows (expected ${rowCount}) or a different key checksum`);
    }
    const wholeFileSha = await fileSha256(tmp);
    const bytes = statSync(tmp).size;
    failpoint('after-verify');
    await o.beforePut;
    putStarted = true;
    await ctx.cold.put(tmp, rel, { bytes, sha256: wholeFileSha });
    failpoint('after-rename');
    const grace = ctx.config.archiveGraceHours > 0;
    const manifestRow = {
      table_name: t.table,
      path: rel,
      partition: span.key,
      rows: rowCount,
      min_time_ms: minTime,
      max_time_ms: maxTime,
      min_key: keyForManifest(minKey),
      max_key: keyForManifest(maxKey),
      bytes,
      hot_bytes: Math.round(rowCount * o.hotBytesPerRow),
      checksum,
      file_sha256: wholeFileSha,
      schema_json: JSON.stringify(schema),
      state: grace ? ('pending' as const) : ('live' as const),
      run_id: o.runId,
      created_at_ms: o.now,
      visible_after_ms: grace ? o.now + ctx.config.archiveGraceHours * 3_600_000 : null,
    };
    done = true;
    return { shape: s, span, rowCount, keys, path: rel, manifestRow, dataVersion: o.dataVersion, grace };
  } finally {
    if (!done) {
      // A write still under way (this step failed before it settled) must end before its file is removed.
      await o.written.catch(() => undefined);
      rmSync(tmp, { force: true });
      // Best effort: an error is on its way out, and a failed removal must not replace it (an endpoint
      // that went away fails both); the object's name proves this run wrote it, so recovery removes it.
      if (putStarted) await discardUncommitted(ctx, rel);
    }
  }
}
