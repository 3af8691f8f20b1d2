import type { Command } from 'commander';
import { ArgumentError } from '../../errors.js';
import type { RestoreReport } from '../../maintenance/Maintenance.js';
import { openCliStore, type GlobalOptions } from '../context.js';

interface RestoreCliOptions {
  table: string;
  since: string;
  until: string;
  dryRun?: boolean;
  json?: boolean;
}

export function formatRestoreReport(r: RestoreReport): string {
  const lines = [
    `${r.dryRun ? 'restore dry run' : `restore run ${r.runId}`}: ${r.table} rows in [${r.since}, ${r.until}), ${r.durationMs} ms`,
    `  ${r.rowsFound} cold rows in ${r.files.length} files; ${r.dryRun ? 'would restore' : 'restored'} ${r.rowsRestored} into the hot table` +
      (r.hotWins > 0 ? `; ${r.hotWins} keys were hot already (the hot row kept)` : ''),
  ];
  if (r.olderThanHotDays > 0) {
    lines.push(`  note: ${r.olderThanHotDays} of them are older than the table's hot_days: the next archive run moves them out again unless the table is disabled in the registry or its hot_days raised`);
  }
  return lines.join('\n');
}

/** `tierdb restore`: moves a table's cold rows in a time range back into SQLite; thin over store.maintenance.restore. */
export function registerRestore(program: Command): void {
  program
    .command('restore')
    .description('move a table\'s cold rows in [--since, --until) back into its hot table, exactly once (files rewritten without them)')
    .requiredOption('--table <name>', 'the registered table')
    .requiredOption('--since <iso>', 'rows at or after this time (ISO-8601, UTC unless it names an offset)')
    .requiredOption('--until <iso>', 'rows before this time (ISO-8601, exclusive)')
    .option('--dry-run', 'report what would be restored; change nothing')
    .option('--json', 'print the report as JSON')
    .action(async (opts: RestoreCliOptions, cmd: Command) => {
      for (const [flag, value] of [['--since', opts.since], ['--until', opts.until]] as const) {
        if (!/^\d{4}-\d\d-\d\d/.test(value.trim())) throw new ArgumentError(`${flag} ${JSON.stringify(value)} is not an ISO-8601 time (e.g. 2026-01-05 or 2026-01-05T12:00:00Z)`);
      }
      const store = await openCliStore(cmd.optsWithGlobals<GlobalOptions>(), undefined, { readonly: opts.dryRun ?? false });
      try {
        const report = await store.maintenance.restore({ table: opts.table, since: opts.since, until: opts.until, dryRun: opts.dryRun ?? false });
        process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatRestoreReport(report)}\n`);
      } finally {
        await store.close();
      }
    });
}
