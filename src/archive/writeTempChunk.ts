/**
 * Step 1 of the move protocol for one staged chunk: its rows into a temp file
 * in the cold store's staging folder, zstd Parquet with the footer that names
 * the table, partition, keys and schema (and the table's Iceberg field ids).
 * Runs wherever the chunk was staged: on the archiver's thread or on the
 * archive worker thread (ChunkProducer). Nothing is durable or visible yet:
 * writeChunk verifies the file and puts it into the tree. A failure removes the
 * temp file.
 */
import { rmSync } from 'node:fs';
import type { PartitionSpan } from '../cold/coldLayout.js';
import { footerMetadata } from '../cold/chunkFooter.js';
import type { DataChunkPool } from '../cold/DataChunkPool.js';
import type { DuckDbEngine } from '../cold/DuckDbEngine.js';
import { writeParquetChunk, type ChunkToWrite } from '../cold/ParquetChunkWriter.js';
import { fieldIdsFor } from '../iceberg/parquetFieldIds.js';
import type { IcebergColumn } from '../iceberg/icebergSchema.js';
import { failpoint, faultFires } from './failpoint.js';
import { releaseStaged, type StagedChunk } from './stageChunk.js';
import type { TableShape } from './TableShape.js';

export interface TempChunk {
  shape: TableShape;
  span: PartitionSpan;
  /** The temp file (tmpFilePath). */
  tmp: string;
  /** Staged with no refusal and at least one row. Handed over: its data chunks go back to `pool` as they are appended. */
  staged: StagedChunk;
  pool: DataChunkPool;
  zstdLevel: number;
  /** The table's published Iceberg columns (publishedColumns), read once per table: its files carry their field ids. */
  icebergColumns: readonly IcebergColumn[] | undefined;
  /** The connection and scratch table to write with (default: the engine's own). */
  lane?: ChunkToWrite['lane'];
}

export async function writeTempChunk(engine: DuckDbEngine, o: TempChunk): Promise<void> {
  const { shape: s, span, staged } = o;
  const { t } = s;
  const schema = s.names.map((name, i) => ({ name, type: staged.types[i]! }));
  const metadata = footerMetadata({ table: t.table, partition: span.key, keyColumn: t.keyColumn, timeColumn: t.timeColumn, timeUnit: t.timeUnit, summary: staged.summary, schema });
  let written = false;
  try {
    const fieldIds = fieldIdsFor(o.icebergColumns, schema);
    await writeParquetChunk(engine, o.tmp, { columns: s.names, types: staged.types, dataChunks: staged.dataChunks, pool: o.pool, zstdLevel: o.zstdLevel, metadata, fieldIds, lane: o.lane });
    // Not fsynced here: cold.put makes the verified file durable (a local fsync before its rename; an upload
    // confirmed by size and sha256), and a temp file lost to a crash is only a chunk to write again.
    failpoint('after-write');
    if (faultFires('temp-write-fails')) throw new Error(`injected fault temp-write-fails: ${o.tmp}`);
    written = true;
  } finally {
    releaseStaged(staged, o.pool);
    if (!written) rmSync(o.tmp, { force: true });
  }
}
