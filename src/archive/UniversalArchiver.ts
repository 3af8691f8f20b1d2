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
import { mkdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { TierConfig } from '../config.js';
import { absoluteColdPath, coldFilePath, partitionOf, tmpFilePath, TMP_DIR, type PartitionSpan } from '../cold/coldLayout.js';
import { decideColdTypes, sqliteClassName, type ColdType } from '../cold/columnTypes.js';
import { DuckDbEngine, sqlIdent } from '../cold/DuckDbEngine.js';
import { durableRename, fsyncFile, mkdirDurable } from '../cold/fsyncFile.js';
import { fileSha256 } from '../cold/fileSha256.js';
import { keyChecksum, readBackKeys, readParquetRows, writeParquetChunk } from '../cold/ParquetChunkWriter.js';
import { ArgumentError, ColdFileError, MixedTypeError, TierError } from '../errors.js';
import { compareSqlValues } from '../hot/compareSqlValues.js';
import { noopLogger, type Logger } from '../logger.js';
import { readColumns, type ColumnInfo, type ResolvedTable } from '../registry/resolveRegistry.js';
import type { ArchiveReport, ArchiveRunOptions, PartitionPlan, TableReport } from './ArchiveReport.js';
import { backupHotFile } from './backupHotFile.js';
import { failpoint } from './failpoint.js';
import { acquireLease, leaseHolder } from './lease.js';
import { bumpManifestVersion, insertManifestFile, listFiles, type ManifestFile, type NewManifestFile } from './manifest.js';
import { hotBytesOnDisk, reclaimSpace } from './reclaimSpace.js';
import { recover, type RecoveryReport } from './recovery.js';
import { boundForColumn, DAY_MS, valueToMs } from './timeColumn.js';

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

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown; partition: string };

export interface UniversalArchiverDeps {
  raw: Database.Database;
  config: TierConfig;
  tables: readonly ResolvedTable[];
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

export class UniversalArchiver {
  readonly #raw: Database.Database;
  readonly #config: TierConfig;
  readonly #tables: readonly ResolvedTable[];
  readonly #logger: Logger;

  constructor(deps: UniversalArchiverDeps) {
    this.#raw = deps.raw;
    this.#config = deps.config;
    this.#tables = deps.tables;
    this.#logger = deps.logger ?? noopLogger;
  }

  /** Recovery at open: only when no other live archiver holds the lease. */
  recoverIfIdle(): RecoveryReport | undefined {
    if (leaseHolder(this.#raw)) return undefined;
    let lease;
    try {
      lease = acquireLease(this.#raw);
    } catch {
      return undefined;
    }
    try {
      return recover(this.#raw, this.#config.coldDir);
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
      for (const t of tables) report.tables.push(this.#planTable(t, now));
      return this.#finish(report, started);
    }
    const lease = acquireLease(this.#raw);
    let engine: DuckDbEngine | undefined;
    try {
      report.recovery = recover(this.#raw, this.#config.coldDir);
      if (this.#config.archiveBackupEnabled) {
        report.backup = await backupHotFile(this.#raw, this.#config.dataDir, this.#config.archiveBackupKeep);
      }
      report.runId = Number(
        this.#raw
          .prepare(`INSERT INTO _tierdb_runs (started_at_ms, status, pid, dry_run) VALUES (?, 'running', ?, 0)`)
          .run(started, process.pid).lastInsertRowid,
      );
      mkdirSync(path.join(this.#config.coldDir, TMP_DIR), { recursive: true });
      engine = await DuckDbEngine.create({
        memoryLimit: this.#config.duckdbMemoryLimit,
        threads: this.#config.archiveMaxWorkers,
        tempDirectory: path.join(this.#config.coldDir, TMP_DIR),
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
          await this.#archiveTable(engine, t, now, report.runId, tableReport, options);
        } catch (error) {
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
      lease.release();
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

  /** The oldest partition with rows in [lowerMs, boundaryMs), or undefined. */
  #nextPartition(s: TableShape, lowerMs: number | undefined, boundaryMs: number): PartitionSpan | undefined {
    const unit = s.t.timeUnit;
    const lower = lowerMs === undefined ? '' : ` AND ${s.time} >= ?`;
    const params = lowerMs === undefined ? [boundForColumn(boundaryMs, unit)] : [boundForColumn(boundaryMs, unit), boundForColumn(lowerMs, unit)];
    const row = this.#raw
      .prepare(`SELECT ${s.time} AS t FROM ${s.from} WHERE ${s.time} < ?${lower} ORDER BY ${s.time} LIMIT 1`)
      .safeIntegers(true)
      .get(...params) as { t: unknown } | undefined;
    if (!row) return undefined;
    const ms = valueToMs(row.t, unit);
    if (Number.isNaN(ms)) {
      throw new MixedTypeError(
        `${s.t.table}.${s.t.timeColumn} holds ${JSON.stringify(String(row.t))}, which is not a ${unit} time; fix the row or the registry's timeUnit`,
      );
    }
    return partitionOf(ms, s.t.partition);
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

  /** The max key when the key is a rowid alias without AUTOINCREMENT (SQLite may hand it out again). */
  #reusableRowidMax(s: TableShape): unknown {
    const keyCol = s.columns[s.keyIndex]!;
    if (keyCol.declaredType.toUpperCase() !== 'INTEGER' || keyCol.pk !== 1 || s.columns.filter((c) => c.pk > 0).length !== 1) return undefined;
    const ddl = (this.#raw.prepare(`SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?`).pluck().get(s.t.table) as string | undefined) ?? '';
    if (/AUTOINCREMENT/i.test(ddl) || /WITHOUT\s+ROWID/i.test(ddl)) return undefined;
    return this.#raw.prepare(`SELECT max(${s.key}) FROM ${s.from}`).pluck().safeIntegers(true).get();
  }

  #timeColumnIndexed(t: ResolvedTable): boolean {
    const indexes = this.#raw.prepare(`SELECT name FROM pragma_index_list(?)`).pluck().all(t.table) as string[];
    return indexes.some(
      (index) => (this.#raw.prepare(`SELECT name FROM pragma_index_info(?) WHERE seqno = 0`).pluck().get(index) as string | undefined) === t.timeColumn,
    );
  }

  #planTable(t: ResolvedTable, now: number): TableReport {
    const report = this.#emptyTableReport(t, now);
    const s = this.#shape(t);
    const boundaryMs = this.#boundaryMs(t, now);
    const perRow = this.#hotBytesPerRow(t.table);
    const plan: PartitionPlan[] = [];
    const count = this.#raw.prepare(`SELECT count(*) FROM ${s.from} WHERE ${s.time} >= ? AND ${s.time} < ?`).pluck();
    let lower: number | undefined;
    for (let span = this.#nextPartition(s, lower, boundaryMs); span; span = this.#nextPartition(s, lower, boundaryMs)) {
      const rows = count.get(boundForColumn(span.startMs, t.timeUnit), boundForColumn(span.endMs, t.timeUnit)) as number;
      plan.push({ partition: span.key, rows, estimatedBytes: Math.round(rows * perRow) });
      lower = span.endMs;
    }
    report.plan = plan;
    report.partitions = plan.length;
    report.bytesIn = plan.reduce((a, p) => a + p.estimatedBytes, 0);
    return report;
  }

  async #archiveTable(engine: DuckDbEngine, t: ResolvedTable, now: number, runId: number, report: TableReport, options: ArchiveRunOptions): Promise<void> {
    const s = this.#shape(t);
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
    // Without AUTOINCREMENT SQLite gives a new row max(rowid)+1: moving the newest key would let
    // the next insert reuse a key that is already cold. That one row stays hot.
    const guardKey = this.#reusableRowidMax(s);
    const guard = guardKey === undefined ? '' : ` AND ${s.key} <> ?`;
    const guardParams = guardKey === undefined ? [] : [guardKey];
    const first = this.#raw
      .prepare(`SELECT ${s.selectList} FROM ${s.from} WHERE ${s.time} >= ? AND ${s.time} < ?${guard} ORDER BY ${s.time}, ${s.key} LIMIT ?`)
      .raw(true)
      .safeIntegers(true);
    const next = this.#raw
      .prepare(
        `SELECT ${s.selectList} FROM ${s.from} WHERE ${s.time} >= ? AND ${s.time} < ?${guard} AND (${s.time}, ${s.key}) > (?, ?) ORDER BY ${s.time}, ${s.key} LIMIT ?`,
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
      let lower: number | undefined;
      partitions: for (let span = this.#nextPartition(s, lower, boundaryMs); span; span = this.#nextPartition(s, lower, boundaryMs)) {
        lower = span.endMs;
        if (pending.has(span.key)) continue;
        report.partitions++;
        const lo = boundForColumn(span.startMs, unit);
        const hi = boundForColumn(span.endMs, unit);
        let cursor: unknown[] | undefined;
        for (;;) {
          if (options.signal?.aborted) break partitions;
          // Read before the chunk: if no other connection commits until our commit, the rows are unchanged.
          const dataVersion = this.#dataVersion();
          const rows = (
            cursor === undefined
              ? first.all(lo, hi, ...guardParams, batchSize)
              : next.all(lo, hi, ...guardParams, cursor[0], cursor[1], batchSize)
          ) as unknown[][];
          if (rows.length === 0) break;
          const last = rows[rows.length - 1]!;
          cursor = [last[s.timeIndex], last[s.keyIndex]];
          const id = `${runId}-${++seq}`;
          // Pipeline, one DuckDB write at a time: this chunk was read while the previous one was
          // being compressed; it is compressed while the previous one commits.
          const previous = inFlight ? await inFlight : undefined;
          let copyStarted!: () => void;
          const started = new Promise<void>((resolve) => (copyStarted = resolve));
          inFlight = settle(this.#writeChunk(engine, s, span, id, rows, runId, now, perRow, dataVersion, copyStarted), span.key);
          // Commit the previous chunk (and read the next) while DuckDB compresses this one.
          await Promise.race([started, inFlight]);
          commitWritten(previous);
          if (rows.length < batchSize) break;
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
      this.#raw.prepare('DELETE FROM _tierdb_files WHERE id = ?').run(f.id);
      bumpManifestVersion(this.#raw);
    })();
    rmSync(absoluteColdPath(this.#config.coldDir, f.path), { force: true });
  }
}
