import type { Command } from 'commander';
import { parseRowFormat, ROW_FORMATS, RowWriter } from '../../query/formatRows.js';
import { openCliStore, type GlobalOptions } from '../context.js';
import { addFilterOptions, buildQueryOptions, type FilterOptions } from '../filterOptions.js';

interface QueryCommandOptions extends FilterOptions {
  format: string;
}

export function registerQuery(program: Command): void {
  const cmd = program
    .command('query')
    .description('rows of one registered table, hot and cold alike (store.bridge.stream)')
    .argument('<table>', 'a registered table');
  addFilterOptions(cmd)
    .option('--format <fmt>', `output: ${ROW_FORMATS.filter((f) => f !== 'jsonl').join(', ')}`, 'table')
    .action(async (table: string, opts: QueryCommandOptions, command: Command) => {
      const format = parseRowFormat(opts.format, ['table', 'json', 'csv', 'ndjson']);
      const store = await openCliStore(command.optsWithGlobals<GlobalOptions>(), undefined, { readonly: true });
      try {
        const options = buildQueryOptions(store.table(table), opts);
        const columns = options.columns ?? store.table(table).columns.map((c) => c.name);
        const writer = new RowWriter(process.stdout, format, columns);
        for await (const row of store.bridge.stream(table, options)) await writer.write(row);
        await writer.end();
      } finally {
        await store.close();
      }
    });
}
