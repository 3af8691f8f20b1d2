/**
 * The entry point: one call opens the hot store, binds the registry to it and
 * gives the archiver and the query bridge.
 */
import { loadConfig, type TierConfig } from '../config.js';
import { RegistryError } from '../errors.js';
import { HotStore, type DrizzleSchema } from '../hot/HotStore.js';
import { noopLogger, type Logger } from '../logger.js';
import { materializeRegistry, type RegistryDefinition } from '../registry/defineRegistry.js';
import { presetOfRegistry, type TierPreset } from '../presets/TierPreset.js';
import { findRegistryModule, loadRegistryModule, REGISTRY_FILE_NAMES } from '../registry/loadRegistryModule.js';
import { resolveRegistry, type ResolvedTable } from '../registry/resolveRegistry.js';
import { UniversalArchiver } from '../archive/UniversalArchiver.js';
import { UnifiedQueryBridge } from '../query/UnifiedQueryBridge.js';
import { Maintenance } from '../maintenance/Maintenance.js';
import { bindColdTree, checkHotPath } from './coldTreeIdentity.js';
import { ColdKeyIndex } from '../cold/ColdKeyIndex.js';
import type { ColdStore } from '../cold/ColdStore.js';
import { createColdStore } from '../cold/createColdStore.js';
import { RunNotifier } from '../notify/RunNotifier.js';
import { deleteRows, updateRows, type ChangeOptions, type ChangeResult, type UpdateOptions } from '../change/changeRows.js';
import type { EraseOptions, EraseReceipt } from '../change/eraseRows.js';
import type { IcebergPublishReport } from '../iceberg/IcebergPublishReport.js';

export interface OpenTierStoreOptions<TSchema extends DrizzleSchema = DrizzleSchema> {
  dataDir?: string;
  hotPath?: string;
  /**
   * The registry; default: the module named by TIERDB_REGISTRY, else a registry file in the
   * working folder, else the preset's registry.
   */
  registry?: RegistryDefinition;
  logger?: Logger;
  /**
   * Application migrations folder, or false to leave the app's tables alone. Default: false — tierdb
   * creates only its own `_tierdb_` tables — unless a preset is given (or the registry names one, as
   * the demo's does), whose migrations are then applied.
   */
  migrations?: string | false;
  /** The app's drizzle schema: types `store.hot.db` (default: the preset's, else untyped). */
  schema?: TSchema;
  /** A schema shipped with tierdb (`wechatPreset`): its tables, registry and `store.hot.appendMessages`. */
  preset?: TierPreset<TSchema>;
  /** A config already loaded; otherwise read from env (and `.env`). */
  config?: TierConfig;
  /** The environment to read instead of process.env. */
  env?: Record<string, string | undefined>;
  /**
   * Open for reading only: the hot file must exist and be a tierdb store; nothing
   * is created, migrated, recovered or deleted; `archiver.run` allows only dry runs.
   */
  readonly?: boolean;
  /** Told of every run's end; default: RunNotifier.fromConfig (a webhook when ARCHIVE_WEBHOOK_URL is set). */
  notifier?: RunNotifier;
  /**
   * Run recovery at a writable open (default true). False for maintenance that
   * must see the cold tree exactly as it is, such as rebuilding a damaged
   * manifest (`tierdb rebuild-manifest` opens so).
   */
  recover?: boolean;
  /**
   * The store id in the cold tree's marker (`cold/_tierdb_store.json`): a hot
   * database without a store id — a new one, after the hot file was lost —
   * takes over that tree instead of being refused. Then rebuild the manifest
   * (`store.maintenance.rebuildManifest()`). Every other open keeps the guard.
   */
  adoptColdTree?: string;
}

export interface TierStore<TSchema extends DrizzleSchema = DrizzleSchema> extends AsyncDisposable {
  readonly config: TierConfig;
  readonly hot: HotStore<TSchema>;
  readonly tables: readonly ResolvedTable[];
  readonly logger: Logger;
  /** Where the cold files live (a local folder by default); every cold file is read and written through it. */
  readonly cold: ColdStore;
  /** Moves old rows to cold Parquet (see UniversalArchiver.run). */
  readonly archiver: UniversalArchiver;
  /** The read-only query bridge over hot and cold (see UnifiedQueryBridge). */
  readonly bridge: UnifiedQueryBridge;
  /** Compaction, retention and restore of the cold tier (see Maintenance). */
  readonly maintenance: Maintenance;
  /**
   * Hears the end of every run (archive now; compaction and retention later) and
   * POSTs its summary to ARCHIVE_WEBHOOK_URL: `store.notifier.onRunEnd(listener)`.
   */
  readonly notifier: RunNotifier;
  /**
   * Deletes the rows the filter selects, hot or cold: hot rows in SQLite, cold
   * rows by delete markers in the same transaction (hidden from every reader at
   * once; compaction removes them from the files). Returns the counts.
   *
   * @example
   * await store.delete('messages', { where: { chatroom: 'room-9', create_time: { lt: 1767225600 } } });
   */
  delete(table: string, options: ChangeOptions): Promise<ChangeResult>;
  /**
   * Sets new values on the rows the filter selects: hot rows in SQLite; a cold
   * row becomes a hot row with the new values and its cold copy is masked.
   *
   * @example
   * await store.update('task_queue', { where: { status: 'stuck' }, set: { status: 'failed' } });
   */
  update(table: string, options: UpdateOptions): Promise<ChangeResult>;
  /**
   * Erases the rows the filter selects, physically, with a receipt (see
   * Maintenance.erase): nothing of them is left in the hot file, its WAL, the
   * backups or any cold file.
   *
   * @example
   * const receipt = await store.erase('messages', { where: { sender: 'wxid_forget_me' } });
   */
  erase(table: string, options: EraseOptions): Promise<EraseReceipt>;
  /** Finds a registered table; throws naming it when it is not registered. */
  table(name: string): ResolvedTable;
  close(): Promise<void>;
}

/** The registry for a config: the module it names, else the first registry file in the working folder, else the preset's. */
async function registryFromConfig(config: TierConfig, preset: TierPreset | undefined): Promise<RegistryDefinition> {
  const file = findRegistryModule(config.registryPath);
  if (file === undefined && preset) return preset.registry;
  if (file === undefined) {
    throw new RegistryError(
      `no registry: pass options.registry, name a module with TIERDB_REGISTRY or --registry, or create one of ${REGISTRY_FILE_NAMES.join(', ')} in ${process.cwd()} (\`tierdb init\` writes one)`,
    );
  }
  return loadRegistryModule(file);
}

/**
 * Opens a tier store. Anything not given comes from env (see .env.example).
 *
 * @example
 * import * as schema from './schema.js';
 * await using store = await openTierStore({ hotPath: 'app.db', registry, schema });
 * await store.hot.append('events', rows, { onConflict: 'ignore' });
 * await store.hot.db.select().from(schema.events);
 */
export async function openTierStore<TSchema extends DrizzleSchema = DrizzleSchema>(options: OpenTierStoreOptions<TSchema> = {}): Promise<TierStore<TSchema>> {
  const config =
    options.config ??
    loadConfig({ ...(options.env ? { env: options.env } : {}), ...(options.dataDir ? { dataDir: options.dataDir } : {}), ...(options.hotPath ? { hotPath: options.hotPath } : {}) });
  const logger = options.logger ?? noopLogger;
  const definition = options.registry ?? (await registryFromConfig(config, options.preset));
  const preset: TierPreset | undefined = options.preset ?? presetOfRegistry(definition);
  const registry = materializeRegistry(definition, config);
  const readonly = options.readonly ?? false;
  const cold = await createColdStore(config);
  try {
    await checkHotPath(config.hotPath, cold, readonly, options.adoptColdTree);
  } catch (error) {
    await cold.close();
    throw error;
  }
  const hot = HotStore.open<TSchema>({
    path: config.hotPath,
    readonly,
    migrations: options.migrations ?? preset?.migrations ?? false,
    ...(options.schema ? { schema: options.schema } : {}),
    ...(preset ? { preset } : {}),
    logger: logger.child({ subsystem: 'hot' }),
  });
  let tables: readonly ResolvedTable[];
  let storeId: string | undefined;
  try {
    storeId = await bindColdTree(hot.raw, config.hotPath, cold, readonly, options.adoptColdTree);
    tables = resolveRegistry(hot.raw, registry);
  } catch (error) {
    hot.close();
    await cold.close();
    throw error;
  }
  const byName = new Map(tables.map((t) => [t.table, t]));
  hot.useTables(tables);
  hot.useColdKeys(new ColdKeyIndex({ cold, memoryLimit: config.duckdbMemoryLimit, keyColumns: new Map(tables.map((t) => [t.table, t.keyColumn])) }));
  // Its own connection: app writes through hot.raw then count as another connection's (data_version).
  const archiverDb = readonly ? hot.raw : hot.openConnection();
  const notifier = options.notifier ?? RunNotifier.fromConfig(config, logger.child({ subsystem: 'notify' }));
  // ICEBERG_PUBLISH: every run that changed the cold tier is followed by a publish of its tables.
  let maintenanceRef: Maintenance | undefined;
  const icebergLogger = logger.child({ subsystem: 'iceberg' });
  const autoPublish = async (names: readonly string[]): Promise<IcebergPublishReport | { error: string } | undefined> => {
    if (!config.icebergPublish || readonly || !maintenanceRef || names.length === 0) return undefined;
    try {
      return await maintenanceRef.publishIceberg({ tables: names });
    } catch (error) {
      icebergLogger.error({ err: error, tables: names }, 'publishing Iceberg snapshots after the run failed; `tierdb publish iceberg` publishes them');
      return { error: (error as Error).message };
    }
  };
  const archiver = new UniversalArchiver({
    raw: archiverDb,
    config,
    cold,
    tables,
    storeId,
    readonly,
    logger: logger.child({ subsystem: 'archiver' }),
    notifier,
    afterRun: (report) => autoPublish(report.tables.filter((t) => t.rowsMoved > 0 || t.pendingCommitted > 0).map((t) => t.table)),
  });
  try {
    if (!readonly && options.recover !== false) await archiver.recoverIfIdle();
  } catch (error) {
    if (archiverDb !== hot.raw) archiverDb.close();
    hot.close();
    await cold.close();
    throw error;
  }
  const bridge = new UnifiedQueryBridge({ config, cold, tables, logger: logger.child({ subsystem: 'bridge' }) });
  const maintenance = new Maintenance({ raw: archiverDb, config, cold, tables, readonly, notifier, logger: logger.child({ subsystem: 'maintenance' }) });
  maintenanceRef = maintenance;
  /** After a delete or update that masked cold rows: Iceberg readers stop seeing them at once (unless a run holds the lease: its own publish follows). */
  const publishChange = async (table: string, result: ChangeResult): Promise<ChangeResult> => {
    if (result.cold > 0) {
      const published = await autoPublish([table]).catch(() => undefined);
      if (published && 'error' in published && !/lease/i.test(published.error)) icebergLogger.warn({ table }, 'the delete is not yet visible to Iceberg readers');
    }
    return result;
  };
  let closed = false;
  const store: TierStore<TSchema> = {
    config,
    hot,
    tables,
    logger,
    cold,
    archiver,
    bridge,
    maintenance,
    notifier,
    table(name) {
      const t = byName.get(name);
      if (!t) throw new RegistryError(`table ${JSON.stringify(name)} is not registered (registered: ${[...byName.keys()].join(', ')})`);
      return t;
    },
    // The app's connection, not the archiver's: an archive commit must see the change as another connection's (data_version).
    delete: async (table, o) => publishChange(table, await deleteRows({ raw: hot.raw, config, cold, readonly }, store.table(table), o)),
    update: async (table, o) => publishChange(table, await updateRows({ raw: hot.raw, config, cold, readonly }, store.table(table), o)),
    erase: async (table, o) => {
      try {
        return await maintenance.erase(store.table(table).table, o);
      } finally {
        bridge.forgetCachedResults();
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await bridge.close();
      } finally {
        try {
          if (archiverDb !== hot.raw) archiverDb.close();
        } finally {
          try {
            hot.close();
          } finally {
            await cold.close();
          }
        }
      }
    },
    async [Symbol.asyncDispose]() {
      await store.close();
    },
  };
  return store;
}
