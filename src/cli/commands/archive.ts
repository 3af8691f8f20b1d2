import type { Command } from 'commander';
import type { ArchiveReport } from '../../archive/ArchiveReport.js';
import { valueToMs } from '../../registry/timeUnit.js';
import { ArgumentError } from '../../errors.js';
import { openCliStore, type GlobalOptions } from '../context.js';
import { createProgress } from '../progress.js';
import { formatRetentionReport } from './compact.js';

interface ArchiveOptions {
  table?: string[];
  dryRun?: boolean;
  now?: string;
  json?: boolean;
}

const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;

export function formatArchiveReport(report: ArchiveReport): string {
  const lines = [
    `${report.dryRun ? 'dry run' : `run ${report.runId}`}: ${report.durationMs} ms, hot file ${mb(report.hotBytesBefore)} -> ${mb(report.hotBytesAfter)}${report.aborted ? ' (stopped early)' : ''}`,
  ];
  for (const t of report.tables) {
    if (report.dryRun) {
      const rows = (t.plan ?? []).reduce((a, p) => a + p.rows, 0);
      lines.push(
        `  ${t.table}: hot_days ${t.hotDays} (${t.hotDaysFrom}), would move ${rows} rows in ${t.partitions} partitions (~${mb(t.bytesIn)} hot), cutoff ${t.cutoff}`,
      );
      for (const r of t.refused) lines.push(`    would refuse ${r.partition}: ${r.reason}`);
      if (t.error) lines.push(`    CANNOT ARCHIVE: ${t.error}`);
      continue;
    }
    let line = `  ${t.table}: moved ${t.rowsMoved} rows into ${t.files} files, ${mb(t.bytesOut)} cold (x${t.ratio.toFixed(1)} smaller), ${t.durationMs} ms`;
    if (t.pendingWritten) line += `, ${t.pendingWritten} files waiting for the grace period`;
    if (t.pendingCommitted) line += `, ${t.pendingCommitted} grace files committed`;
    if (t.abandoned) line += `, ${t.abandoned} chunks changed meanwhile (retried next run)`;
    lines.push(line);
    for (const r of t.refused) lines.push(`    refused ${r.partition}: ${r.reason}`);
    if (t.error) lines.push(`    FAILED: ${t.error}`);
  }
  return lines.join('\n');
}

export function registerArchive(program: Command): void {
  program
    .command('archive')
    .description('move rows older than each table\'s hot_days into zstd Parquet (exactly once, verified)')
    .option('--table <name...>', 'only these registered tables')
    .option('--dry-run', 'report the days, rows and bytes that would move; write nothing')
    .option('--now <iso>', 'the clock to use instead of now (ISO-8601)')
    .option('--json', 'print the report as JSON')
    .action(async (opts: ArchiveOptions, cmd: Command) => {
      let now: number | undefined;
      if (opts.now !== undefined) {
        now = valueToMs(opts.now.trim(), 'iso');
        if (Number.isNaN(now)) throw new ArgumentError(`--now ${JSON.stringify(opts.now)} is not an ISO-8601 time`);
      }
      const store = await openCliStore(cmd.optsWithGlobals<GlobalOptions>(), undefined, { readonly: opts.dryRun ?? false });
      const progress = createProgress();
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        let current = '';
        const report = await store.archiver.run({
          ...(opts.table ? { tables: opts.table } : {}),
          dryRun: opts.dryRun ?? false,
          ...(now !== undefined ? { now } : {}),
          signal: controller.signal,
          onProgress: (p) => {
            if (p.table !== current) {
              current = p.table;
              progress.start(p.rowsTotal, p.table);
            }
            progress.update(p.rowsDone, `${p.table} ${p.partition}`);
          },
        });
        progress.stop();
        // A dry run also shows what retention (coldDays) would remove.
        const retention = opts.dryRun ? await store.maintenance.applyRetention({ ...(opts.table ? { tables: opts.table } : {}), dryRun: true, ...(now !== undefined ? { now } : {}) }) : undefined;
        const text = [formatArchiveReport(report), ...(retention && retention.tables.length > 0 ? ['retention:', ...formatRetentionReport(retention)] : [])].join('\n');
        process.stdout.write(opts.json ? `${JSON.stringify(retention ? { ...report, retention } : report, null, 2)}\n` : `${text}\n`);
        if (report.tables.some((t) => t.error !== undefined)) process.exitCode = 1;
      } finally {
        progress.stop();
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        await store.close();
      }
    });
}
