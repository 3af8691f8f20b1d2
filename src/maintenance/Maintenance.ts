/**
 * `store.maintenance`: the jobs that keep the cold tier in shape after rows
 * moved — compaction, retention, restore. Each is one run under the archiver
 * lease (maintenanceRun.ts), built from the same two steps: rewriteFiles
 * (write beside the live files, verify by reading back) and commitSwap (one
 * SQLite transaction retires inputs and lists outputs). And `rebuildManifest`,
 * the manifest made again from the tree (rebuildManifest.ts: its own frame —
 * no recovery first, one commit that also ends its run).
 */
import { ArgumentError, IcebergPublishError, LeaseHeldError, ReadOnlyStoreError } from '../errors.js';
import type { RunNotifier } from '../notify/RunNotifier.js';
import { summarizeMaintenanceReport, type MaintenanceRunReport } from '../notify/summarizeMaintenanceReport.js';
import { loadConfig, parseByteSize, readEnv } from '../config.js';
import { createColdStore } from '../cold/createColdStore.js';
import { readStoreId } from '../manifest/storeId.js';
import { migrateColdTree, type MigrateColdReport } from './migrateColdTree.js';
import type { ResolvedTable } from '../registry/resolveRegistry.js';
import { selectTables } from '../registry/selectTables.js';
import { valueToMs } from '../registry/timeUnit.js';
import { applyRetentionTable, type RetentionTableReport } from './applyRetentionTable.js';
import { compactTable, type CompactTableReport } from './compactTable.js';
import { createMaintenanceEngine, withMaintenanceRun, type MaintenanceDeps } from './maintenanceRun.js';
import { rebuildManifest } from './rebuildManifest.js';
import type { RebuildManifestOptions, RebuildReport } from './RebuildReport.js';
import { restoreRange, type RestoreReport } from './restoreRange.js';
import { eraseRows, finishErasures, type EraseOptions, type EraseReceipt } from '../change/eraseRows.js';
import { assertWhere } from '../change/changeRows.js';
import { publishIcebergTables, type PublishIcebergOptions } from '../iceberg/publishIcebergTables.js';
import type { IcebergPublishReport } from '../iceberg/IcebergPublishReport.js';
import { isIcebergPublished } from '../manifest/icebergState.js';
import type { MaintenanceRun } from './maintenanceRun.js';

export type { IcebergPublishReport, IcebergTableReport } from '../iceberg/IcebergPublishReport.js';
export type { PublishIcebergOptions } from '../iceberg/publishIcebergTables.js';

export type { CompactTableReport, CompactGroupReport } from './compactTable.js';
export type { RetentionTableReport } from './applyRetentionTable.js';
export type { RestoreReport } from './restoreRange.js';

export interface CompactOptions {
  /** Registered tables to compact (default: every enabled table). */
  tables?: readonly string[];
  /** Bytes, or a size such as `128MB` (default COMPACT_TARGET_SIZE). */
  targetSize?: number | string;
  /** Small files a table needs before it is compacted (default COMPACT_MIN_FILES). */
  minFiles?: number;
  dryRun?: boolean;
  signal?: AbortSignal;
}

export interface CompactReport {
  kind: 'compact';
  runId: number | null;
  dryRun: boolean;
  targetBytes: number;
  startedAt: string;
  durationMs: number;
  tables: CompactTableReport[];
  /** ICEBERG_PUBLISH: the publish that followed, in the same run. */
  iceberg?: IcebergPublishReport;
}

export interface RetentionOptions {
  tables?: readonly string[];
  /** The clock (default: now). */
  now?: Date | number;
  dryRun?: boolean;
}

export interface RetentionReport {
  kind: 'retention';
  runId: number | null;
  dryRun: boolean;
  startedAt: string;
  durationMs: number;
  /** Only tables with a coldDays. */
  tables: RetentionTableReport[];
  /** ICEBERG_PUBLISH: the publish that followed, in the same run. */
  iceberg?: IcebergPublishReport;
}

export interface RestoreOptions {
  table: string;
  /** Inclusive start: a Date, unix ms, or ISO text (UTC unless it names an offset). */
  since: Date | number | string;
  /** Exclusive end. */
  until: Date | number | string;
  dryRun?: boolean;
  now?: Date | number;
}

export interface MigrateColdCall {
  /** The new tree: `s3://bucket/prefix`. */
  to: string;
  /** Where the AWS settings are read (default: process.env over `.env`). */
  env?: Record<string, string | undefined>;
  onProgress?: (done: number, total: number) => void;
}

export type { MigrateColdReport } from './migrateColdTree.js';

export interface MaintenanceReport {
  retention: RetentionReport;
  compact: CompactReport;
}

/** A time as unix ms: a Date, unix ms, or ISO-8601 text (UTC unless it names an offset, as everywhere in tierdb). */
function toMs(value: Date | number | string, what: string): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : typeof value === 'string' ? valueToMs(value.trim(), 'iso') : NaN;
  if (!Number.isFinite(ms)) throw new ArgumentError(`${what} ${JSON.stringify(value)} is not a time: give an ISO date such as 2026-01-31 or 2026-01-31T12:00:00Z, a Date, or unix ms`);
  return ms;
}

export interface MaintenanceOptions extends MaintenanceDeps {
  tables: readonly ResolvedTable[];
  readonly: boolean;
  /** Hears the end of every run that changed something (not dry runs): the webhook, serve's metrics. */
  notifier?: RunNotifier;
}

export class Maintenance {
  readonly #deps: MaintenanceDeps;
  readonly #tables: readonly ResolvedTable[];
  readonly #readonly: boolean;
  readonly #notifier: RunNotifier | undefined;

  constructor(options: MaintenanceOptions) {
    const { tables, readonly, notifier, ...deps } = options;
    this.#deps = { ...deps, tables };
    this.#tables = tables;
    this.#readonly = readonly;
    this.#notifier = notifier;
  }

  /** Runs a job that changes the cold tier and notifies its end, ok or failed (a run refused because the lease is held notifies nothing). */
  async #notified<R extends MaintenanceRunReport['report']>(kind: MaintenanceRunReport['kind'], job: () => Promise<R>): Promise<R> {
    const startedMs = Date.now();
    const hotPath = this.#deps.config.hotPath;
    let report: R;
    try {
      report = await job();
    } catch (error) {
      if (!(error instanceof LeaseHeldError)) await this.#notifier?.notifyRunEnd(summarizeMaintenanceReport({ kind }, { hotPath, startedMs, error }));
      throw error;
    }
    await this.#notifier?.notifyRunEnd(summarizeMaintenanceReport({ kind, report } as unknown as MaintenanceRunReport, { hotPath, startedMs }));
    return report;
  }

  /**
   * Merges each table's small cold files into files near the target size.
   *
   * @example
   * const report = await store.maintenance.compact({ tables: ['messages'], targetSize: '128MB' });
   */
  async compact(options: CompactOptions = {}): Promise<CompactReport> {
    const started = Date.now();
    const targetBytes = this.#targetBytes(options.targetSize);
    const minFiles = options.minFiles ?? this.#deps.config.compactMinFiles;
    if (!Number.isInteger(minFiles) || minFiles < 2) throw new ArgumentError(`minFiles ${JSON.stringify(options.minFiles)} is invalid: expected a whole number >= 2`);
    const tables = selectTables(this.#tables, options.tables);
    const dryRun = options.dryRun ?? false;
    const base = { kind: 'compact' as const, dryRun, targetBytes, startedAt: new Date(started).toISOString() };
    const compactAll = async (run: Parameters<Parameters<typeof withMaintenanceRun>[2]>[0] | undefined): Promise<CompactReport> => {
      let seq = 0;
      const reports: CompactTableReport[] = [];
      for (const t of tables) {
        if (options.signal?.aborted) break;
        try {
          reports.push(await compactTable(run, this.#deps.raw, t, { targetBytes, minFiles, dryRun, now: Date.now(), nextSeq: () => ++seq, signal: options.signal }));
        } catch (error) {
          if (run === undefined || isFatal(error)) throw error;
          reports.push({ ...emptyCompact(t.table), error: (error as Error).message });
          this.#deps.logger.error({ table: t.table, err: error }, 'compacting the table failed; other tables go on');
        }
      }
      return { ...base, runId: run?.runId ?? null, durationMs: Date.now() - started, tables: reports };
    };
    if (dryRun) return compactAll(undefined);
    this.#assertWritable('compact');
    return this.#notified('compact', () => withMaintenanceRun(this.#deps, 'compact', async (run) => this.#thenPublish(run, await compactAll(run), tables), errorsOf));
  }

  /**
   * Deletes cold rows older than each table's `coldDays` (COLD_DAYS_<TABLE>), whole UTC days, and records
   * each removal in `_tierdb_retention`. Tables without coldDays keep their rows forever.
   *
   * @example
   * const report = await store.maintenance.applyRetention({ dryRun: true });
   */
  async applyRetention(options: RetentionOptions = {}): Promise<RetentionReport> {
    const started = Date.now();
    const now = options.now === undefined ? started : toMs(options.now, 'now');
    const tables = selectTables(this.#tables, options.tables).filter((t): t is ResolvedTable & { coldDays: number } => t.coldDays !== undefined);
    const dryRun = options.dryRun ?? false;
    const base = { kind: 'retention' as const, dryRun, startedAt: new Date(started).toISOString() };
    const retainAll = async (run: Parameters<Parameters<typeof withMaintenanceRun>[2]>[0] | undefined): Promise<RetentionReport> => {
      let seq = 0;
      const reports: RetentionTableReport[] = [];
      for (const t of tables) {
        try {
          reports.push(await applyRetentionTable(run, this.#deps.raw, t, { now, dryRun, nextSeq: () => ++seq }));
        } catch (error) {
          if (run === undefined || isFatal(error)) throw error;
          reports.push({ table: t.table, coldDays: t.coldDays, coldDaysFrom: t.coldDaysFrom, cutoff: '', filesRetired: 0, filesRewritten: 0, rowsRemoved: 0, bytesRemoved: 0, paths: [], error: (error as Error).message });
          this.#deps.logger.error({ table: t.table, err: error }, 'retention of the table failed; other tables go on');
        }
      }
      return { ...base, runId: run?.runId ?? null, durationMs: Date.now() - started, tables: reports };
    };
    if (dryRun || tables.length === 0) return retainAll(undefined);
    this.#assertWritable('apply retention');
    return this.#notified('retention', () => withMaintenanceRun(this.#deps, 'retention', async (run) => this.#thenPublish(run, await retainAll(run), tables), errorsOf));
  }

  /**
   * Moves a table's cold rows in [since, until) back into its hot table, exactly once.
   *
   * @example
   * await store.maintenance.restore({ table: 'task_queue', since: '2026-01-01', until: '2026-02-01' });
   */
  async restore(options: RestoreOptions): Promise<RestoreReport> {
    if (options === null || typeof options !== 'object') throw new ArgumentError('restore: options { table, since, until } are required');
    const [t] = selectTables(this.#tables, [options.table]);
    const sinceMs = toMs(options.since, 'since');
    const untilMs = toMs(options.until, 'until');
    if (sinceMs >= untilMs) {
      throw new ArgumentError(`since ${new Date(sinceMs).toISOString()} is not before until ${new Date(untilMs).toISOString()}: nothing to restore in an empty range`);
    }
    const range = { sinceMs, untilMs, now: options.now === undefined ? Date.now() : toMs(options.now, 'now') };
    if (options.dryRun) {
      const engine = await createMaintenanceEngine(this.#deps.config);
      try {
        return await restoreRange({ raw: this.#deps.raw, cold: this.#deps.cold, engine }, undefined, t!, range, () => 0);
      } finally {
        engine.close();
      }
    }
    this.#assertWritable('restore');
    let seq = 0;
    return this.#notified('restore', () =>
      withMaintenanceRun(
        this.#deps,
        'restore',
        async (run) => this.#thenPublish(run, await restoreRange({ raw: run.ctx.raw, cold: run.ctx.cold, engine: run.engine }, run, t!, range, () => ++seq), [t!]),
        () => [],
      ),
    );
  }

  /**
   * Erases the rows the filter selects so that no byte of them remains: hot
   * rows deleted with secure_delete, every cold file holding one rewritten
   * without it (verified) and the old one unlinked after
   * TIERDB_ERASE_GRACE_SECONDS, the hot-file backups rewritten, the hot file
   * vacuumed and its WAL truncated. Returns the receipt (also stored in
   * `_tierdb_erasures`; it never holds the erased values).
   *
   * @example
   * const receipt = await store.erase('messages', { where: { sender: 'wxid_forget_me' } });
   */
  async erase(table: string, options: EraseOptions): Promise<EraseReceipt> {
    const [t] = selectTables(this.#tables, [table]);
    assertWhere(t!, 'erase', options);
    if (options.dryRun) {
      const engine = await createMaintenanceEngine(this.#deps.config);
      try {
        return await eraseRows(undefined, { raw: this.#deps.raw, cold: this.#deps.cold, engine }, t!, options, () => 0);
      } finally {
        engine.close();
      }
    }
    this.#assertWritable('erase');
    let seq = 0;
    return this.#notified('erase', () =>
      withMaintenanceRun(
        this.#deps,
        'erase',
        async (run) => {
          await finishErasures(run);
          // Once the erase committed, a published table gets a snapshot without the old files and every
          // snapshot listing them expires (their objects deleted) before the old files are unlinked.
          const onCommitted = this.#deps.config.icebergPublish || isIcebergPublished(run.ctx.raw, t!.table) ? async () => void (await this.#publishIn(run, [t!], { strict: true })) : undefined;
          const receipt = await eraseRows(run, { raw: run.ctx.raw, cold: run.ctx.cold, engine: run.engine }, t!, options, () => ++seq, onCommitted);
          return receipt;
        },
        () => [],
      ),
    );
  }

  /**
   * Rebuilds the manifest from the cold tree's footers, after the hot file was
   * lost, replaced by an older backup, or its `_tierdb_files` damaged (see
   * rebuildManifest.ts): every file verified before it is listed; a key hot
   * and cold → the hot row wins, in two files → the newer run wins; one commit.
   * Every registered table unless `tables` (disabled ones too: their files are data).
   *
   * @example
   * // after restoring an older backup of the hot file:
   * const report = await store.maintenance.rebuildManifest({ dryRun: true });
   * for (const c of report.conflicts) console.log(`${c.table}: ${c.keys} keys of ${c.file} lost to ${c.winner}`);
   */
  async rebuildManifest(options: RebuildManifestOptions = {}): Promise<RebuildReport> {
    const rebuild = () => rebuildManifest({ ...this.#deps, tables: this.#tables, readonly: this.#readonly }, options);
    // A dry run notifies nothing (as an archive dry run), nor does a rebuild refused before it starts (a
    // read-only store: rebuildManifest throws; an unknown table: here); its end is told like every other run's.
    if (options.dryRun || this.#readonly) return rebuild();
    if (options.tables !== undefined) selectTables(this.#tables, options.tables);
    return this.#notified('rebuild', rebuild);
  }

  /**
   * Moves the cold tree to object storage (or another tree): every listed file
   * copied and verified, the manifest switched in one transaction, the old
   * files removed (see migrateColdTree). `to` is `s3://bucket/prefix`; the AWS
   * settings come from `env` (default: the process environment and `.env`).
   * Afterwards reopen the store with TIERDB_COLD_URL set to `to`.
   *
   * @example
   * await store.maintenance.migrateCold({ to: 's3://history/app' });
   */
  async migrateCold(options: MigrateColdCall): Promise<MigrateColdReport> {
    this.#assertWritable('migrate its cold tier');
    const config = this.#deps.config;
    const targetConfig = loadConfig({ env: { ...(options.env ?? readEnv()), TIERDB_COLD_URL: options.to }, dataDir: config.dataDir, hotPath: config.hotPath });
    const target = await createColdStore(targetConfig);
    try {
      const storeId = readStoreId(this.#deps.raw);
      if (storeId === undefined) throw new ArgumentError(`${config.hotPath} has no store id yet: open it for writing once before migrating`);
      return await withMaintenanceRun(
        this.#deps,
        'migrate-cold',
        (run) => migrateColdTree(run, this.#deps.raw, target, { storeId, hotPath: config.hotPath, localColdDir: config.coldDir, ...(options.onProgress ? { onProgress: options.onProgress } : {}) }),
        () => [],
      );
    } finally {
      await target.close();
    }
  }

  /**
   * Publishes each table's cold tier as an Apache Iceberg v2 table at
   * `<cold>/<table>/_iceberg` (see docs/ICEBERG.md): a new snapshot for every
   * table whose live files or delete markers changed since its last one,
   * snapshots past ICEBERG_KEEP_SNAPSHOTS / ICEBERG_SNAPSHOT_DAYS expired.
   * One run under the archiver lease. With ICEBERG_PUBLISH=true it also runs
   * after every archive, compaction, retention, restore and erase.
   *
   * @example
   * const report = await store.maintenance.publishIceberg({ tables: ['messages'] });
   * console.log(report.tables[0].metadataLocation);
   */
  async publishIceberg(options: PublishIcebergOptions = {}): Promise<IcebergPublishReport> {
    const tables = selectTables(this.#tables, options.tables);
    this.#assertWritable('publish Iceberg tables');
    const report = await withMaintenanceRun(this.#deps, 'publish', (run) => this.#publishIn(run, tables, options), (r) => r.tables.filter((t) => t.error !== undefined).map((t) => `${t.table}: ${t.error}`));
    const failed = report.tables.filter((t) => t.status === 'failed');
    if (options.strict && failed.length > 0) throw new IcebergPublishError(failed.map((t) => `${t.table}: ${t.error}`).join('; '));
    return report;
  }

  /** Publishing inside a run that holds the lease. */
  #publishIn(run: MaintenanceRun, tables: readonly ResolvedTable[], options: PublishIcebergOptions = {}): Promise<IcebergPublishReport> {
    return publishIcebergTables(
      { raw: run.ctx.raw, cold: run.ctx.cold, config: run.ctx.config, logger: this.#deps.logger, engine: run.engine, assertLease: run.ctx.assertLease, runId: run.runId, runToken: run.runToken },
      tables,
      options,
    );
  }

  /** ICEBERG_PUBLISH: a job's report with the publish of its tables that followed in the same run (a failed publish fails no job). */
  async #thenPublish<R extends object>(run: MaintenanceRun, report: R, tables: readonly ResolvedTable[]): Promise<R> {
    if (!this.#deps.config.icebergPublish || tables.length === 0) return report;
    const iceberg = await this.#publishIn(run, tables);
    return { ...report, iceberg };
  }

  /** What `tierdb serve` runs after each archive run (COMPACT_ENABLED): retention, then compaction. */
  async run(options: { now?: Date | number; signal?: AbortSignal } = {}): Promise<MaintenanceReport> {
    const retention = await this.applyRetention(options.now === undefined ? {} : { now: options.now });
    const compact = await this.compact(options.signal ? { signal: options.signal } : {});
    return { retention, compact };
  }

  #targetBytes(given: number | string | undefined): number {
    if (given === undefined) return this.#deps.config.compactTargetBytes;
    const bytes = typeof given === 'number' ? (Number.isSafeInteger(given) && given > 0 ? given : undefined) : parseByteSize(String(given));
    if (bytes === undefined || bytes < 1024) {
      throw new ArgumentError(`target size ${JSON.stringify(given)} is invalid: expected a size of at least 1024 bytes such as 128MB, 64MiB or 134217728`);
    }
    return bytes;
  }

  #assertWritable(what: string): void {
    if (this.#readonly) throw new ReadOnlyStoreError(`this store was opened read-only (${this.#deps.config.hotPath}): it cannot ${what}; only dry runs`);
  }
}

function emptyCompact(table: string): CompactTableReport {
  return { table, filesBefore: 0, filesAfter: 0, bytesBefore: 0, bytesAfter: 0, rowsIn: 0, rowsOut: 0, duplicatesDropped: 0, groups: [] };
}

/** Errors that end the whole run (the lease lost, the store closed) rather than one table. */
function isFatal(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === 'TIERDB_LEASE_LOST' || code === 'TIERDB_CLOSED';
}

function errorsOf(report: { tables: readonly { table: string; error?: string }[] }): string[] {
  return report.tables.filter((t) => t.error !== undefined).map((t) => `${t.table}: ${t.error}`);
}
