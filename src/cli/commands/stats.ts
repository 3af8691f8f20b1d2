import type { Command } from 'commander';
import { collectStats } from '../../stats/collectStats.js';
import { formatStats } from '../../stats/formatStats.js';
import { cliContext, openCliStore, type GlobalOptions } from '../context.js';

export function registerStats(program: Command): void {
  program
    .command('stats')
    .description('per registered table: hot rows, oldest/newest time, bytes in the hot file')
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      const ctx = cliContext(global);
      const store = await openCliStore(global, ctx, { readonly: true });
      try {
        const stats = await collectStats(store);
        process.stdout.write(opts.json ? `${JSON.stringify(stats, null, 2)}\n` : `${formatStats(stats)}\n`);
      } finally {
        await store.close();
      }
    });
}
