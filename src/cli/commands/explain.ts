import type { Command } from 'commander';
import { toJson } from '../../query/formatRows.js';
import { openCliStore, type GlobalOptions } from '../context.js';
import { addFilterOptions, buildQueryOptions, type FilterOptions } from '../filterOptions.js';

interface ExplainOptions extends FilterOptions {
  json?: boolean;
}

export function registerExplain(program: Command): void {
  const cmd = program
    .command('explain')
    .description('what `tierdb query` with the same filters would read: hot rows or not, the cold files left after pruning, the cache')
    .argument('<table>', 'a registered table');
  addFilterOptions(cmd)
    .option('--json', 'print the plan as JSON')
    .action(async (table: string, opts: ExplainOptions, command: Command) => {
      const store = await openCliStore(command.optsWithGlobals<GlobalOptions>(), undefined, { readonly: true });
      try {
        const options = buildQueryOptions(store.table(table), opts);
        const plan = await store.bridge.explain(table, options);
        const live = (await store.bridge.explain(table, {})).coldFiles.length;
        const tier = plan.hot ? (plan.coldFiles.length > 0 ? 'hot+cold' : 'hot') : plan.coldFiles.length > 0 ? 'cold' : 'none';
        if (opts.json) {
          process.stdout.write(`${toJson({ table, query: options, tier, ...plan, liveFiles: live, prunedFiles: live - plan.coldFiles.length }, 2)}\n`);
          return;
        }
        const lines = [
          `table ${table}: answered from ${tier === 'none' ? 'nothing (no row can match)' : tier}`,
          `hot (SQLite): ${plan.hot ? 'read' : 'no matching hot rows'}`,
          `cold (Parquet): ${plan.coldFiles.length} of ${live} live files read, ${live - plan.coldFiles.length} pruned by the manifest`,
          ...plan.coldFiles.map((f) => `  ${f}`),
          `cold result cache: ${plan.cache ? 'hit' : 'miss'}`,
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        await store.close();
      }
    });
}
