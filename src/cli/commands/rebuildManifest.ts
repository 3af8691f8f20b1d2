import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { ArgumentError } from '../../errors.js';
import { formatRebuildReport } from '../../maintenance/formatRebuildReport.js';
import { cliContext, openCliStore, type GlobalOptions } from '../context.js';
import { createProgress } from '../progress.js';

interface RebuildOptions {
  dryRun?: boolean;
  json?: boolean;
  table?: string[];
  adopt?: string;
  dropUnverified?: boolean;
}

export function registerRebuildManifest(program: Command): void {
  program
    .command('rebuild-manifest')
    .description(
      "rebuild the manifest from the cold tree's footers after the hot file was lost, restored from an older backup, or its manifest damaged: " +
        'every file verified before it is listed; a key hot and cold -> hot wins, a key in two files -> the newer run wins (both reported); ' +
        'exit 1 when files were left unlisted or manifest rows point at missing or damaged files',
    )
    .option('--dry-run', 'report what would be listed, retired and rewritten; write nothing')
    .option('--json', 'print the report as JSON')
    .option('--table <name...>', 'only these registered tables')
    .option('--adopt <store-id>', "a new hot database (the old one is lost) takes over the cold tree whose marker (cold/_tierdb_store.json) holds this store id")
    .option('--drop-unverified', 'drop manifest rows whose file is missing or fails verification (default: keep them, so queries fail naming the file)')
    .action(async (opts: RebuildOptions, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const ctx = cliContext(globals);
      if (opts.dryRun && !existsSync(ctx.config.hotPath)) {
        throw new ArgumentError(
          `a dry run needs the hot database ${ctx.config.hotPath}, which does not exist (it never creates one); ` +
            'run rebuild-manifest --adopt <store id> without --dry-run to rebuild into a new database',
        );
      }
      // No recovery at open: with a damaged manifest it must not judge the tree's files.
      const store = await openCliStore(globals, ctx, {
        readonly: opts.dryRun ?? false,
        recover: false,
        ...(opts.adopt !== undefined ? { adoptColdTree: opts.adopt } : {}),
      });
      const progress = createProgress();
      try {
        let phase = '';
        const report = await store.maintenance.rebuildManifest({
          dryRun: opts.dryRun ?? false,
          ...(opts.table ? { tables: opts.table } : {}),
          ...(opts.dropUnverified ? { dropUnverified: true } : {}),
          onProgress: (p) => {
            const label = p.table === undefined ? p.phase : `${p.phase} ${p.table}`;
            if (label !== phase) {
              phase = label;
              progress.start(p.total, label);
            }
            progress.update(p.done);
          },
        });
        progress.stop();
        process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatRebuildReport(report));
        if (report.problems.length > 0 || report.unverified.length > 0) process.exitCode = 1;
      } finally {
        progress.stop();
        await store.close();
      }
    });
}
