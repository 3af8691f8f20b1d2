/**
 * The `tierdb` command line: one file per subcommand in ./commands, each a
 * thin layer over the library.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { TierError } from '../errors.js';
import { commands } from './commands/index.js';

/** The package's version, from the package.json beside dist/ (the same file in a clone and in node_modules). */
function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

export function buildProgram(): Command {
  const program = new Command('tierdb')
    .description('Hot SQLite + cold zstd Parquet, one query bridge over both')
    .version(packageVersion(), '-V, --version', 'print the tierdb version')
    .option('--data-dir <dir>', 'data folder (env TIERDB_DATA_DIR, default data)')
    .option('--hot-path <file>', 'hot SQLite file (env TIERDB_HOT_PATH, default <data-dir>/hot.db)')
    .option('--registry <file>', 'registry module (env TIERDB_REGISTRY; default: tierdb.config.ts, .mjs or .js, else archive-registry.ts, in the working folder)')
    .option('--no-migrations', "adopt an existing app database: apply only tierdb's own tables")
    .showHelpAfterError()
    .exitOverride();
  for (const register of commands) register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof TierError) {
      process.stderr.write(`tierdb: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`tierdb: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv);
