/**
 * Where a table's chunks are read and written to temp files (step 1 of the
 * move protocol): `produce` reads one chunk from SQLite, stages it into DuckDB
 * data chunks (stageChunk) and writes it to its temp file (writeTempChunk).
 * Chunks are read in the order asked, each to its end before the next (one
 * statement open at a time), and written `lanes` DuckDB writes at a time (each
 * on a connection and scratch table of its own), the next chunk read while the
 * previous ones are compressed. The archiver verifies,
 * puts, commits and drains each file on its own thread (writeChunk,
 * commitChunk, drainFile).
 *
 * Two producers: SameThreadChunkProducer here, on the archiver's connection and
 * engine; WorkerChunkProducer, the same class on a worker thread with its own
 * read-only connection and DuckDB instance, so a large table's reading and
 * staging run beside the drain's deletes (UniversalArchiver picks it from
 * ARCHIVE_THREAD_MIN_ROWS).
 */
import type Database from 'better-sqlite3';
import type { PartitionSpan } from '../cold/coldLayout.js';
import { DataChunkPool } from '../cold/DataChunkPool.js';
import type { DuckDbEngine } from '../cold/DuckDbEngine.js';
import type { IcebergColumn } from '../iceberg/icebergSchema.js';
import { publishedColumns } from '../iceberg/parquetFieldIds.js';
import { chunkReader } from './partitionScan.js';
import { stageChunk, type StagedChunk } from './stageChunk.js';
import type { TableShape } from './TableShape.js';
import { writeTempChunk } from './writeTempChunk.js';
import type { ChunkToWrite } from '../cold/ParquetChunkWriter.js';

/** A staged chunk without its rows: what the archiver's thread learns of it. Plain data (it crosses threads). */
export type StagedInfo = Omit<StagedChunk, 'dataChunks'>;

/** One chunk to read: [lo, hi) of `span` in column values, after `cursor` (the previous chunk's last (time, key)). */
export interface ChunkRequest {
  span: PartitionSpan;
  lo: unknown;
  hi: unknown;
  cursor: unknown[] | undefined;
  batchSize: number;
  /** Its temp file, written unless the chunk is refused or moves no row. */
  tmp: string;
}

export interface ProducedChunk {
  /** The chunk as read: rows read, cursor, refusals, summary and types. */
  staged: Promise<StagedInfo>;
  /**
   * Settles once the temp file is written (at once when nothing is written: a refusal, no row, a failed
   * read); rejects when writing failed, the temp file removed.
   */
  written: Promise<void>;
}

export interface ChunkProducer {
  /** Asks for the next chunk of the table (chunks are asked for in order). */
  produce(request: ChunkRequest): ProducedChunk;
  /** Ends the producer once every chunk it was asked for has settled. */
  close(): Promise<void>;
}

/** Whether a staged chunk is written (a refused or empty one is not). */
export function writesFile(staged: StagedInfo): boolean {
  return staged.refusal === undefined && staged.summary.rows > 0;
}

const ignore = (): void => undefined;

export interface SameThreadOptions {
  /**
   * A turn of the event loop every that many rows read, so the DuckDB writes go on while a chunk is read:
   * the worker's (its connection runs nothing else). None on the archiver's thread: a chunk is read in one
   * go there, so no other statement can meet its open one.
   */
  pauseEveryRows?: number;
  /** DuckDB writes under way at once, each on a connection and scratch table of its own (default 1: the engine's connection). */
  lanes?: number;
}

interface Lane {
  /** Its connection and scratch table; none: the engine's own. */
  lane: Promise<ChunkToWrite['lane']>;
  /** Settles when this lane's last write is done. */
  free: Promise<void>;
}

/** Reads with `raw` and writes with `engine`, on the calling thread. */
export class SameThreadChunkProducer implements ChunkProducer {
  readonly #engine: DuckDbEngine;
  readonly #shape: TableShape;
  readonly #zstdLevel: number;
  readonly #read: ReturnType<typeof chunkReader>;
  readonly #pauseEveryRows: number | undefined;
  readonly #iceberg: IcebergColumn[] | undefined;
  // Data chunks are reused from chunk to chunk: their native memory would otherwise wait for V8 (DataChunkPool).
  readonly #pool = new DataChunkPool();
  /** Settles when the last read asked for is done. */
  #reads: Promise<void> = Promise.resolve();
  readonly #lanes: Lane[];
  #nextLane = 0;

  constructor(engine: DuckDbEngine, raw: Database.Database, shape: TableShape, zstdLevel: number, options: SameThreadOptions = {}) {
    this.#engine = engine;
    this.#shape = shape;
    this.#zstdLevel = zstdLevel;
    this.#read = chunkReader(raw, shape);
    this.#pauseEveryRows = options.pauseEveryRows;
    this.#lanes = [{ lane: Promise.resolve(undefined), free: Promise.resolve() }];
    for (let i = 1; i < (options.lanes ?? 1); i++) {
      const lane = engine.instance.connect().then((connection) => ({ connection, scratch: `_tierdb_chunk_${i}` }));
      lane.catch(ignore);
      this.#lanes.push({ lane, free: lane.then(ignore, ignore) });
    }
    // Read once: with a pause, a chunk's statement may be open whenever a write starts.
    this.#iceberg = publishedColumns(raw, shape.t.table);
  }

  produce(r: ChunkRequest): ProducedChunk {
    const staged = this.#reads.then(() => stageChunk(this.#shape, r.span, this.#read(r.lo, r.hi, r.cursor, r.batchSize), this.#pool, this.#pauseEveryRows));
    this.#reads = staged.then(ignore, ignore);
    const written = staged.then(
      (chunk) => {
        if (!writesFile(chunk)) return undefined;
        const lane = this.#lanes[this.#nextLane++ % this.#lanes.length]!;
        const write = lane.free.then(async () =>
          writeTempChunk(this.#engine, { shape: this.#shape, span: r.span, tmp: r.tmp, staged: chunk, pool: this.#pool, zstdLevel: this.#zstdLevel, icebergColumns: this.#iceberg, lane: await lane.lane }),
        );
        lane.free = write.catch(ignore);
        return write;
      },
      // A chunk that was not read writes nothing.
      ignore,
    );
    // Awaited by writeChunk (or by the archiver's cleanup); never an unhandled rejection meanwhile.
    written.catch(ignore);
    return { staged: staged.then(({ dataChunks: _rows, ...info }) => info), written };
  }

  async close(): Promise<void> {
    await this.#reads;
    await Promise.all(this.#lanes.map((l) => l.free));
    for (const l of this.#lanes) (await l.lane.catch(ignore))?.connection.closeSync();
  }
}
