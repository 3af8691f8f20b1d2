import type { Command } from 'commander';
import type { CompactReport, RetentionReport } from '../../maintenance/Maintenance.js';
import { ArgumentError } from '../../errors.js';
import { valueToMs } from '../../registry/timeUnit.js';
import { openCliStore, type GlobalOptions } from '../context.js';
import { wholeNumberOption } from '../filterOptions.js';

interface CompactCliOptions {
  table?: string[];
  targetSize?: string;
  minFiles?: number;
  dryRun?: boolean;
  json?: boolean;
  retention?: boolean;
  now?: string;
}

const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;

export function formatRetentionReport(report: RetentionReport): string[] {
  const lines: string[] = [];
  for (const t of report.tables) {
    const verb = report.dryRun ? 'would remove' : 'removed';
    const what = report.dryRun
      ? `${t.filesRetired} whole files (${t.rowsRemoved} rows, ${mb(t.bytesRemoved)}) and the old rows of ${t.filesRewritten} files`
      : `${t.rowsRemoved} rows (${mb(t.bytesRemoved)}): ${t.filesRetired} files retired, ${t.filesRewritten} rewritten`;
    lines.push(`  ${t.table}: cold_days ${t.coldDays} (${t.coldDaysFrom}), rows before ${t.cutoff} — ${verb} ${what}`);
    if (t.error) lines.push(`    FAILED: ${t.error}`);
  }
  return lines;
}

export function formatCompactReport(report: CompactReport): string[] {
  const lines: string[] = [`${report.dryRun ? 'compaction dry run' : `compaction run ${report.runId}`}: target ${mb(report.targetBytes)}, ${report.durationMs} ms`];
  for (const t of report.tables) {
    if (t.groups.length === 0 && !t.error) {
      lines.push(`  ${t.table}: ${t.filesBefore} files, nothing to merge`);
      continue;
    }
    lines.push(
      report.dryRun
        ? `  ${t.table}: would merge ${t.groups.reduce((n, g) => n + g.inputs.length, 0)} of ${t.filesBefore} files into ${t.groups.length} (${t.filesBefore} -> ${t.filesAfter} files)`
        : `  ${t.table}: ${t.filesBefore} -> ${t.filesAfter} files, ${mb(t.bytesBefore)} -> ${mb(t.bytesAfter)}, ${t.rowsOut} rows` +
            (t.duplicatesDropped > 0 ? `, ${t.duplicatesDropped} duplicate keys resolved (newest run kept)` : ''),
    );
    if (t.error) lines.push(`    FAILED: ${t.error}`);
  }
  return lines;
}

/** `tierdb compact`: retention (tables with coldDays), then compaction of small cold files; thin over store.maintenance. */
export function registerCompact(program: Command): void {
  program
    .command('compact')
    .description('merge small cold files into files near the target size (verified, one manifest swap each); applies retention (coldDays) first')
    .option('--table <name...>', 'only these registered tables')
    .option('--target-size <size>', 'target file size, e.g. 128MB (env COMPACT_TARGET_SIZE)')
    .option('--min-files <n>', 'small files a table needs before it is merged (env COMPACT_MIN_FILES)', wholeNumberOption)
    .option('--no-retention', 'do not apply retention (coldDays) first')
    .option('--now <iso>', 'the clock retention uses instead of now (ISO-8601)')
    .option('--dry-run', 'report what would be merged and removed; change nothing')
    .option('--json', 'print the reports as JSON')
    .action(async (opts: CompactCliOptions, cmd: Command) => {
      let now: number | undefined;
      if (opts.now !== undefined) {
        now = valueToMs(opts.now.trim(), 'iso');
        if (Number.isNaN(now)) throw new ArgumentError(`--now ${JSON.stringify(opts.now)} is not an ISO-8601 time`);
      }
      const store = await openCliStore(cmd.optsWithGlobals<GlobalOptions>(), undefined, { readonly: opts.dryRun ?? false });
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        const tables = opts.table ? { tables: opts.table } : {};
        const retention = opts.retention === false ? undefined : await store.maintenance.applyRetention({ ...tables, dryRun: opts.dryRun ?? false, ...(now !== undefined ? { now } : {}) });
        const compact = await store.maintenance.compact({
          ...tables,
          dryRun: opts.dryRun ?? false,
          ...(opts.targetSize !== undefined ? { targetSize: opts.targetSize } : {}),
          ...(opts.minFiles !== undefined ? { minFiles: opts.minFiles } : {}),
          signal: controller.signal,
        });
        if (opts.json) process.stdout.write(`${JSON.stringify({ retention, compact }, null, 2)}\n`);
        else process.stdout.write(`${[...formatCompactReport(compact), ...(retention && retention.tables.length > 0 ? ['retention:', ...formatRetentionReport(retention)] : [])].join('\n')}\n`);
        if ([...compact.tables, ...(retention?.tables ?? [])].some((t) => t.error !== undefined)) process.exitCode = 1;
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        await store.close();
      }
    });
}
