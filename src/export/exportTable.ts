/**
 * Streams one table (hot and cold) into a Parquet (zstd), CSV or JSONL file,
 * written under a temp name beside the target, fsynced and renamed; never
 * over anything but a regular file or a new path.
 */
import { createWriteStream, existsSync, mkdtempSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import path from 'node:path';
import { affinityType, classOf, TYPE_OF_CLASS, type ColdType } from '../cold/columnTypes.js';
import { DuckDbEngine, sqlString } from '../cold/DuckDbEngine.js';
import { durableRename, fsyncFile } from '../cold/fsyncFile.js';
import { ArgumentError, TierError } from '../errors.js';
import { appendRows, createTempTable } from '../query/appendRows.js';
import { RowWriter } from '../query/formatRows.js';
import type { QueryOptions, Row } from '../query/QueryOptions.js';
import type { ResolvedTable } from '../registry/resolveRegistry.js';
import type { TierStore } from '../store/openTierStore.js';
import { assertOutputPath } from './assertOutputPath.js';

/** Progress callbacks (the CLI passes a progress bar). */
export interface ExportProgress {
  start(total: number, label: string): void;
  update(done: number, label?: string): void;
  stop(): void;
}

export const EXPORT_FORMATS = ['parquet', 'csv', 'jsonl'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];


export interface ExportReport {
  table: string;
  format: ExportFormat;
  out: string;
  rows: number;
  bytes: number;
  ms: number;
}


/**
 * Writes rows into a Parquet file through a DuckDB of its own (the bridge's
 * DuckDB may only read the cold folder): rows go in through the appender in
 * batches, then one `COPY … (FORMAT parquet, COMPRESSION zstd)`. DuckDB holds
 * the rows within DUCKDB_MEMORY_LIMIT and spills the rest to a temp folder.
 * Column types: the declared affinity; an untyped column takes the class of
 * its first non-NULL value in the first batch (VARCHAR when that batch has none).
 */
class ParquetSink {
  readonly #engine: DuckDbEngine;
  readonly #columns: readonly string[];
  readonly #declared: ReadonlyMap<string, string>;
  #types: ColdType[] | undefined;
  #batch: unknown[][] = [];
  readonly #batchSize: number;

  private constructor(engine: DuckDbEngine, columns: readonly string[], declared: ReadonlyMap<string, string>, batchSize: number) {
    this.#engine = engine;
    this.#columns = columns;
    this.#declared = declared;
    this.#batchSize = batchSize;
  }

  static async open(store: TierStore, t: ResolvedTable, columns: readonly string[], spillDir: string, batchSize: number): Promise<ParquetSink> {
    const engine = await DuckDbEngine.create({
      memoryLimit: store.config.duckdbMemoryLimit,
      threads: store.config.archiveMaxWorkers,
      tempDirectory: spillDir,
    });
    return new ParquetSink(engine, columns, new Map(t.columns.map((c) => [c.name, c.declaredType])), batchSize);
  }

  async write(row: Row): Promise<void> {
    this.#batch.push(this.#columns.map((c) => row[c]));
    if (this.#batch.length >= this.#batchSize) await this.#flush();
  }

  async finish(file: string): Promise<void> {
    await this.#flush();
    if (!this.#types) await this.#create();
    await this.#engine.connection.run(`COPY __export TO ${sqlString(file)} (FORMAT parquet, COMPRESSION zstd)`);
  }

  close(): void {
    this.#engine.close();
  }

  async #create(): Promise<void> {
    this.#types = this.#columns.map((c, i) => {
      const declared = affinityType(this.#declared.get(c) ?? '');
      if (declared) return declared;
      for (const row of this.#batch) {
        const cls = classOf(row[i]);
        if (cls) return TYPE_OF_CLASS[cls];
      }
      return 'VARCHAR';
    });
    await createTempTable(this.#engine.connection, '__export', this.#columns, this.#types);
  }

  async #flush(): Promise<void> {
    if (this.#batch.length === 0) return;
    if (!this.#types) await this.#create();
    const types = this.#types!;
    for (const row of this.#batch) {
      for (let i = 0; i < types.length; i++) {
        const cls = classOf(row[i]);
        if (cls !== null && TYPE_OF_CLASS[cls] !== types[i]) {
          throw new ArgumentError(
            `column ${this.#columns[i]} holds a ${cls} value after ${types[i]} values; Parquet needs one type per column: export it as csv or jsonl`,
          );
        }
      }
    }
    await appendRows(this.#engine.connection, '__export', types, this.#batch);
    this.#batch = [];
  }
}

/** A temp name beside the target, so the final rename stays on one file system. */
function tempBeside(out: string): string {
  return path.join(path.dirname(out), `.${path.basename(out)}.tmp-${process.pid}-${Date.now()}`);
}

/**
 * Streams one table's rows (bridge.stream) into a file: written under a temp
 * name, fsynced, then renamed onto `out`. Refuses an existing `out` unless `force`,
 * and anything at `out` that is not a regular file (a folder, a device, a FIFO, a link) even then.
 */
export async function exportTable(
  store: TierStore,
  table: string,
  options: QueryOptions,
  target: { format: ExportFormat; out: string; force?: boolean; batchSize?: number; progress?: ExportProgress; signal?: AbortSignal },
): Promise<ExportReport> {
  const started = performance.now();
  const t = store.table(table);
  const out = path.resolve(target.out);
  assertOutputPath(out, target.force ?? false);
  const batchSize = target.batchSize ?? 10_000;
  const columns = options.columns ?? t.columns.map((c) => c.name);
  const tmp = tempBeside(out);
  const progress = target.progress;
  let spillDir: string | undefined;
  let parquet: ParquetSink | undefined;
  let file: ReturnType<typeof createWriteStream> | undefined;
  let writer: RowWriter | undefined;
  let rows = 0;
  try {
    if (target.format === 'parquet') {
      spillDir = mkdtempSync(path.join(path.dirname(out), `.${path.basename(out)}.spill-`));
      parquet = await ParquetSink.open(store, t, columns, spillDir, batchSize);
    } else {
      file = createWriteStream(tmp, { flags: 'wx' });
      writer = new RowWriter(file, target.format, columns);
    }
    const stream = store.bridge.stream(table, options, {
      batchSize: Math.min(batchSize, 10_000),
      ...(progress ? { onTotal: (n: number) => progress.start(n, `export ${table}`) } : {}),
    });
    for await (const row of stream) {
      if (target.signal?.aborted) throw new TierError('TIERDB_ABORTED', `export of ${table} stopped; ${out} was not written`);
      if (parquet) await parquet.write(row);
      else await writer!.write(row);
      rows++;
      if (rows % 2048 === 0) progress?.update(rows);
    }
    progress?.update(rows);
    if (parquet) await parquet.finish(tmp);
    else {
      await writer!.end();
      file!.end();
      await finished(file!);
    }
    fsyncFile(tmp);
    // Checked again: the path may have become something else while the rows were written.
    assertOutputPath(out, target.force ?? false);
    durableRename(tmp, out);
  } catch (error) {
    file?.destroy();
    if (existsSync(tmp)) unlinkSync(tmp);
    throw error;
  } finally {
    progress?.stop();
    parquet?.close();
    if (spillDir) rmSync(spillDir, { recursive: true, force: true });
  }
  return { table, format: target.format, out, rows, bytes: statSync(out).size, ms: Math.round(performance.now() - started) };
}
