/**
 * What every CLI command shares: the config (bad env fails here, naming the
 * variable), a pino logger, and the store.
 */
import { loadConfig, readEnv, type TierConfig } from '../config.js';
import { createCliLogger, type Logger } from '../logger.js';
import type { TierPreset } from '../presets/TierPreset.js';
import { openTierStore, type TierStore } from '../store/openTierStore.js';

/** Options every command accepts (see main.ts). */
export interface GlobalOptions {
  dataDir?: string;
  hotPath?: string;
  registry?: string;
  /** false with `--no-migrations`: adopt an existing app database, leaving its tables alone. */
  migrations?: boolean;
}

export interface CliContext {
  config: TierConfig;
  logger: Logger;
}

export function cliContext(opts: GlobalOptions): CliContext {
  const env = readEnv();
  if (opts.registry) env.TIERDB_REGISTRY = opts.registry;
  const config = loadConfig({
    env,
    ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
    ...(opts.hotPath ? { hotPath: opts.hotPath } : {}),
  });
  return { config, logger: createCliLogger(config.logLevel) };
}

/**
 * Opens the store for a command. Read-only commands (sql, query, explain,
 * export, validate, stats, dry runs) pass `readonly`: they never create a hot
 * database, migrate it, or delete anything.
 */
export async function openCliStore(
  opts: GlobalOptions,
  ctx: CliContext = cliContext(opts),
  mode: { readonly?: boolean; preset?: TierPreset; recover?: boolean; adoptColdTree?: string } = {},
): Promise<TierStore> {
  return openTierStore({
    config: ctx.config,
    logger: ctx.logger,
    readonly: mode.readonly ?? false,
    ...(mode.preset ? { preset: mode.preset } : {}),
    ...(mode.recover === false ? { recover: false } : {}),
    ...(mode.adoptColdTree !== undefined ? { adoptColdTree: mode.adoptColdTree } : {}),
    ...(opts.migrations === false ? { migrations: false as const } : {}),
  });
}
