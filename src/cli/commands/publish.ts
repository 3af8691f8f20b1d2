import type { Command } from 'commander';
import type { IcebergPublishReport } from '../../maintenance/Maintenance.js';
import { ArgumentError } from '../../errors.js';
import { openCliStore, type GlobalOptions } from '../context.js';

interface PublishCliOptions {
  table?: string[];
  json?: boolean;
}

const kb = (n: number) => `${(n / 1e3).toFixed(1)} kB`;

export function formatPublishReport(report: IcebergPublishReport): string[] {
  const lines = [`iceberg publish run ${report.runId}: ${report.tables.length} tables, ${report.durationMs} ms`];
  for (const t of report.tables) {
    if (t.status === 'failed') lines.push(`  ${t.table}: FAILED: ${t.error}`);
    else if (t.status === 'empty') lines.push(`  ${t.table}: no cold files, nothing to publish`);
    else if (t.status === 'unchanged') lines.push(`  ${t.table}: unchanged (snapshot ${t.sequenceNumber}, ${t.metadataLocation})`);
    else {
      lines.push(
        `  ${t.table}: snapshot ${t.sequenceNumber} (id ${t.snapshotId}): ${t.dataFiles} data files (+${t.addedFiles} -${t.removedFiles}), ${t.rows} rows` +
          (t.deletedRows > 0 ? `, ${t.deletedRows} deleted by position deletes` : '') +
          `, metadata ${kb(t.metadataBytes)} for ${kb(t.dataBytes)} of data, ${t.expiredSnapshots} snapshots expired, ${t.durationMs} ms`,
      );
      lines.push(`    ${t.metadataLocation}`);
    }
  }
  return lines;
}

/** `tierdb publish iceberg`: every table's cold tier as an Apache Iceberg v2 table; thin over store.maintenance.publishIceberg. */
export function registerPublish(program: Command): void {
  program
    .command('publish')
    .description('publish the cold tier for other engines: `tierdb publish iceberg` writes an Apache Iceberg v2 table per registered table (docs/ICEBERG.md)')
    .argument('<format>', 'iceberg (the only format)')
    .option('--table <name...>', 'only these registered tables')
    .option('--json', 'print the report as JSON')
    .action(async (format: string, opts: PublishCliOptions, cmd: Command) => {
      if (format !== 'iceberg') throw new ArgumentError(`publish format ${JSON.stringify(format)} is unknown: expected iceberg`);
      const store = await openCliStore(cmd.optsWithGlobals<GlobalOptions>());
      try {
        const report = await store.maintenance.publishIceberg(opts.table ? { tables: opts.table } : {});
        process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatPublishReport(report).join('\n')}\n`);
        if (report.tables.some((t) => t.status === 'failed')) process.exitCode = 1;
      } finally {
        await store.close();
      }
    });
}
