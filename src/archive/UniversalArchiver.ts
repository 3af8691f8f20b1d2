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
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { TierConfig } from '../config.js';
import { absoluteColdPath, coldFilePath, fileId, partitionOf, runSpillDir, tmpFilePath, type PartitionSpan } from '../cold/coldLayout.js';
import { decideColdTypes, sqliteClassName, type ColdType } from '../cold/columnTypes.js';
import { DuckDbEngine, sqlIdent } from '../cold/DuckDbEngine.js';
import { durableRename, fsyncFile, mkdirDurable } from '../cold/fsyncFile.js';
import { fileSha256 } from '../cold/fileSha256.js';
import { keyChecksum, readBackKeys, readParquetRows, writeParquetChunk } from '../cold/ParquetChunkWriter.js';
import { ArgumentError, ColdFileError, RegistryError, LeaseHeldError, LeaseLostError, MixedTypeError, ReadOnlyStoreError, TierError } from '../errors.js';
import { compareSqlValues } from '../hot/compareSqlValues.js';
import { noopLogger, type Logger } from '../logger.js';
import { readColumns, type ColumnInfo, type ResolvedTable } from '../registry/resolveRegistry.js';
import type { ArchiveReport, ArchiveRunOptions, PartitionPlan, TableReport } from './ArchiveReport.js';
import { backupHotFile } from './backupHotFile.js';
import { failpoint } from './failpoint.js';
import { Lease, leaseHolder } from './lease.js';
import { bumpManifestVersion, insertManifestFile, listFiles, type ManifestFile, type NewManifestFile } from './manifest.js';
import { hotBytesOnDisk, reclaimSpace } from './reclaimSpace.js';
import { recover, type RecoveryReport } from './recovery.js';
import { boundForColumn, DAY_MS, isoDatePrefixMs, isCanonicalUtcIso, valueToMs } from './timeColumn.js';
import { ensureStoreMarker } from '../store/coldTreeIdentity.js';

/** Rows changed between read and commit: the chunk is dropped and retried next run. */
class ChunkChangedError extends TierError {
  constructor(message: string) {
    super('TIERDB_CHUNK_CHANGED', message);
  }
}

/** A chunk written, verified and renamed into the tree, waiting for its commit. */
interface WrittenChunk {
  s: TableShape;
  span: PartitionSpan;
  rows: unknown[][];
  keys: unknown[];
  abs: string;
  manifestRow: NewManifestFile;
  dataVersion: number;
  grace: boolean;
}

/** Where the partition scan goes on: after (or from) this time column value. */
interface ScanCursor {
  value: unknown;
  inclusive: boolean;
}

type NextPartition = { span: PartitionSpan; next: ScanCursor } | { unplaceable: unknown; next: ScanCursor };

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown; partition: string };

export interface UniversalArchiverDeps {
  raw: Database.Database;
  config: TierConfig;
  tables: readonly ResolvedTable[];
  /** The store id (`_tierdb_meta.store_id`); the cold folder is marked with it before the first write. */
  storeId?: string | undefined;
  /** A read-only store: only dry runs. */
  readonly?: boolean;
  logger?: Logger;
}

/** One table's columns, key and time positions as they are in SQLite now. */
interface TableShape {
  t: ResolvedTable;
  columns: ColumnInfo[];
  names: string[];
  keyIndex: number;
  timeIndex: number;
  selectList: string;
  key: string;
  time: string;
  from: string;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  return false;
}

/** Keys as a JSON array for `json_each` (64-bit integers stay exact). */
function keysJson(keys: readonly unknown[]): string {
  return `[${keys
    .map((k) => {
      if (typeof k === 'bigint') return k.toString();
      if (typeof k === 'string' || typeof k === 'number') return JSON.stringify(k);
      throw new ArgumentError(`key value ${String(k)} cannot be archived: keys must be INTEGER, REAL or TEXT`);
    })
    .join(',')}]`;
}

/** SQLite's key order: within a class as compareSqlValues (TEXT by UTF-8 bytes, not UTF-16); numbers before text before blobs. */
function compareKeys(a: unknown, b: unknown): number {
  const c = compareSqlValues(a, b);
  if (c !== undefined) return c;
  const rank = (v: unknown) => (typeof v === 'bigint' || typeof v === 'number' ? 0 : typeof v === 'string' ? 1 : 2);
  return rank(a) - rank(b);
}

function keyForManifest(k: unknown): unknown {
  return typeof k === 'bigint' && k >= BigInt(Number.MIN_SAFE_INTEGER) && k <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(k) : k;
}

/** Lets pending I/O callbacks (signals, lease heartbeats) run. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class UniversalArchiver {
  readonly #raw: Database.Database;
  readonly #config: TierConfig;
  readonly #tables: readonly ResolvedTable[];
  readonly #logger: Logger;
  readonly #storeId: string | undefined;
  readonly #readonly: boolean;
  /** The lease of the run in progress (every commit checks it). */
  #lease: Lease | undefined;
  /** The start of the run in progress on this instance, if any. */
  #runningSince: number | undefined;

  constructor(deps: UniversalArchiverDeps) {
    this.#raw = deps.raw;
    this.#config = deps.config;
    this.#tables = deps.tables;
    this.#logger = deps.logger ?? noopLogger;
    this.#storeId = deps.storeId;
    this.#readonly = deps.readonly ?? false;
  }

  /** Recovery at open: only under a lease this instance takes; skipped while anyone else holds it. */
  recoverIfIdle(): RecoveryReport | undefined {
    if (this.#readonly || this.#runningSince !== undefined || leaseHolder(this.#raw)) return undefined;
    let lease: Lease;
    try {
      lease = Lease.acquire(this.#raw);
    } catch (error) {
      if (error instanceof LeaseHeldError) return undefined;
      throw error;
    }
    try {
      return recover(this.#raw, this.#config.coldDir, lease);
    } finally {
      lease.release();
    }
  }

  /**
   * Moves every enabled table's old rows to cold storage.
   *
   * @example
   * const report = await store.archiver.run({ tables: ['task_queue'], now: new Date() });
   */
  async run(options: ArchiveRunOptions = {}): Promise<ArchiveReport> {
    const started = Date.now();
    const now = options.now === undefined ? started : typeof options.now === 'number' ? options.now : options.now.getTime();
    if (!Number.isFinite(now)) throw new ArgumentError(`now ${String(options.now)} is not a valid time`);
    const tables = this.#selectTables(options.tables);
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
    if (options.dryRun) {
      for (const t of tables) {
        if (options.signal?.aborted) {
          report.aborted = true;
          break;
        }
        report.tables.push(await this.#planTable(t, now, options.signal));
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
    let engine: DuckDbEngine | undefined;
    const runToken = randomBytes(4).toString('hex');
    const spillDir = runSpillDir(this.#config.coldDir, runToken);
    try {
      // The backup comes before this run is recorded: a restored backup then cannot claim this run's files.
      if (this.#config.archiveBackupEnabled) {
        report.backup = await backupHotFile(this.#raw, this.#config.dataDir, this.#config.archiveBackupKeep);
      }
      report.runId = Number(
        this.#raw
          .prepare(`INSERT INTO _tierdb_runs (started_at_ms, status, pid, dry_run, token) VALUES (?, 'running', ?, 0, ?)`)
          .run(started, process.pid, runToken).lastInsertRowid,
      );
      report.recovery = recover(this.#raw, this.#config.coldDir, lease, { currentRunId: report.runId });
      ensureStoreMarker(this.#config.coldDir, this.#storeId, this.#config.hotPath);
      mkdirSync(spillDir, { recursive: true });
      engine = await DuckDbEngine.create({
        memoryLimit: this.#config.duckdbMemoryLimit,
        threads: this.#config.archiveMaxWorkers,
        tempDirectory: spillDir,
      });
      for (const t of tables) {
        if (options.signal?.aborted) {
          report.aborted = true;
          break;
        }
        const tableReport = this.#emptyTableReport(t, now);
        report.tables.push(tableReport);
        const t0 = Date.now();
        try {
          await this.#commitDuePending(engine, t, now, tableReport);
          await this.#archiveTable(engine, t, now, report.runId, runToken, tableReport, options);
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
      if (report.tables.some((t) => t.rowsMoved > 0)) report.reclaim = reclaimSpace(this.#raw);
      this.#finish(report, started);
      const failed = report.tables.filter((t) => t.error !== undefined);
      this.#raw
        .prepare(`UPDATE _tierdb_runs SET ended_at_ms = ?, status = ?, report_json = ?, error = ? WHERE id = ?`)
        .run(
          Date.now(),
          report.aborted ? 'aborted' : failed.length > 0 ? 'failed' : 'ok',
          JSON.stringify(report),
          failed.length > 0 ? failed.map((t) => `${t.table}: ${t.error}`).join('; ') : null,
          report.runId,
        );
      return report;
    } catch (error) {
      if (report.runId !== null && this.#raw.open) {
        this.#raw
          .prepare(`UPDATE _tierdb_runs SET ended_at_ms = ?, status = 'failed', error = ? WHERE id = ?`)
          .run(Date.now(), error instanceof Error ? error.message : String(error), report.runId);
      }
      throw error;
    } finally {
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

  #selectTables(names: readonly string[] | undefined): ResolvedTable[] {
    if (names === undefined) return this.#tables.filter((t) => t.enabled);
    const registered = new Map(this.#tables.map((t) => [t.table, t]));
    return names.map((n) => {
      const t = registered.get(n);
      if (!t) throw new ArgumentError(`table ${JSON.stringify(n)} is not registered (registered: ${[...registered.keys()].join(', ')})`);
      return t;
    });
  }

  #emptyTableReport(t: ResolvedTable, now: number): TableReport {
    return {
      table: t.table,
      hotDays: t.hotDays,
      hotDaysFrom: t.hotDaysFrom,
      cutoff: new Date(this.#boundaryMs(t, now)).toISOString(),
      rowsMoved: 0,
      files: 0,
      partitions: 0,
      bytesIn: 0,
      bytesOut: 0,
      ratio: 0,
      durationMs: 0,
      pendingWritten: 0,
      pendingCommitted: 0,
      abandoned: 0,
      refused: [],
    };
  }

  /** Start of the partition holding `now − hotDays`: every partition before it is wholly old enough. */
  #boundaryMs(t: ResolvedTable, now: number): number {
    return partitionOf(now - t.hotDays * DAY_MS, t.partition).startMs;
  }

  #shape(t: ResolvedTable): TableShape {
    const columns = readColumns(this.#raw, t.table);
    if (!columns) throw new ArgumentError(`table ${t.table} no longer exists in the hot database`);
    const names = columns.map((c) => c.name);
    const keyIndex = names.indexOf(t.keyColumn);
    const timeIndex = names.indexOf(t.timeColumn);
    if (keyIndex < 0 || timeIndex < 0) throw new ArgumentError(`table ${t.table} lost its key or time column`);
    return {
      t,
      columns,
      names,
      keyIndex,
      timeIndex,
      selectList: names.map(sqlIdent).join(', '),
      key: sqlIdent(t.keyColumn),
      time: sqlIdent(t.timeColumn),
      from: sqlIdent(t.table),
    };
  }

  /**
   * The oldest partition with rows in [after, boundaryMs), or undefined. Each
   * step moves `after` strictly forward, so the scan always ends: a time value
   * that names no partition (not a time in the table's unit) is returned as
   * `unplaceable` and stepped over.
   */
  #nextPartition(s: TableShape, after: ScanCursor | undefined, boundaryMs: number): NextPartition | undefined {
    const unit = s.t.timeUnit;
    const lower = after === undefined ? '' : ` AND ${s.time} ${after.inclusive ? '>=' : '>'} ?`;
    const params = after === undefined ? [boundForColumn(boundaryMs, unit)] : [boundForColumn(boundaryMs, unit), after.value];
    const row = this.#raw
      .prepare(`SELECT ${s.time} AS t FROM ${s.from} WHERE ${s.time} < ?${lower} ORDER BY ${s.time} LIMIT 1`)
      .safeIntegers(true)
      .get(...params) as { t: unknown } | undefined;
    if (!row) return undefined;
    // ISO text is partitioned by its own date prefix, the order SQLite selects it in.
    const ms = unit === 'iso' ? (typeof row.t === 'string' ? isoDatePrefixMs(row.t) : NaN) : valueToMs(row.t, unit);
    if (Number.isNaN(ms)) return { unplaceable: row.t, next: { value: row.t, inclusive: false } };
    const span = partitionOf(ms, s.t.partition);
    return { span, next: { value: boundForColumn(span.endMs, unit), inclusive: true } };
  }

  /** Rows whose time value names no partition: they stay hot, and the report says so. */
  #refuseUnplaceable(s: TableShape, value: unknown, report: TableReport): void {
    const rows = this.#raw.prepare(`SELECT ${s.key} FROM ${s.from} WHERE ${s.time} = ? LIMIT 4`).pluck().safeIntegers(true).all(value) as unknown[];
    const reason =
      `${s.t.table}.${s.t.timeColumn} = ${JSON.stringify(String(value))} is not a ${s.t.timeUnit} time ` +
      `(${s.t.keyColumn} ${rows.slice(0, 3).map(String).join(', ')}${rows.length > 3 ? ', …' : ''}); those rows stay hot: fix the value or the registry's timeUnit`;
    report.refused.push({ partition: '?', reason });
    this.#logger.warn({ table: s.t.table, value: String(value) }, reason);
  }

  /**
   * Splits a chunk into rows that can move and rows that must stay hot: a NULL
   * or BLOB key, or a time that is not a canonical value of the table's unit
   * (ISO text with a non-UTC offset, say) refuses that row only.
   */
  #screenRows(s: TableShape, span: PartitionSpan, rows: unknown[][], report: TableReport): unknown[][] {
    const unit = s.t.timeUnit;
    const good: unknown[][] = [];
    const refused = new Map<string, unknown[]>();
    for (const row of rows) {
      const key = row[s.keyIndex];
      const time = row[s.timeIndex];
      let reason: string | undefined;
      if (key === null || key === undefined) reason = `${s.t.keyColumn} is NULL`;
      else if (typeof key !== 'bigint' && typeof key !== 'number' && typeof key !== 'string') reason = `${s.t.keyColumn} is a BLOB (keys must be INTEGER, REAL or TEXT)`;
      else if (unit === 'iso' ? !isCanonicalUtcIso(time) : Number.isNaN(valueToMs(time, unit))) {
        reason =
          unit === 'iso'
            ? `${s.t.timeColumn} is not UTC ISO-8601 text (a date, a time, then Z, +00:00 or nothing): rewrite it in UTC`
            : `${s.t.timeColumn} is not a ${unit} time`;
      }
      if (reason === undefined) good.push(row);
      else {
        const keys = refused.get(reason) ?? [];
        keys.push(key);
        refused.set(reason, keys);
      }
    }
    for (const [reason, keys] of refused) {
      const shown = keys.slice(0, 3).map((k) => (k === null ? 'NULL' : String(k)));
      const message = `${keys.length} row(s) of ${s.t.table} stay hot: ${reason} (${s.t.keyColumn} ${shown.join(', ')}${keys.length > 3 ? ', …' : ''})`;
      report.refused.push({ partition: span.key, reason: message });
      this.#logger.warn({ table: s.t.table, partition: span.key, rows: keys.length }, message);
    }
    return good;
  }

  /** Average SQLite bytes per row (table + indexes), from dbstat. */
  #hotBytesPerRow(table: string): number {
    try {
      const bytes = this.#raw
        .prepare(
          `SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = ? OR name IN (SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = ?)`,
        )
        .pluck()
        .get(table, table) as number;
      const rows = this.#raw.prepare(`SELECT count(*) FROM ${sqlIdent(table)}`).pluck().get() as number;
      return rows > 0 ? bytes / rows : 0;
    } catch {
      return 0;
    }
  }

  #timeColumnIndexed(t: ResolvedTable): boolean {
    const indexes = this.#raw.prepare(`SELECT name FROM pragma_index_list(?)`).pluck().all(t.table) as string[];
    return indexes.some(
      (index) => (this.#raw.prepare(`SELECT name FROM pragma_index_info(?) WHERE seqno = 0`).pluck().get(index) as string | undefined) === t.timeColumn,
    );
  }

  async #planTable(t: ResolvedTable, now: number, signal: AbortSignal | undefined): Promise<TableReport> {
    const report = this.#emptyTableReport(t, now);
    const s = this.#shape(t);
    try {
      this.#assertKeysNotReusable(s);
    } catch (error) {
      report.error = (error as Error).message;
      return report;
    }
    const boundaryMs = this.#boundaryMs(t, now);
    const perRow = this.#hotBytesPerRow(t.table);
    const plan: PartitionPlan[] = [];
    const count = this.#raw.prepare(`SELECT count(*) FROM ${s.from} WHERE ${s.time} >= ? AND ${s.time} < ?`).pluck();
    let after: ScanCursor | undefined;
    for (let step = this.#nextPartition(s, after, boundaryMs); step; step = this.#nextPartition(s, after, boundaryMs)) {
      after = step.next;
      if (signal?.aborted) break;
      await yieldToEventLoop();
      if ('unplaceable' in step) {
        this.#refuseUnplaceable(s, step.unplaceable, report);
        continue;
      }
      const { span } = step;
      const rows = count.get(boundForColumn(span.startMs, t.timeUnit), boundForColumn(span.endMs, t.timeUnit)) as number;
      plan.push({ partition: span.key, rows, estimatedBytes: Math.round(rows * perRow) });
    }
    report.plan = plan;
    report.partitions = plan.length;
    report.bytesIn = plan.reduce((a, p) => a + p.estimatedBytes, 0);
    return report;
  }

  /**
   * An INTEGER PRIMARY KEY without AUTOINCREMENT is a rowid: SQLite gives a new
   * row max(rowid)+1, so once the newest rows are cold (or the app deletes
   * them) it hands an archived key out again. Such a table tiers only when the
   * registry says the app assigns every key itself.
   */
  #assertKeysNotReusable(s: TableShape): void {
    if (s.t.appAssignsKeys) return;
    const keyCol = s.columns[s.keyIndex]!;
    if (keyCol.declaredType.toUpperCase() !== 'INTEGER' || keyCol.pk !== 1 || s.columns.filter((c) => c.pk > 0).length !== 1) return;
    const ddl = (this.#raw.prepare(`SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?`).pluck().get(s.t.table) as string | undefined) ?? '';
    if (/AUTOINCREMENT/i.test(ddl) || /WITHOUT\s+ROWID/i.test(ddl)) return;
    throw new RegistryError(
      `${s.t.table}.${s.t.keyColumn} is an INTEGER PRIMARY KEY without AUTOINCREMENT: SQLite would hand an archived ${s.t.keyColumn} ` +
        `out again to a new row, and the bridge would then show one row for two. Nothing of ${s.t.table} moves. ` +
        `If the app sets every ${s.t.keyColumn} itself, add \`appAssignsKeys: true\` to its registry entry; ` +
        `otherwise declare the key INTEGER PRIMARY KEY AUTOINCREMENT (a table rebuild)`,
    );
  }

  async #archiveTable(
    engine: DuckDbEngine,
    t: ResolvedTable,
    now: number,
    runId: number,
    runToken: string,
    report: TableReport,
    options: ArchiveRunOptions,
  ): Promise<void> {
    const s = this.#shape(t);
    this.#assertKeysNotReusable(s);
    const unit = t.timeUnit;
    const boundaryMs = this.#boundaryMs(t, now);
    const rowsTotal = this.#raw.prepare(`SELECT count(*) FROM ${s.from} WHERE ${s.time} < ?`).pluck().get(boundForColumn(boundaryMs, unit)) as number;
    if (rowsTotal === 0) return;
    const perRow = this.#hotBytesPerRow(t.table);
    if (!this.#timeColumnIndexed(t)) {
      this.#logger.warn(
        { table: t.table, column: t.timeColumn },
        `no index starts with ${t.table}.${t.timeColumn}: every partition is a full table scan; add one (CREATE INDEX ... ON ${t.table}(${t.timeColumn}))`,
      );
    }
    const pending = new Set(listFiles(this.#raw, t.table, ['pending']).map((f) => f.partition));
    const first = this.#raw
      .prepare(`SELECT ${s.selectList} FROM ${s.from} WHERE ${s.time} >= ? AND ${s.time} < ? ORDER BY ${s.time}, ${s.key} LIMIT ?`)
      .raw(true)
      .safeIntegers(true);
    const next = this.#raw
      .prepare(
        `SELECT ${s.selectList} FROM ${s.from} WHERE ${s.time} >= ? AND ${s.time} < ? AND (${s.time}, ${s.key}) > (?, ?) ORDER BY ${s.time}, ${s.key} LIMIT ?`,
      )
      .raw(true)
      .safeIntegers(true);
    const batchSize = t.batchSize ?? this.#config.archiveBatchSize;
    let seq = 0;
    let inFlight: Promise<Settled<WrittenChunk>> | undefined;
    const commitWritten = (result: Settled<WrittenChunk> | undefined): void => {
      if (!result) return;
      const rowsIn = result.ok ? result.value.rows.length : 0;
      try {
        if (!result.ok) throw result.error;
        this.#commitChunk(result.value);
        report.files++;
        report.bytesOut += result.value.manifestRow.bytes;
        if (result.value.grace) report.pendingWritten++;
        else {
          report.rowsMoved += rowsIn;
          report.bytesIn += Math.round(rowsIn * perRow);
        }
      } catch (error) {
        const partition = result.ok ? result.value.span.key : result.partition;
        if (error instanceof MixedTypeError) report.refused.push({ partition, reason: error.message });
        else if (error instanceof ChunkChangedError) report.abandoned++;
        else throw error;
        this.#logger.warn({ table: t.table, partition, reason: (error as Error).message }, 'chunk not moved; its rows stay hot');
      }
      options.onProgress?.({ table: t.table, partition: result.ok ? result.value.span.key : result.partition, rowsDone: report.rowsMoved, rowsTotal });
    };
    const settle = (p: Promise<WrittenChunk>, partition: string): Promise<Settled<WrittenChunk>> =>
      p.then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error, partition }),
      );
    try {
      let after: ScanCursor | undefined;
      partitions: for (let step = this.#nextPartition(s, after, boundaryMs); step; step = this.#nextPartition(s, after, boundaryMs)) {
        after = step.next;
        if (options.signal?.aborted) break;
        // Let signals and timers run between partitions, even when nothing is written.
        await yieldToEventLoop();
        if ('unplaceable' in step) {
          this.#refuseUnplaceable(s, step.unplaceable, report);
          continue;
        }
        const { span } = step;
        if (pending.has(span.key)) continue;
        report.partitions++;
        const lo = boundForColumn(span.startMs, unit);
        const hi = boundForColumn(span.endMs, unit);
        let cursor: unknown[] | undefined;
        for (;;) {
          if (options.signal?.aborted) break partitions;
          // Read before the chunk: if no other connection commits until our commit, the rows are unchanged.
          const dataVersion = this.#dataVersion();
          const read = (cursor === undefined ? first.all(lo, hi, batchSize) : next.all(lo, hi, cursor[0], cursor[1], batchSize)) as unknown[][];
          if (read.length === 0) break;
          const last = read[read.length - 1]!;
          cursor = [last[s.timeIndex], last[s.keyIndex]];
          const rows = this.#screenRows(s, span, read, report);
          if (rows.length === 0) {
            if (read.length < batchSize) break;
            continue;
          }
          const id = fileId(runId, ++seq, runToken);
          // Pipeline, one DuckDB write at a time: this chunk was read while the previous one was
          // being compressed; it is compressed while the previous one commits.
          const previous = inFlight ? await inFlight : undefined;
          let copyStarted!: () => void;
          const started = new Promise<void>((resolve) => (copyStarted = resolve));
          inFlight = settle(this.#writeChunk(engine, s, span, id, rows, runId, now, perRow, dataVersion, copyStarted), span.key);
          // Commit the previous chunk (and read the next) while DuckDB compresses this one.
          await Promise.race([started, inFlight]);
          commitWritten(previous);
          if (read.length < batchSize) break;
        }
      }
      const lastWritten = inFlight ? await inFlight : undefined;
      inFlight = undefined;
      commitWritten(lastWritten);
    } finally {
      // After an unexpected error: a written chunk that was never committed is removed (its rows stay hot).
      const left = inFlight as Promise<Settled<WrittenChunk>> | undefined;
      if (left) {
        const r = await left;
        if (r.ok) rmSync(r.value.abs, { force: true });
      }
    }
  }

  #mixedTypeMessage(s: TableShape, rows: readonly unknown[][]): { types: ColdType[] } {
    const decided = decideColdTypes(s.columns, rows);
    if (decided.mismatch) {
      const m = decided.mismatch;
      const key = rows[m.rowIndex]![s.keyIndex];
      const shown = typeof m.value === 'string' ? JSON.stringify(m.value.slice(0, 40)) : Buffer.isBuffer(m.value) ? `a ${m.value.length}-byte BLOB` : String(m.value);
      throw new MixedTypeError(
        `${s.t.table}.${m.column} holds ${sqliteClassName(m.found)} value ${shown} at ${s.t.keyColumn}=${String(key)}, ` +
          `but the column holds ${sqliteClassName(m.expected)}; its chunk stays hot. Fix the value ` +
          `(e.g. UPDATE ${s.t.table} SET ${m.column} = CAST(${m.column} AS ${sqliteClassName(m.expected)}) WHERE ${s.t.keyColumn} = ${String(key)}) ` +
          `or declare the column with the type it really holds`,
      );
    }
    return { types: decided.types };
  }

  /**
   * Steps 1–3 of the protocol for one chunk: temp file, fsync, verify, rename
   * into the tree. The file is not visible until #commitChunk; on any failure
   * here it is removed again.
   */
  async #writeChunk(
    engine: DuckDbEngine,
    s: TableShape,
    span: PartitionSpan,
    id: string,
    rows: unknown[][],
    runId: number,
    now: number,
    hotBytesPerRow: number,
    dataVersion: number,
    onCopyStart?: () => void,
  ): Promise<WrittenChunk> {
    const { t } = s;
    const { types } = this.#mixedTypeMessage(s, rows);
    const coldDir = this.#config.coldDir;
    const tmp = tmpFilePath(coldDir, t.table, id);
    const rel = coldFilePath(t.table, span, id);
    const abs = absoluteColdPath(coldDir, rel);
    const keys = rows.map((r) => r[s.keyIndex]);
    const checksum = keyChecksum(keys);
    let minKey = keys[0];
    let maxKey = keys[0];
    let minTime = Infinity;
    let maxTime = -Infinity;
    for (let i = 0; i < rows.length; i++) {
      const k = keys[i];
      if (compareKeys(k, minKey) < 0) minKey = k;
      if (compareKeys(k, maxKey) > 0) maxKey = k;
      const ms = valueToMs(rows[i]![s.timeIndex], t.timeUnit);
      if (ms < minTime) minTime = ms;
      if (ms > maxTime) maxTime = ms;
    }
    const schema = s.names.map((name, i) => ({ name, type: types[i]! }));
    const metadata = {
      'tierdb.table': t.table,
      'tierdb.partition': span.key,
      'tierdb.rows': String(rows.length),
      'tierdb.key_column': t.keyColumn,
      'tierdb.min_key': String(minKey),
      'tierdb.max_key': String(maxKey),
      'tierdb.time_column': t.timeColumn,
      'tierdb.time_unit': t.timeUnit,
      'tierdb.min_time_ms': String(minTime),
      'tierdb.max_time_ms': String(maxTime),
      'tierdb.key_checksum': checksum,
      'tierdb.schema': JSON.stringify(schema),
    };
    let renamed = false;
    let written = false;
    try {
      await writeParquetChunk(engine, tmp, { columns: s.names, types, rows, zstdLevel: this.#config.archiveZstdLevel, metadata }, onCopyStart);
      fsyncFile(tmp);
      failpoint('after-write');
      const back = await readBackKeys(engine, tmp, t.keyColumn);
      if (back.rows !== rows.length || back.checksum !== checksum) {
        throw new ColdFileError(tmp, `verification failed for ${tmp}: read back ${back.rows} rows (expected ${rows.length}) or a different key checksum`);
      }
      const wholeFileSha = await fileSha256(tmp);
      failpoint('after-verify');
      mkdirDurable(path.dirname(abs));
      durableRename(tmp, abs);
      renamed = true;
      failpoint('after-rename');
      const bytes = statSync(abs).size;
      const grace = this.#config.archiveGraceHours > 0;
      const manifestRow = {
        table_name: t.table,
        path: rel,
        partition: span.key,
        rows: rows.length,
        min_time_ms: minTime,
        max_time_ms: maxTime,
        min_key: keyForManifest(minKey),
        max_key: keyForManifest(maxKey),
        bytes,
        hot_bytes: Math.round(rows.length * hotBytesPerRow),
        checksum,
        file_sha256: wholeFileSha,
        schema_json: JSON.stringify(schema),
        state: grace ? ('pending' as const) : ('live' as const),
        run_id: runId,
        created_at_ms: now,
        visible_after_ms: grace ? now + this.#config.archiveGraceHours * 3_600_000 : null,
      };
      written = true;
      return { s, span, rows, keys, abs, manifestRow, dataVersion, grace };
    } finally {
      if (!written) {
        rmSync(tmp, { force: true });
        if (renamed) rmSync(abs, { force: true });
      }
    }
  }

  /** Step 4, the commit point: rows unchanged, manifest row in, rows out — one transaction. */
  #commitChunk(w: WrittenChunk): void {
    let committed = false;
    try {
      this.#raw
        .transaction(() => {
          this.#assertLease();
          if (!w.grace) this.#deleteUnchanged(w.s, w.rows, w.keys, w.dataVersion);
          insertManifestFile(this.#raw, w.manifestRow);
          failpoint('inside-commit');
        })
        .immediate();
      committed = true;
      failpoint('after-commit');
    } finally {
      if (!committed) rmSync(w.abs, { force: true });
    }
  }

  /** Inside every manifest-changing transaction: this run still holds the lease (renewed), or LeaseLostError. */
  #assertLease(): void {
    if (!this.#lease) throw new LeaseLostError('no archiver lease is held: nothing is committed outside a run');
    this.#lease.assertHeld();
  }

  /** `PRAGMA data_version`: changes when another connection commits. */
  #dataVersion(): number {
    return this.#raw.pragma('data_version', { simple: true }) as number;
  }

  /**
   * Inside the commit transaction: the rows must be exactly as read, then they go.
   * When no other connection has committed since `readAtVersion` (taken before
   * the rows were read), they cannot have changed and the re-read is skipped.
   */
  #deleteUnchanged(s: TableShape, expected: readonly unknown[][], keys: readonly unknown[], readAtVersion?: number): void {
    const json = keysJson(keys);
    if (readAtVersion === undefined || this.#dataVersion() !== readAtVersion) this.#expectRows(s, expected, json);
    const deleted = this.#raw.prepare(`DELETE FROM ${s.from} WHERE ${s.key} IN (SELECT value FROM json_each(?))`).run(json).changes;
    if (deleted !== expected.length) throw new ChunkChangedError(`${s.t.table}: deleted ${deleted} rows, expected ${expected.length}`);
  }

  /** The rows with these keys, in (time, key) order, equal `expected` value for value. */
  #expectRows(s: TableShape, expected: readonly unknown[][], json: string): void {
    const current = this.#raw
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

  /** Grace files whose time has come: re-verify against the rows still hot, then commit (or drop). */
  async #commitDuePending(engine: DuckDbEngine, t: ResolvedTable, now: number, report: TableReport): Promise<void> {
    const due = listFiles(this.#raw, t.table, ['pending']).filter((f) => (f.visible_after_ms ?? 0) <= now);
    if (due.length === 0) return;
    const s = this.#shape(t);
    for (const f of due) {
      const abs = absoluteColdPath(this.#config.coldDir, f.path);
      const fileColumns = (JSON.parse(f.schema_json) as { name: string }[]).map((c) => c.name);
      let keep = fileColumns.length === s.names.length && fileColumns.every((n, i) => n === s.names[i]);
      let fileRows: unknown[][] = [];
      if (keep) {
        fileRows = await readParquetRows(engine, abs, s.names);
        const keys = fileRows.map((r) => r[s.keyIndex]);
        keep = fileRows.length === f.rows && keyChecksum(keys) === f.checksum;
        if (!keep) this.#logger.warn({ file: f.path }, 'pending file does not match its manifest row; dropping it');
      }
      if (keep) {
        try {
          this.#raw
            .transaction(() => {
              this.#assertLease();
              this.#deleteUnchanged(s, fileRows, fileRows.map((r) => r[s.keyIndex]));
              this.#raw.prepare(`UPDATE _tierdb_files SET state = 'live' WHERE id = ?`).run(f.id);
              bumpManifestVersion(this.#raw);
              failpoint('inside-commit');
            })
            .immediate();
          report.pendingCommitted++;
          report.rowsMoved += f.rows;
          continue;
        } catch (error) {
          if (!(error instanceof ChunkChangedError)) throw error;
          report.abandoned++;
        }
      }
      this.#dropPending(f);
    }
  }

  #dropPending(f: ManifestFile): void {
    this.#raw.transaction(() => {
      this.#assertLease();
      this.#raw.prepare('DELETE FROM _tierdb_files WHERE id = ?').run(f.id);
      bumpManifestVersion(this.#raw);
    })();
    rmSync(absoluteColdPath(this.#config.coldDir, f.path), { force: true });
  }
}
