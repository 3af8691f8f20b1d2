import type { Command } from 'commander';
import { formatValidationReport } from '../../archive/formatValidationReport.js';
import { validateColdFiles } from '../../archive/validateColdFiles.js';
import { DuckDbEngine } from '../../cold/DuckDbEngine.js';
import { openCliStore, type GlobalOptions } from '../context.js';
import { createProgress } from '../progress.js';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check every cold file against the manifest (present, same size and sha256, readable, same rows and key checksum), keys stored twice, and files the manifest does not list; exit 1 on a damaged or missing file or a duplicate key')
    .option('--table <name>', 'only this table')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { table?: string; json?: boolean }, cmd: Command) => {
      const store = await openCliStore(cmd.optsWithGlobals<GlobalOptions>(), undefined, { readonly: true });
      const engine = await DuckDbEngine.create({ memoryLimit: store.config.duckdbMemoryLimit, threads: store.config.archiveMaxWorkers });
      const progress = createProgress();
      try {
        if (opts.table !== undefined) store.table(opts.table);
        progress.start(0, 'validate');
        const report = await validateColdFiles(store.hot.raw, engine, store.cold, {
          ...(opts.table !== undefined ? { table: opts.table } : {}),
          onFile: (done, total) => {
            if (done === 1) progress.start(total, 'validate');
            progress.update(done);
          },
        });
        progress.stop();
        if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else process.stdout.write(formatValidationReport(report));
        if (report.problems.length > 0 || report.duplicateKeys.length > 0) process.exitCode = 1;
      } finally {
        progress.stop();
        engine.close();
        await store.close();
      }
    });
}
