import type { Command } from 'commander';
import { openCliStore, type GlobalOptions } from '../context.js';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description("create or upgrade the hot database: tierdb's own tables and (unless --no-migrations) the app schema")
    .action(async (_opts: object, cmd: Command) => {
      const store = await openCliStore(cmd.optsWithGlobals<GlobalOptions>());
      try {
        process.stdout.write(`migrated ${store.hot.path}\n`);
      } finally {
        await store.close();
      }
    });
}
