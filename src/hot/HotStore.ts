/**
 * The hot store: one SQLite file in WAL mode, tierdb's own `_tierdb_` tables
 * always present; an application schema (a preset's, or the app's own
 * drizzle-kit migrations) applied only when asked for.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { RegistryError, TierError } from '../errors.js';
import { noopLogger, type Logger } from '../logger.js';
import type { ColdKeyIndex } from '../cold/ColdKeyIndex.js';
import type { TierPreset } from '../presets/TierPreset.js';
import type { AppendOptions, AppendResult } from './AppendResult.js';
import { appendToTable } from './appendToTable.js';
import { safeIntegerClient } from './safeIntegerClient.js';

const MIGRATIONS_ROOT = fileURLToPath(new URL('../../migrations/', import.meta.url));
/** The folder of tierdb's own migrations (the `_tierdb_` tables). */
export const TIERDB_MIGRATIONS = path.join(MIGRATIONS_ROOT, 'tierdb');
/** Busy timeout for every connection: writers wait this long for a lock. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/**
 * A drizzle schema: the module of an app's `sqliteTable`s (`import * as schema from './schema.js'`).
 * Also the default: an untyped store, to which every typed store is assignable.
 */
export type DrizzleSchema = Record<string, unknown>;

export interface HotStoreOptions<TSchema extends DrizzleSchema = DrizzleSchema> {
  /** The SQLite file; its folder is created. */
  path: string;
  /**
   * The application schema's migrations folder, or `false` to leave the
   * application's tables alone. Default: the preset's migrations, else false.
   */
  migrations?: string | false;
  /** The drizzle schema that types `db` (default: the preset's, else untyped). */
  schema?: TSchema;
  /** A preset (`wechatPreset`): its migrations, schema and `appendMessages`. */
  preset?: TierPreset<TSchema> | TierPreset;
  readonly?: boolean;
  logger?: Logger;
}

/** Applies the pragmas every tierdb connection uses. */
export function configureConnection(raw: Database.Database, readonly = false): void {
  raw.pragma(`busy_timeout = ${DEFAULT_BUSY_TIMEOUT_MS}`);
  if (readonly) return;
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.pragma('foreign_keys = ON');
}

/** How many tierdb migrations this version ships. */
function shippedTierdbMigrations(): number {
  const journal = JSON.parse(readFileSync(path.join(TIERDB_MIGRATIONS, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] };
  return journal.entries.length;
}

/** A read-only open cannot migrate: the file must already be a tierdb store of this version. */
function assertTierdbSchemaCurrent(raw: Database.Database, filePath: string): void {
  const hasTable = (name: string) => raw.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?`).get(name) !== undefined;
  if (!hasTable('_tierdb_migrations') || !hasTable('_tierdb_files')) {
    throw new TierError('TIERDB_NOT_A_STORE', `${filePath} is not a tierdb store yet (no _tierdb_ tables): run \`tierdb migrate\` (or any writing command) on it first`);
  }
  const applied = raw.prepare('SELECT count(*) FROM _tierdb_migrations').pluck().get() as number;
  const shipped = shippedTierdbMigrations();
  if (applied < shipped) {
    throw new TierError(
      'TIERDB_SCHEMA_OUTDATED',
      `${filePath} has ${applied} of tierdb's ${shipped} migrations; a read-only command cannot apply them: run \`tierdb migrate\` first`,
    );
  }
}

/** SQLite's "disk full" and "cannot open" errors, named with the file; other errors unchanged. */
function toHotOpenError(error: unknown, filePath: string): unknown {
  if (error instanceof TierError) return error;
  const code = (error as { code?: string }).code ?? '';
  if (code === 'SQLITE_FULL' || code === 'ENOSPC') {
    return new TierError('TIERDB_DISK_FULL', `the disk holding ${filePath} is full: the hot database could not be prepared; nothing was changed. Free space and retry`, {
      cause: error,
    });
  }
  if (code.startsWith('SQLITE_')) {
    return new TierError('TIERDB_HOT_OPEN', `cannot use the hot SQLite file ${filePath}: ${(error as Error).message} (${code})`, { cause: error });
  }
  return error;
}

export class HotStore<TSchema extends DrizzleSchema = DrizzleSchema> {
  /** The raw better-sqlite3 handle (numbers by default; `safeIntegers(true)` per statement for 64-bit values). */
  readonly raw: Database.Database;
  /**
   * A drizzle database over the same handle, typed by the caller's schema.
   * It reads with safe integers: INTEGERs within ±(2^53 − 1) arrive as numbers,
   * larger ones as exact bigints (`int64()` columns are always bigint).
   */
  readonly db: BetterSQLite3Database<TSchema>;
  readonly path: string;
  readonly #logger: Logger;
  readonly #preset: TierPreset | undefined;
  #coldKeys: ColdKeyIndex | undefined;
  /** Registered table → its key column (set by openTierStore). */
  #keyColumns = new Map<string, string>();

  private constructor(raw: Database.Database, filePath: string, logger: Logger, schema: TSchema | undefined, preset: TierPreset | undefined) {
    this.raw = raw;
    this.path = filePath;
    this.#logger = logger;
    this.#preset = preset;
    const client = safeIntegerClient(raw);
    this.db = (schema ? drizzle({ client, schema }) : drizzle({ client })) as BetterSQLite3Database<TSchema>;
  }

  /**
   * Opens (creating when needed) the hot SQLite file and brings its schema up
   * to date. Idempotent: a second open applies nothing.
   *
   * @example
   * const hot = HotStore.open({ path: 'data/hot.db' });
   */
  static open<TSchema extends DrizzleSchema = DrizzleSchema>(options: HotStoreOptions<TSchema>): HotStore<TSchema> {
    const logger = options.logger ?? noopLogger;
    const filePath = path.resolve(options.path);
    if (!options.readonly) {
      try {
        mkdirSync(path.dirname(filePath), { recursive: true });
      } catch (cause) {
        throw new TierError('TIERDB_HOT_OPEN', `cannot create the folder ${path.dirname(filePath)} for the hot database: ${(cause as Error).message}`, { cause });
      }
    }
    let raw: Database.Database;
    try {
      raw = new Database(filePath, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
    } catch (cause) {
      throw new TierError('TIERDB_HOT_OPEN', `cannot open the hot SQLite file ${filePath}: ${(cause as Error).message}`, { cause });
    }
    try {
      const fresh = !options.readonly && (raw.pragma('page_count', { simple: true }) as number) === 0;
      // Incremental auto-vacuum lets the archiver give pages back without a full VACUUM;
      // it can only be chosen before the first table exists.
      if (fresh) raw.pragma('auto_vacuum = INCREMENTAL');
      configureConnection(raw, options.readonly);
      const preset = options.preset as TierPreset | undefined;
      const store = new HotStore<TSchema>(raw, filePath, logger, options.schema ?? (preset?.schema as TSchema | undefined), preset);
      if (options.readonly) assertTierdbSchemaCurrent(raw, filePath);
      else store.#migrate(options.migrations ?? preset?.migrations ?? false);
      return store;
    } catch (error) {
      raw.close();
      throw toHotOpenError(error, filePath);
    }
  }

  #migrate(appMigrations: string | false): void {
    const db = drizzle({ client: this.raw });
    migrate(db, { migrationsFolder: TIERDB_MIGRATIONS, migrationsTable: '_tierdb_migrations' });
    if (appMigrations !== false) migrate(db, { migrationsFolder: appMigrations });
    this.#logger.debug({ path: this.path }, 'hot store migrated');
  }

  /**
   * Checks and inserts rows into a registered table in one transaction (see
   * appendToTable): each value against its column's declared type, 64-bit
   * integers exact as bigint; invalid rows reported with their index and
   * reason, never dropped silently; keys deduped against hot and cold rows.
   *
   * @example
   * const r = await store.hot.append('events', [{ id: 1n, at: 1700000000, kind: 'click' }], { onConflict: 'ignore' });
   * // { inserted: 1, duplicates: 0, rejected: [] }
   */
  async append(table: string, rows: readonly unknown[], options: AppendOptions = {}): Promise<AppendResult> {
    const keyColumn = this.#keyColumns.get(table);
    if (keyColumn === undefined) {
      const registered = [...this.#keyColumns.keys()];
      throw new RegistryError(
        `append: table ${JSON.stringify(table)} is not registered (${registered.length > 0 ? `registered: ${registered.join(', ')}` : 'no registered tables: open the store with openTierStore'})`,
      );
    }
    return appendToTable({ raw: this.raw, coldKeys: this.#coldKeys }, table, keyColumn, rows, options);
  }

  /**
   * Validates and inserts WeChat-style message rows in one transaction,
   * skipping rows whose `msg_id` is already stored. Invalid rows are
   * reported with their index, never dropped silently. Needs the message
   * preset (`openTierStore({ preset: wechatPreset })`, or its registry).
   */
  async appendMessages(rows: readonly unknown[]): Promise<AppendResult> {
    const append = this.#preset?.appendMessages;
    if (!append) {
      throw new TierError(
        'TIERDB_PRESET_MISSING',
        `store.hot.appendMessages needs the WeChat message preset, and this store was opened ${this.#preset ? `with the ${this.#preset.name} preset` : 'without a preset'}: ` +
          'open it with openTierStore({ preset: wechatPreset }) (or its registry), or append to any registered table with store.hot.append(table, rows)',
      );
    }
    return append({ raw: this.raw, coldKeys: this.#coldKeys }, rows);
  }

  /** The preset this store was opened with, if any. */
  get preset(): TierPreset | undefined {
    return this.#preset;
  }

  /** Set by openTierStore: the registered tables `append` takes, with their key columns. */
  useTables(tables: readonly { table: string; keyColumn: string }[]): void {
    this.#keyColumns = new Map(tables.map((t) => [t.table, t.keyColumn]));
  }

  /** Where appends look up keys already in the cold tier (a key is never hot and cold at once). */
  get coldKeys(): ColdKeyIndex | undefined {
    return this.#coldKeys;
  }

  /** Set by openTierStore; closed with this store. */
  useColdKeys(index: ColdKeyIndex): void {
    this.#coldKeys = index;
  }

  /**
   * A second read-write connection to the same file, with the same pragmas.
   * The archiver works on its own connection, so that `PRAGMA data_version`
   * sees the app's writes through `raw` as changes. The caller closes it.
   */
  openConnection(): Database.Database {
    const raw = new Database(this.path, { fileMustExist: true });
    configureConnection(raw);
    return raw;
  }

  close(): void {
    this.#coldKeys?.close();
    if (this.raw.open) this.raw.close();
  }
}
