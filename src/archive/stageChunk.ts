/**
 * Reads one chunk of a partition from SQLite straight into DuckDB data chunks
 * of 2,048 rows, screening each row (RowScreen), checking each value's storage
 * class against its column (ChunkColdTypes) and summarizing the keys and times
 * (ChunkSummarizer) on the way. The rows live in native memory from then on;
 * no chunk's worth of JS rows is ever alive at once.
 *
 * Why (bench/archive.ts, rss section): a 20,000-row chunk of the demo messages
 * is ~14 MB of JS arrays. Held whole, it outlives the young generation, is
 * promoted and dies old, and V8 lets the old generation grow to ~4x its live
 * size between full collections: the heap reached 140–180 MB at 4M messages for
 * ~20–32 MB live, and peak RSS grew with the chunk size. 2,048 rows (~1.4 MB)
 * die in the young generation.
 */
import type { DuckDBDataChunk } from '@duckdb/node-api';
import type { PartitionSpan } from '../cold/coldLayout.js';
import { ChunkSummarizer, type ChunkSummary } from '../cold/chunkFooter.js';
import type { DataChunkPool } from '../cold/DataChunkPool.js';
import { filledDataChunk, VECTOR_SIZE } from '../cold/ParquetChunkWriter.js';
import { ChunkColdTypes, classOf, DUCKDB_TYPES, sqliteClassName, type ColdType, type ValueClass } from '../cold/columnTypes.js';
import { RowScreen, type RowRefusal } from './RowScreen.js';
import type { TableShape } from './TableShape.js';

/** One chunk's rows, read and held by DuckDB data chunks until writeChunk appends them. */
export interface StagedChunk {
  /** Rows read from SQLite, moving or not: fewer than the batch size ends the partition. */
  readonly read: number;
  /** (time, key) of the last row read: where the next chunk starts. */
  readonly cursor: unknown[] | undefined;
  /** The moving rows, in read order, `VECTOR_SIZE` per data chunk; empty when `refusal` is set. */
  readonly dataChunks: DuckDBDataChunk[];
  readonly types: readonly ColdType[];
  /** Keys and ranges of the moving rows. */
  readonly summary: ChunkSummary;
  /** Why the whole chunk stays hot (a value of another storage class than its column), if it does. */
  readonly refusal?: string;
  /** Rows that stay hot (a NULL key, a time that is not its unit's), one entry per reason. */
  readonly refused: readonly RowRefusal[];
}

/** Gives a staged chunk's data chunks back to `pool` (those not appended yet: the writer takes each out as it appends it). */
export function releaseStaged(staged: StagedChunk, pool: DataChunkPool): void {
  for (let chunk = staged.dataChunks.shift(); chunk; chunk = staged.dataChunks.shift()) pool.release(chunk);
}

/**
 * Stages the rows `rows` yields (one statement's rows: one snapshot). Row refusals come back in
 * `refused`; a value of the wrong storage class refuses the whole chunk (`refusal`), and the
 * rest of its rows are still read, so the cursor moves past it. Touches no report or log: it also runs
 * on the archive worker thread (chunkWorker). With `pauseEveryRows`, a turn of the event loop every that
 * many rows, the statement left open meanwhile: only where the connection runs nothing else.
 */
export async function stageChunk(s: TableShape, span: PartitionSpan, rows: Iterable<unknown[]>, pool: DataChunkPool, pauseEveryRows?: number): Promise<StagedChunk> {
  const screen = new RowScreen(s);
  const types = new ChunkColdTypes(s.columns);
  const summarizer = new ChunkSummarizer(s.t.timeUnit);
  const dataChunks: DuckDBDataChunk[] = [];
  let batch: unknown[][] = [];
  let read = 0;
  let last: unknown[] | undefined;
  let refusal: string | undefined;
  const flush = (): void => {
    if (refusal === undefined) refusal = appendBatch(s, types, dataChunks, batch, pool);
    batch = [];
  };
  for (const row of rows) {
    read++;
    last = row;
    if (!screen.admits(row)) continue;
    summarizer.add(row[s.keyIndex], row[s.timeIndex]);
    batch.push(row);
    if (batch.length === VECTOR_SIZE) flush();
    if (pauseEveryRows !== undefined && read % pauseEveryRows === 0) await turnOfEventLoop();
  }
  if (batch.length > 0) flush();
  const staged = {
    read,
    cursor: last === undefined ? undefined : [last[s.timeIndex], last[s.keyIndex]],
    dataChunks,
    types: types.types,
    summary: summarizer.finish(),
    ...(refusal === undefined ? {} : { refusal }),
    refused: screen.take(span),
  };
  if (refusal !== undefined) releaseStaged(staged, pool);
  return staged;
}

const turnOfEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The first value, in row order, whose class is not its column's. */
interface Mismatch {
  row: number;
  column: number;
  expected: ValueClass;
  found: ValueClass;
}

/**
 * `batch` into one more data chunk; returns the refusal message when a value has another storage class
 * than its column. A column that was NULL so far and takes a type other than VARCHAR leaves its earlier
 * data chunks as they are (VARCHAR, all NULL): DuckDB's appender casts them to the scratch table's
 * type (test/stageChunk.test.ts holds it to that).
 *
 * Columns still undecided are scanned first (their first value decides them); the others are checked
 * by fillColumn as it writes them (a class is a JS type: bigint, number, string, bytes). Only when a
 * value is refused does the whole batch get scanned, for the first mismatch in row order.
 */
function appendBatch(s: TableShape, types: ChunkColdTypes, dataChunks: DuckDBDataChunk[], batch: readonly unknown[][], pool: DataChunkPool): string | undefined {
  const width = s.columns.length;
  const undecided: number[] = [];
  for (let c = 0; c < width; c++) if (types.expected[c] === undefined) undecided.push(c);
  let refused: unknown;
  if (undecided.length === 0 || !firstMismatch(types, batch, undecided)) {
    try {
      dataChunks.push(filledDataChunk(types.types.map((t) => DUCKDB_TYPES[t]), batch, batch.length, pool));
      return undefined;
    } catch (error) {
      refused = error;
    }
  }
  // A value was refused: the first mismatch in row order, over every column, is the one named.
  const mismatch = firstMismatch(types, batch, allColumns(width));
  if (!mismatch) throw refused;
  return mixedTypeMessage(s, batch[mismatch.row]!, mismatch);
}

const allColumns = (width: number): number[] => Array.from({ length: width }, (_, c) => c);

/**
 * The first value, in row order (then column order), of `columns` whose class is not its column's; an
 * undecided column takes the class of its first non-NULL value on the way.
 */
function firstMismatch(types: ChunkColdTypes, batch: readonly unknown[][], columns: readonly number[]): Mismatch | undefined {
  let mismatch: Mismatch | undefined;
  for (const c of columns) {
    // Only rows before the first mismatch found so far can hold an earlier one.
    const end = mismatch ? mismatch.row : batch.length;
    for (let r = 0; r < end; r++) {
      const v = batch[r]![c];
      if (v === null || v === undefined) continue;
      const cls = classOf(v)!;
      const want = types.expected[c];
      if (want === undefined) {
        types.decide(c, cls);
      } else if (want !== cls) {
        mismatch = { row: r, column: c, expected: want, found: cls };
        break;
      }
    }
  }
  return mismatch;
}

function mixedTypeMessage(s: TableShape, row: readonly unknown[], m: Mismatch): string {
  const key = row[s.keyIndex];
  const value = row[m.column];
  const column = s.names[m.column]!;
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : Buffer.isBuffer(value) ? `a ${value.length}-byte BLOB` : String(value);
  return (
    `${s.t.table}.${column} holds ${sqliteClassName(m.found)} value ${shown} at ${s.t.keyColumn}=${String(key)}, ` +
    `but the column holds ${sqliteClassName(m.expected)}; its chunk stays hot. Fix the value ` +
    `(e.g. UPDATE ${s.t.table} SET ${column} = CAST(${column} AS ${sqliteClassName(m.expected)}) WHERE ${s.t.keyColumn} = ${String(key)}) ` +
    `or declare the column with the type it really holds`
  );
}
