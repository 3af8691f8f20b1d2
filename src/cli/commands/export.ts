import path from 'node:path';
import type { Command } from 'commander';
import { ArgumentError } from '../../errors.js';
import { EXPORT_FORMATS, exportTable, type ExportFormat } from '../../export/exportTable.js';
import { parseRowFormat } from '../../query/formatRows.js';
import { openCliStore, type GlobalOptions } from '../context.js';
import { addFilterOptions, buildQueryOptions, wholeNumberOption, type FilterOptions } from '../filterOptions.js';
import { createProgress } from '../progress.js';

interface ExportCommandOptions extends FilterOptions {
  format?: string;
  out?: string;
  force?: boolean;
  batchSize: number;
}

export function registerExport(program: Command): void {
  const cmd = program
    .command('export')
    .description('stream one table (hot and cold) into a Parquet (zstd), CSV or JSONL file')
    .argument('<table>', 'a registered table');
  addFilterOptions(cmd)
    .option('--format <fmt>', 'parquet, csv or jsonl (default: from the --out extension)')
    .option('--out <file>', 'the file to write (written under a temp name, then renamed)')
    .option('--force', 'replace --out when it exists')
    .option('--batch-size <n>', 'rows handled at a time', wholeNumberOption, 10_000)
    .action(async (table: string, opts: ExportCommandOptions, command: Command) => {
      if (opts.out === undefined) throw new ArgumentError('export needs --out <file>');
      const ext = path.extname(opts.out).slice(1).toLowerCase();
      if (opts.format === undefined && !(EXPORT_FORMATS as readonly string[]).includes(ext)) {
        throw new ArgumentError(`export needs --format parquet|csv|jsonl (the extension of ${opts.out} does not name one)`);
      }
      const format = parseRowFormat(opts.format ?? ext, EXPORT_FORMATS) as ExportFormat;
      if (opts.batchSize < 1) throw new ArgumentError('--batch-size must be at least 1');
      const store = await openCliStore(command.optsWithGlobals<GlobalOptions>(), undefined, { readonly: true });
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        const report = await exportTable(store, table, buildQueryOptions(store.table(table), opts), {
          format,
          out: opts.out,
          force: opts.force ?? false,
          batchSize: opts.batchSize,
          ...(process.stderr.isTTY ? { progress: createProgress() } : {}),
          signal: controller.signal,
        });
        process.stdout.write(`exported ${report.rows} rows of ${table} to ${report.out} (${report.format}, ${report.bytes} bytes, ${report.ms} ms)\n`);
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        await store.close();
      }
    });
}
