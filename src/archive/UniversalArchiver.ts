/**
 * Moves rows older than a table's `hotDays` from SQLite into zstd Parquet,
 * exactly once (the move protocol of DESIGN.md):
 *
 *   1. read a chunk (whole UTC days/months, at most ARCHIVE_BATCH_SIZE rows), write a temp file, fsync;
 *   2. read the file back: row count and key checksum must match what was read;
 *   3. rename into the Hive tree, fsync the folder;
 *   4. one SQLite transaction: the rows are unchanged, insert the manifest row, delete the rows.
 *
 * Step 4 is the only commit point. A crash before it leaves the rows hot and an
 * orphan file that recovery removes; after it, the rows are cold.
 *
 * Here: the run (lease, backup, run log, recovery, engine, tables loop) and the
 * per-table chunk pipeline. Each stage has its own file beside this one
 * (partitionScan, stageChunk, writeChunk, commitChunk, graceFiles, planTable,
 * runLog); docs/ARCHITECTURE.md maps them to the protocol.
 */
import { discardUncommitted } from './discardUncommitted.js';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { TierConfig } from '../config.js';
import { fileId, runSpillDir, tmpFilePath, type PartitionSpan } from '../cold/coldLayout.js';
import type { ColdStore } from '../cold/ColdStore.js';
import { ConnectionLane } from '../cold/ConnectionLane.js';
import { DuckDbEngine } from '../cold/DuckDbEngine.js';
import { WalCheckpointer } from '../hot/WalCheckpointer.js';
import { readParquetRowsOn } from '../cold/ParquetChunkWriter.js';
import { ArgumentError, ColdFileError, LeaseHeldError, LeaseLostError, ReadOnlyStoreError } from '../errors.js';
import { noopLogger, type Logger } from '../logger.js';
import { RunNotifier } from '../notify/RunNotifier.js';
import { summarizeArchiveReport } from '../notify/summarizeArchiveReport.js';
import type { ResolvedTable } from '../registry/resolveRegistry.js';
import { selectTables } from '../registry/selectTables.js';
import { ensureStoreMarker } from '../store/coldTreeIdentity.js';
import type { ArchiveContext } from './ArchiveContext.js';
import type { ArchiveReport, ArchiveRunOptions, TableReport } from './ArchiveReport.js';
import { backupHotFile } from './backupHotFile.js';
import { commitChunks, dataVersion } from './commitChunk.js';
import { DrainPacer } from './drainFile.js';
import { DrainQueue } from './DrainQueue.js';
import { finishDrains } from './finishDrains.js';
import { emptyTableReport } from './emptyTableReport.js';
import { commitDuePending } from './graceFiles.js';
import { hotBytesPerRow } from './hotBytesPerRow.js';
import { Lease, leaseHolder } from './lease.js';
import { listFiles } from '../manifest/manifestFiles.js';
import { nextPartition, partitionBoundaryMs, refuseUnplaceable, timeColumnIndexed, yieldToEventLoop, type ScanCursor } from './partitionScan.js';
import { planTable } from './planTable.js';
import { hotBytesOnDisk, reclaimSpace } from './reclaimSpace.js';
import { recover, type RecoveryReport } from './recovery.js';
import { failRun, finishRun, insertRunningRun } from '../manifest/runLog.js';
import { SameThreadChunkProducer, writesFile, type ChunkProducer, type ProducedChunk } from './ChunkProducer.js';
import { reportRowRefusals } from './RowScreen.js';
import { WorkerChunkProducer } from './WorkerChunkProducer.js';
import { assertKeysNotReusable, readTableShape } from './TableShape.js';
import { boundForColumn } from '../registry/timeUnit.js';
import { writeChunk, type WrittenChunk } from './writeChunk.js';

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };


export interface UniversalArchiverDeps {
  raw: Database.Database;
  config: TierConfig;
  /** Where the cold files live. */
  cold: ColdStore;
  tables: readonly ResolvedTable[];
  /** The store id (`_tierdb_meta.store_id`); the cold folder is marked with it before the first write. */
  storeId?: string | undefined;
  /** A read-only store: only dry runs. */
  readonly?: boolean;
  logger?: Logger;
  /** Told of every run's end (not of dry runs); default: one that tells nobody. */
  notifier?: RunNotifier;
  /**
   * After a run that is not a dry run, once the lease is released and before
   * its end is notified (ICEBERG_PUBLISH: the Iceberg publish, in a run of its
   * own). What it returns goes into `report.iceberg`; it must not throw.
   */
  afterRun?: (report: ArchiveReport) => Promise<ArchiveReport['iceberg']>;
}

/** How far a run got, for the summary of one that threw. */
interface RunProgress {
  report: ArchiveReport | undefined;
  /** The run holds the lease: from here on it is a run, and its end is notified. */
  started: boolean;
}

export class UniversalArchiver {
  readonly #raw: Database.Database;
  readonly #config: TierConfig;
  readonly #cold: ColdStore;
  readonly #tables: readonly ResolvedTable[];
  readonly #logger: Logger;
  readonly #storeId: string | undefined;
  readonly #readonly: boolean;
  readonly #notifier: RunNotifier;
  readonly #afterRun: UniversalArchiverDeps['afterRun'];
  /** What the stages are handed: the connection, config, logger and this run's lease check. */
  readonly #ctx: ArchiveContext;
  /** The lease of the run in progress (every commit checks it). */
  #lease: Lease | undefined;
  /** The start of the run in progress on this instance, if any. */
  #runningSince: number | undefined;

  constructor(deps: UniversalArchiverDeps) {
    this.#raw = deps.raw;
    this.#config = deps.config;
    this.#cold = deps.cold;
    this.#tables = deps.tables;
    this.#logger = deps.logger ?? noopLogger;
    this.#storeId = deps.storeId;
    this.#readonly = deps.readonly ?? false;
    this.#notifier = deps.notifier ?? new RunNotifier();
    this.#afterRun = deps.afterRun;
    this.#ctx = { raw: this.#raw, config: this.#config, cold: this.#cold, logger: this.#logger, assertLease: () => this.#assertLease(), uncommitted: new Set() };
  }

  /** Recovery at open: only under a lease this instance takes; skipped while anyone else holds it. */
  async recoverIfIdle(): Promise<RecoveryReport | undefined> {
    if (this.#readonly || this.#runningSince !== undefined || leaseHolder(this.#raw)) return undefined;
    let lease: Lease;
    try {
      lease = Lease.acquire(this.#raw);
    } catch (error) {
      if (error instanceof LeaseHeldError) return undefined;
      throw error;
    }
    try {
      return await recover(this.#raw, this.#cold, lease, { retiredGraceMs: this.#config.retiredGraceMs, localColdDir: this.#config.coldDir });
    } finally {
      lease.release();
    }
  }

  /**
   * Moves every enabled table's old rows to cold storage.
   *
   * Once the run holds the lease, its end is notified (the store's RunNotifier:
   * listeners, then ARCHIVE_WEBHOOK_URL) after the lease is released, whether it
   * succeeded, failed (a table failed, or the run threw: a `failed` summary, then
   * the error is rethrown) or was aborted. A run refused before it starts
   * (another archiver holds the lease, a read-only store, a bad argument) and a
   * dry run notify nothing. The notification never fails the run and adds at
   * most the webhook's bound (WebhookNotifier.maxDurationMs).
   *
   * @example
   * const report = await store.archiver.run({ tables: ['task_queue'], now: new Date() });
   */
  async run(options: ArchiveRunOptions = {}): Promise<ArchiveReport> {
    const progress: RunProgress = { report: undefined, started: false };
    let report: ArchiveReport;
    try {
      report = await this.#run(options, progress);
    } catch (error) {
      if (progress.started && progress.report) {
        await this.#notifier.notifyRunEnd(summarizeArchiveReport(progress.report, { hotPath: this.#config.hotPath, error }));
      }
      throw error;
    }
    if (!report.dryRun && this.#afterRun) {
      const iceberg = await this.#afterRun(report);
      if (iceberg !== undefined) report = { ...report, iceberg };
    }
    if (!report.dryRun) await this.#notifier.notifyRunEnd(summarizeArchiveReport(report, { hotPath: this.#config.hotPath }));
    return report;
  }

  async #run(options: ArchiveRunOptions, progress: RunProgress): Promise<ArchiveReport> {
    const started = Date.now();
    const now = options.now === undefined ? started : typeof options.now === 'number' ? options.now : options.now.getTime();
    if (!Number.isFinite(now)) throw new ArgumentError(`now ${String(options.now)} is not a valid time`);
    const tables = selectTables(this.#tables, options.tables);
    const report: ArchiveReport = {
      runId: null,
      dryRun: options.dryRun ?? false,
      startedAt: new Date(started).toISOString(),
      endedAt: '',
      durationMs: 0,
      aborted: false,
      tables: [],
      hotBytesBefore: hotBytesOnDisk(this.#config.hotPath),
      hotBytesAfter: 0,
      reclaim: null,
      recovery: null,
      backup: null,
    };
    progress.report = report;
    if (options.dryRun) {
      for (const t of tables) {
        if (options.signal?.aborted) {
          report.aborted = true;
          break;
        }
        report.tables.push(await planTable(this.#ctx, t, now, options.signal));
      }
      return this.#finish(report, started);
    }
    if (this.#readonly || this.#storeId === undefined) {
      throw new ReadOnlyStoreError(`this store was opened read-only (${this.#config.hotPath}): only dry runs can be made; open it for writing to archive`);
    }
    if (this.#runningSince !== undefined) {
      throw new LeaseHeldError(`an archive run of this store is already in progress in this process (since ${new Date(this.#runningSince).toISOString()}); wait for it to finish`);
    }
    this.#runningSince = started;
    let lease: Lease;
    try {
      lease = Lease.acquire(this.#raw);
    } catch (error) {
      this.#runningSince = undefined;
      throw error;
    }
    this.#lease = lease;
    progress.started = true;
    let engine: DuckDbEngine | undefined;
    let checkpointer: WalCheckpointer | undefined;
    const runToken = randomBytes(4).toString('hex');
    const spillDir = runSpillDir(this.#cold.stagingDir, runToken);
    try {
      // The backup comes before this run is recorded: a restored backup then cannot claim this run's files.
      if (this.#config.archiveBackupEnabled) {
        report.backup = await backupHotFile(this.#raw, this.#config.dataDir, this.#config.archiveBackupKeep);
      }
      this.#ctx.uncommitted.clear();
      report.runId = insertRunningRun(this.#raw, started, runToken);
      report.recovery = await recover(this.#raw, this.#cold, lease, { currentRunId: report.runId, retiredGraceMs: this.#config.retiredGraceMs, localColdDir: this.#config.coldDir });
      await ensureStoreMarker(this.#cold, this.#storeId, this.#config.hotPath);
      mkdirSync(spillDir, { recursive: true });
      engine = await DuckDbEngine.create({
        memoryLimit: this.#config.duckdbMemoryLimit,
        threads: this.#config.archiveMaxWorkers,
        tempDirectory: spillDir,
      });
      checkpointer = WalCheckpointer.start(this.#raw);
      const pacer = new DrainPacer(this.#config.archiveLockTargetMs);
      // Drains a killed or failed run left: every registered table's, so maintenance never meets one.
      await finishDrains(this.#ctx, engine, this.#tables, pacer);
      for (const t of tables) {
        if (options.signal?.aborted) {
          report.aborted = true;
          break;
        }
        const tableReport = emptyTableReport(t, now);
        report.tables.push(tableReport);
        const t0 = Date.now();
        try {
          await commitDuePending(this.#ctx, engine, t, now, tableReport, pacer);
          await this.#archiveTable(engine, t, now, report.runId, runToken, tableReport, options, pacer, spillDir);
        } catch (error) {
          if (error instanceof LeaseLostError) throw error;
          tableReport.error = error instanceof Error ? error.message : String(error);
          this.#logger.error({ table: t.table, err: error }, 'archiving the table failed; other tables go on');
        }
        tableReport.durationMs = Date.now() - t0;
        tableReport.ratio = tableReport.bytesOut > 0 ? tableReport.bytesIn / tableReport.bytesOut : 0;
        if (options.signal?.aborted) report.aborted = true;
        this.#logger.debug(
          { table: t.table, rows: tableReport.rowsMoved, files: tableReport.files, bytesOut: tableReport.bytesOut, ms: tableReport.durationMs },
          'table archived',
        );
      }
      const checkpointError = await checkpointer?.stop();
      if (checkpointError) this.#logger.warn({ err: checkpointError }, 'the WAL checkpoint worker failed; the WAL is checkpointed at the end of the run');
      if (report.tables.some((t) => t.rowsMoved > 0)) report.reclaim = await reclaimSpace(this.#raw, this.#config.archiveLockTargetMs, pacer);
      this.#finish(report, started);
      if (this.#ctx.uncommitted.size > 0) report.leftovers = [...this.#ctx.uncommitted];
      finishRun(this.#raw, report);
      return report;
    } catch (error) {
      if (report.runId !== null && this.#raw.open) failRun(this.#raw, report.runId, error, [...this.#ctx.uncommitted]);
      throw error;
    } finally {
      await checkpointer?.stop();
      engine?.close();
      rmSync(spillDir, { recursive: true, force: true });
      lease.release();
      this.#lease = undefined;
      this.#runningSince = undefined;
    }
  }

  #finish(report: ArchiveReport, started: number): ArchiveReport {
    const ended = Date.now();
    report.endedAt = new Date(ended).toISOString();
    report.durationMs = ended - started;
    report.hotBytesAfter = hotBytesOnDisk(this.#config.hotPath);
    return report;
  }


  /** Inside every manifest-changing transaction: this run still holds the lease (renewed), or LeaseLostError. */
  #assertLease(): void {
    if (!this.#lease) throw new LeaseLostError('no archiver lease is held: nothing is committed outside a run');
    this.#lease.assertHeld();
  }

  /**
   * One table's chunks through the protocol: the partition scan, each chunk
   * read, staged and written to its temp file by the producer (ChunkProducer:
   * on this thread, or on a worker thread for a large table), verified and put
   * into the tree (writeChunk), committed (commitChunks) and drained (drainFile,
   * in the background: DrainQueue). The next chunk is asked for as soon as one
   * is read, so it is read while this one is compressed and the one before it
   * commits.
   */
  async #archiveTable(
    engine: DuckDbEngine,
    t: ResolvedTable,
    now: number,
    runId: number,
    runToken: string,
    report: TableReport,
    options: ArchiveRunOptions,
    pacer: DrainPacer,
    spillDir: string,
  ): Promise<void> {
    const s = readTableShape(this.#raw, t);
    assertKeysNotReusable(this.#raw, s);
    const unit = t.timeUnit;
    const boundaryMs = partitionBoundaryMs(t, now);
    const rowsTotal = this.#raw.prepare(`SELECT count(*) FROM ${s.from} WHERE ${s.time} < ?`).pluck().get(boundForColumn(boundaryMs, unit)) as number;
    if (rowsTotal === 0) return;
    const perRow = hotBytesPerRow(this.#raw, t.table);
    if (!timeColumnIndexed(this.#raw, t)) {
      this.#logger.warn(
        { table: t.table, column: t.timeColumn },
        `no index starts with ${t.table}.${t.timeColumn}: every partition is a full table scan; add one (CREATE INDEX ... ON ${t.table}(${t.timeColumn}))`,
      );
    }
    const pending = new Set(listFiles(this.#raw, t.table, ['pending']).map((f) => f.partition));
    const batchSize = t.batchSize ?? this.#config.archiveBatchSize;
    const partitionOf = new Map<number, string>();
    const drains = new DrainQueue(this.#ctx, pacer, (job, result) => {
      report.rowsMoved += result.deleted;
      report.bytesIn += Math.round(result.deleted * perRow);
      report.masked += result.masked;
      if (result.masked > 0) {
        report.abandoned++;
        this.#logger.warn({ table: t.table, file: job.path, rows: result.masked }, 'rows changed before they were drained: they stay hot (their file copies are masked) and move on a later run');
      }
      const partition = partitionOf.get(job.fileId) ?? '';
      partitionOf.delete(job.fileId);
      options.onProgress?.({ table: t.table, partition, rowsDone: report.rowsMoved, rowsTotal });
    });
    // A second connection of the engine's instance, one read at a time: a written file's read-back and a
    // drain's comparison rows, beside the next chunk's COPY on the engine's own connection.
    const side = new ConnectionLane(() => engine.instance.connect());
    const onWorker = rowsTotal >= this.#config.archiveThreadMinRows;
    if (onWorker) report.workerThread = true;
    const producer: ChunkProducer = onWorker
        ? await WorkerChunkProducer.start({
            hotPath: this.#raw.name,
            shape: s,
            zstdLevel: this.#config.archiveZstdLevel,
            engine: { memoryLimit: this.#config.duckdbMemoryLimit, threads: this.#config.archiveMaxWorkers, tempDirectory: workerSpillDir(spillDir) },
          })
        : new SameThreadChunkProducer(engine, this.#raw, s, this.#config.archiveZstdLevel);
    /** A whole chunk stays hot (a value of another storage class than its column). */
    const refuseChunk = (partition: string, reason: string): void => {
      report.refused.push({ partition, reason });
      this.#logger.warn({ table: t.table, partition, reason }, 'chunk not moved; its rows stay hot');
      options.onProgress?.({ table: t.table, partition, rowsDone: report.rowsMoved, rowsTotal });
    };
    const commitWritten = async (result: Settled<WrittenChunk> | undefined): Promise<void> => {
      if (!result) return;
      if (!result.ok) throw result.error;
      const w = result.value;
      const [fileId] = await commitChunks(this.#ctx, [w]);
      report.files++;
      report.bytesOut += w.manifestRow.bytes;
      if (w.grace) {
        report.pendingWritten++;
        options.onProgress?.({ table: t.table, partition: w.span.key, rowsDone: report.rowsMoved, rowsTotal });
      } else {
        partitionOf.set(fileId!, w.span.key);
        // The queued file holds its keys only; its rows come back from the file if a comparison is needed.
        const ref = { path: w.path, bytes: w.manifestRow.bytes, sha256: w.manifestRow.file_sha256 };
        const total = w.rowCount;
        const loadRows = async (): Promise<unknown[][]> => {
          const read = await this.#cold.openForRead([ref]);
          try {
            const rows = await side.run((con) => readParquetRowsOn(con, read.paths[0]!, s.names));
            if (rows.length !== total) throw new ColdFileError(this.#cold.describe(ref.path), `${this.#cold.describe(ref.path)} read back ${rows.length} rows, ${total} were written`);
            return rows;
          } finally {
            read.release();
          }
        };
        drains.push({ shape: s, fileId: fileId!, path: w.path, keys: w.keys, total, from: 0, dataVersion: w.dataVersion, loadRows });
      }
    };
    const settle = (p: Promise<WrittenChunk>): Promise<Settled<WrittenChunk>> =>
      p.then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      );
    // The partition scan: the next partition old enough to move, with rows, not waiting in a grace period.
    let after: ScanCursor | undefined;
    const nextSpan = async (): Promise<PartitionSpan | undefined> => {
      for (let step = nextPartition(this.#raw, s, after, boundaryMs); step; step = nextPartition(this.#raw, s, after, boundaryMs)) {
        after = step.next;
        if (options.signal?.aborted) return undefined;
        // Let signals and timers run between partitions, even when nothing is written.
        await yieldToEventLoop();
        drains.check();
        if ('unplaceable' in step) {
          refuseUnplaceable(this.#ctx, s, step.unplaceable, report);
          continue;
        }
        if (pending.has(step.span.key)) continue;
        report.partitions++;
        return step.span;
      }
      return undefined;
    };
    let seq = 0;
    /** Asks the producer for the chunk of `span` after `cursor`. */
    const ask = async (span: PartitionSpan, cursor: unknown[] | undefined): Promise<Asked> => {
      // Rows held for their drains stay bounded: one file draining, one committed waiting.
      await drains.waitBelow(2);
      const id = fileId(runId, ++seq, runToken);
      const tmp = tmpFilePath(this.#cold.stagingDir, t.table, id);
      // Taken before the chunk is read (on this connection or the worker's, which only reads): if no other
      // connection commits until a drain step, the rows are unchanged.
      const readAtVersion = dataVersion(this.#raw);
      const produced = producer.produce({ span, lo: boundForColumn(span.startMs, unit), hi: boundForColumn(span.endMs, unit), cursor, batchSize, tmp });
      return { span, id, tmp, readAtVersion, ...produced };
    };
    /** Written, being verified and put, waiting for its commit. */
    let inFlight: Promise<Settled<WrittenChunk>> | undefined;
    /** Asked for, not yet handed to writeChunk. */
    let ahead: Asked | undefined;
    let failed = true;
    try {
      const first = await nextSpan();
      ahead = first && (await ask(first, undefined));
      while (ahead) {
        const job = ahead;
        const staged = await job.staged;
        reportRowRefusals(this.#ctx, t.table, staged.refused, report);
        // The next chunk is asked for at once: it is read while this one is compressed.
        ahead = undefined;
        if (!options.signal?.aborted) {
          if (staged.read === batchSize) ahead = await ask(job.span, staged.cursor);
          else {
            const span = await nextSpan();
            ahead = span && (await ask(span, undefined));
          }
        }
        if (staged.refusal !== undefined) {
          refuseChunk(job.span.key, staged.refusal);
          continue;
        }
        if (!writesFile(staged)) continue;
        let previousCommitted!: () => void;
        // This file goes into the tree only after the previous one is committed (or failed: then this one is removed).
        const beforePut = new Promise<void>((resolve) => (previousCommitted = resolve));
        const previous = inFlight;
        inFlight = settle(
          writeChunk(this.#ctx, {
            shape: s,
            span: job.span,
            id: job.id,
            tmp: job.tmp,
            staged,
            written: job.written,
            runId,
            now,
            hotBytesPerRow: perRow,
            dataVersion: job.readAtVersion,
            sideLane: side,
            beforePut,
          }),
        );
        try {
          await commitWritten(previous ? await previous : undefined);
        } finally {
          previousCommitted();
        }
      }
      const last = inFlight;
      inFlight = undefined;
      await commitWritten(last ? await last : undefined);
      failed = false;
    } finally {
      // After an unexpected error: a chunk asked for and never handed on leaves no file (its temp file is
      // removed once written); a written chunk that was never committed is removed (its rows stay hot).
      const unasked = ahead as Asked | undefined;
      if (unasked) {
        await unasked.written.catch(() => undefined);
        rmSync(unasked.tmp, { force: true });
      }
      const left = inFlight as Promise<Settled<WrittenChunk>> | undefined;
      if (left) {
        const r = await left;
        // Best effort: the error under way goes out; recovery removes a file left behind (its name proves the run).
        if (r.ok) await discardUncommitted(this.#ctx, r.value.path);
      }
      // Committed files are drained to the end even when the run stops early (an abort, an error above):
      // their state is consistent at every step, and a failed drain is finished by the next run.
      try {
        await drains.finish().catch((error: unknown) => {
          if (!failed) throw error;
        });
      } finally {
        await side.close();
        await producer.close();
      }
    }
  }
}

/** The worker's DuckDB spills beside the archiver's, in the run's spill folder (removed with it). */
function workerSpillDir(spillDir: string): string {
  const dir = path.join(spillDir, 'worker');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A chunk asked of the producer: where it goes and when it was asked for. */
interface Asked extends ProducedChunk {
  span: PartitionSpan;
  id: string;
  tmp: string;
  /** `PRAGMA data_version` on the archiver's connection just before the producer was asked. */
  readAtVersion: number;
}
