/**
 * Steps 1–3 of the move protocol for one chunk: temp file in the cold store's
 * staging folder, verify (row count, key checksum), whole-file sha256,
 * then `cold.put` makes it durable in the tree (a local rename, or an upload
 * confirmed by size and sha256). The file is not visible until commitChunk; on
 * any failure here it is removed again.
 */
import { discardUncommitted } from './discardUncommitted.js';
import { rmSync, statSync } from 'node:fs';
import { coldFilePath, tmpFilePath, type PartitionSpan } from '../cold/coldLayout.js';
import type { DuckDbEngine } from '../cold/DuckDbEngine.js';
import { fileSha256 } from '../cold/fileSha256.js';
import { footerMetadata } from '../cold/chunkFooter.js';
import { readBackKeysOn, writeParquetChunk } from '../cold/ParquetChunkWriter.js';
import type { ConnectionLane } from '../cold/ConnectionLane.js';
import { parquetFieldIds } from '../iceberg/parquetFieldIds.js';
import { ColdFileError } from '../errors.js';
import type { ArchiveContext } from './ArchiveContext.js';
import { keyForManifest } from './chunkKeys.js';
import { failpoint } from './failpoint.js';
import type { NewManifestFile } from '../manifest/manifestFiles.js';
import type { TableShape } from './TableShape.js';
import { releaseStaged, type StagedChunk } from './stageChunk.js';
import type { DataChunkPool } from '../cold/DataChunkPool.js';

export interface WriteChunkOptions {
  engine: DuckDbEngine;
  shape: TableShape;
  span: PartitionSpan;
  /** The file id, `fileId(runId, seq, runToken)`. */
  id: string;
  /** The chunk's rows in (time, key) order, staged (stageChunk) with no refusal. Handed over: appended, then let go. */
  staged: StagedChunk;
  /** Where the staged data chunks go back once appended (stageChunk took them from it). */
  pool: DataChunkPool;
  runId: number;
  now: number;
  /** Average SQLite bytes per row, for the manifest's `hot_bytes`. */
  hotBytesPerRow: number;
  /** `PRAGMA data_version` taken just before the rows were read. */
  dataVersion: number;
  /** Called once DuckDB holds the rows (the pipeline commits the previous chunk while they are compressed). */
  onRowsHeld?: () => void;
  /** Called once the COPY is done: the engine's main connection is free for the next chunk. */
  onCopyDone?: () => void;
  /** Where the file is read back: a side connection, beside the next chunk's COPY on the engine's own. */
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
  /** The chunk's row count (its rows are in the file only: writeChunk let go of them). */
  rowCount: number;
  keys: unknown[];
  /** Manifest path of the file, already in the tree. */
  path: string;
  manifestRow: NewManifestFile;
  dataVersion: number;
  grace: boolean;
}

export async function writeChunk(ctx: Pick<ArchiveContext, 'config' | 'cold' | 'raw' | 'uncommitted'>, o: WriteChunkOptions): Promise<WrittenChunk> {
  const { shape: s, span, id, staged } = o;
  const { summary, types } = staged;
  const rowCount = summary.rows;
  const { t } = s;
  const tmp = tmpFilePath(ctx.cold.stagingDir, t.table, id);
  const rel = coldFilePath(t.table, span, id);
  const { keys, checksum, minKey, maxKey, minTimeMs: minTime, maxTimeMs: maxTime } = summary;
  const schema = s.names.map((name, i) => ({ name, type: types[i]! }));
  const metadata = footerMetadata({ table: t.table, partition: span.key, keyColumn: t.keyColumn, timeColumn: t.timeColumn, timeUnit: t.timeUnit, summary, schema });
  let putStarted = false;
  let written = false;
  try {
    const fieldIds = parquetFieldIds(ctx.raw, t.table, schema);
    // The staged data chunks are let go as they are appended (see stageChunk for why the rows never
    // exist as one JS array); the caller commits the previous chunk once DuckDB holds these rows.
    await writeParquetChunk(o.engine, tmp, { columns: s.names, types, dataChunks: staged.dataChunks, pool: o.pool, zstdLevel: ctx.config.archiveZstdLevel, metadata, fieldIds }, o.onRowsHeld);
    o.onCopyDone?.();
    // Not fsynced here: cold.put makes the verified file durable (a local fsync before its rename; an upload
    // confirmed by size and sha256), and a temp file lost to a crash is only a chunk to write again.
    failpoint('after-write');
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
    written = true;
    return { shape: s, span, rowCount, keys, path: rel, manifestRow, dataVersion: o.dataVersion, grace };
  } finally {
    releaseStaged(staged, o.pool);
    if (!written) {
      rmSync(tmp, { force: true });
      // Best effort: an error is on its way out, and a failed removal must not replace it (an endpoint
      // that went away fails both); the object's name proves this run wrote it, so recovery removes it.
      if (putStarted) await discardUncommitted(ctx, rel);
    }
  }
}
