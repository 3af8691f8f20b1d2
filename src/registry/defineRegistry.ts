/**
 * The registry says which tables tier, by which time column, after how many
 * days. `archive-registry.ts` at the repository root is the one place that
 * lists them.
 */
import { getTableName, is } from 'drizzle-orm';
import { SQLiteTable } from 'drizzle-orm/sqlite-core';
import { coldDaysVariable, hotDaysVariable, type TierConfig } from '../config.js';
import { RegistryError } from '../errors.js';

export const TIME_UNITS = ['unix_s', 'unix_ms', 'iso'] as const;
export type TimeUnit = (typeof TIME_UNITS)[number];
export type Partition = 'day' | 'month';

export interface RegistryEntryInput {
  /** A drizzle table or a plain table name. */
  table: SQLiteTable | string;
  timeColumn: string;
  timeUnit: TimeUnit;
  hotDays: number;
  /**
   * Days rows are kept at all, counted like hotDays: cold rows older than that
   * are deleted by retention (whole UTC days). Default: kept forever. At least hotDays.
   */
  coldDays?: number;
  /** Read from SQLite when absent. */
  primaryKey?: string;
  enabled?: boolean;
  /** Lower runs first. Default 100. */
  priority?: number;
  /** `month` for low-volume tables: fewer, larger files. Default `day`. */
  partition?: Partition;
  /** Most rows per chunk (file and commit) for this table; default ARCHIVE_BATCH_SIZE. Smaller keeps app writers' waits short on dense tables. */
  batchSize?: number;
  /**
   * The app sets every key itself (e.g. a WeChat msg_id), never leaving it to SQLite.
   * Required to tier a table whose key is an INTEGER PRIMARY KEY without AUTOINCREMENT:
   * SQLite would otherwise hand an archived key out again to a new row.
   */
  appAssignsKeys?: boolean;
}

export interface RegistryEntry {
  readonly table: string;
  readonly timeColumn: string;
  readonly timeUnit: TimeUnit;
  readonly hotDays: number;
  /** undefined: cold rows are kept forever. */
  readonly coldDays: number | undefined;
  readonly primaryKey: string | undefined;
  readonly enabled: boolean;
  readonly priority: number;
  readonly partition: Partition;
  readonly batchSize: number | undefined;
  readonly appAssignsKeys: boolean;
  /** Where `hotDays` came from: `registry`, or the variable that overrode it (`HOT_DAYS_EVENTS`). */
  readonly hotDaysFrom: string;
  /** Where `coldDays` came from: `registry` (also when unset), or the variable that set it (`COLD_DAYS_EVENTS`). */
  readonly coldDaysFrom: string;
}

export type Registry = readonly RegistryEntry[];

/**
 * A registry, or a function of the config (so `hotDays` can come from env).
 * A plain array of entries (no `defineRegistry`) works too: it is validated
 * when the store opens, exactly as `defineRegistry` would.
 */
export type RegistryDefinition =
  | Registry
  | readonly RegistryEntryInput[]
  | ((config: TierConfig) => Registry | readonly RegistryEntryInput[]);

function validateEntry(input: RegistryEntryInput, position: number): RegistryEntry {
  const where = `registry entry #${position + 1}`;
  if (input === null || typeof input !== 'object') throw new RegistryError(`${where}: expected an object`);
  const table = is(input.table, SQLiteTable) ? getTableName(input.table) : input.table;
  if (typeof table !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) {
    throw new RegistryError(`${where}: table ${JSON.stringify(table)} is not a table name or drizzle table`);
  }
  if (table.startsWith('_tierdb_')) throw new RegistryError(`${where}: ${table} is one of tierdb's own tables`);
  const at = `${where} (${table})`;
  if (typeof input.timeColumn !== 'string' || input.timeColumn === '') throw new RegistryError(`${at}: timeColumn must be a column name`);
  if (!TIME_UNITS.includes(input.timeUnit)) {
    throw new RegistryError(`${at}: timeUnit ${JSON.stringify(input.timeUnit)} is invalid; expected one of ${TIME_UNITS.join(', ')}`);
  }
  if (!Number.isInteger(input.hotDays) || input.hotDays < 0) {
    throw new RegistryError(`${at}: hotDays ${JSON.stringify(input.hotDays)} is invalid; expected a whole number >= 0`);
  }
  if (input.coldDays !== undefined && (!Number.isInteger(input.coldDays) || input.coldDays < 1)) {
    throw new RegistryError(`${at}: coldDays ${JSON.stringify(input.coldDays)} is invalid; expected a whole number >= 1 (or leave it out to keep cold rows forever)`);
  }
  const partition = input.partition ?? 'day';
  if (partition !== 'day' && partition !== 'month') {
    throw new RegistryError(`${at}: partition ${JSON.stringify(partition)} is invalid; expected day or month`);
  }
  if (input.batchSize !== undefined && (!Number.isInteger(input.batchSize) || input.batchSize < 1)) {
    throw new RegistryError(`${at}: batchSize ${JSON.stringify(input.batchSize)} is invalid; expected a whole number >= 1`);
  }
  const priority = input.priority ?? 100;
  if (!Number.isFinite(priority)) throw new RegistryError(`${at}: priority must be a number`);
  return Object.freeze({
    table,
    timeColumn: input.timeColumn,
    timeUnit: input.timeUnit,
    hotDays: input.hotDays,
    coldDays: input.coldDays,
    primaryKey: input.primaryKey,
    enabled: input.enabled ?? true,
    priority,
    partition,
    batchSize: input.batchSize,
    appAssignsKeys: input.appAssignsKeys ?? false,
    hotDaysFrom: 'registry',
    coldDaysFrom: 'registry',
  });
}

/**
 * Declares the tiered tables. Accepts the entries, or a function of the
 * config that returns them.
 *
 * @example
 * export default defineRegistry(({ hotDays }) => [
 *   { table: taskQueue, timeColumn: 'created_at', timeUnit: 'unix_s', hotDays: hotDays.task, priority: 1 },
 * ]);
 */
export function defineRegistry(entries: readonly RegistryEntryInput[] | ((config: TierConfig) => readonly RegistryEntryInput[])): RegistryDefinition {
  if (typeof entries === 'function') return (config: TierConfig) => buildRegistry(entries(config));
  return buildRegistry(entries);
}

/** Registries `buildRegistry` made: already validated, so `materializeRegistry` takes them as they are. */
const BUILT = new WeakSet<Registry>();

function buildRegistry(entries: readonly RegistryEntryInput[]): Registry {
  if (!Array.isArray(entries)) throw new RegistryError('the registry must be an array of entries');
  const built = entries.map(validateEntry);
  const seen = new Set<string>();
  for (const e of built) {
    if (seen.has(e.table)) throw new RegistryError(`table ${e.table} is registered twice`);
    seen.add(e.table);
  }
  const registry: Registry = Object.freeze([...built].sort((a, b) => a.priority - b.priority));
  BUILT.add(registry);
  return registry;
}

/**
 * Turns a definition into entries for one config. `HOT_DAYS_<TABLE>` in the
 * environment overrides that entry's `hotDays` (see `hotDaysVariable`).
 */
export function materializeRegistry(definition: RegistryDefinition, config: TierConfig): Registry {
  const given = typeof definition === 'function' ? definition(config) : definition;
  // A plain array (a registry module without defineRegistry, e.g. the one `tierdb init` writes) is validated here.
  const entries = BUILT.has(given as Registry) ? (given as Registry) : buildRegistry(given);
  const materialized: Registry = Object.freeze(
    entries.map((e) => {
      const variable = hotDaysVariable(e.table);
      const days = config.tableHotDays?.[variable];
      const coldVariable = coldDaysVariable(e.table);
      const coldDays = config.tableColdDays?.[coldVariable];
      let out: RegistryEntry = days === undefined ? e : { ...e, hotDays: days, hotDaysFrom: variable };
      if (coldDays !== undefined) out = { ...out, coldDays, coldDaysFrom: coldVariable };
      if (out.coldDays !== undefined && out.coldDays < out.hotDays) {
        throw new RegistryError(
          `${e.table}: coldDays ${out.coldDays} (${out.coldDaysFrom}) is less than hotDays ${out.hotDays} (${out.hotDaysFrom}): ` +
            'rows would be deleted before they ever left the hot table; raise coldDays or lower hotDays',
        );
      }
      return out === e ? e : Object.freeze(out);
    }),
  );
  BUILT.add(materialized);
  return materialized;
}
