import type { Command } from 'commander';
import { ArgumentError } from '../../errors.js';
import { loadConfig, parseColdUrl, readEnv } from '../../config.js';
import { peekColdLocation } from '../../manifest/coldLocation.js';
import { createCliLogger } from '../../logger.js';
import type { MigrateColdReport } from '../../maintenance/Maintenance.js';
import { cliContext, openCliStore, type GlobalOptions } from '../context.js';

interface MigrateColdCliOptions {
  to: string;
  json?: boolean;
}

export function formatMigrateColdReport(r: MigrateColdReport): string {
  const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
  if (r.alreadyMigrated) {
    return [
      `migrate-cold run ${r.runId}: the manifest already names ${r.to} (${r.files} files, ${mb(r.bytes)}), ${r.durationMs} ms`,
      r.localRemoved > 0
        ? `  ${r.localRemoved} local files an interrupted migration left were removed, each confirmed in ${r.to} first`
        : '  no local files were left: nothing to do',
    ].join('\n');
  }
  return [
    `migrate-cold run ${r.runId}: ${r.from} -> ${r.to}, ${r.durationMs} ms`,
    `  ${r.files} files (${mb(r.bytes)}): ${r.uploaded} uploaded and confirmed, ${r.alreadyThere} already there (checked)` +
      (r.skippedGone > 0 ? `, ${r.skippedGone} retired files already gone` : ''),
    `  the manifest now names ${r.to}; ${r.localRemoved} local files removed`,
    `  from now on run tierdb with TIERDB_COLD_URL=${r.to}`,
  ].join('\n');
}

/** `tierdb migrate-cold --to s3://bucket/prefix`: moves the local cold tree to object storage; thin over store.maintenance.migrateCold. */
export function registerMigrateCold(program: Command): void {
  program
    .command('migrate-cold')
    .description('copy the cold tree to object storage, verify every object, switch the manifest in one transaction, then remove the local files')
    .requiredOption('--to <url>', 'the new tree: s3://bucket/prefix (AWS_ENDPOINT_URL, AWS_REGION and credentials as for TIERDB_COLD_URL)')
    .option('--json', 'print the report as JSON')
    .action(async (opts: MigrateColdCliOptions, cmd: Command) => {
      const to = parseColdUrl(opts.to);
      if (to === undefined) throw new ArgumentError(`--to ${JSON.stringify(opts.to)} is not s3://bucket or s3://bucket/prefix`);
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      let ctx = cliContext(globals);
      // A migration that was switched already (killed before it removed the local files): open with the
      // new tree, as the manifest now demands; the run removes what was left and reports it.
      if (peekColdLocation(ctx.config.hotPath) === to.url && ctx.config.coldUrl?.url !== to.url) {
        const env = readEnv();
        if (globals.registry) env.TIERDB_REGISTRY = globals.registry;
        const config = loadConfig({ env: { ...env, TIERDB_COLD_URL: to.url }, dataDir: ctx.config.dataDir, hotPath: ctx.config.hotPath });
        ctx = { config, logger: createCliLogger(config.logLevel) };
      }
      const store = await openCliStore(globals, ctx, { recover: false });
      try {
        const report = await store.maintenance.migrateCold({ to: opts.to });
        process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatMigrateColdReport(report)}\n`);
      } finally {
        await store.close();
      }
    });
}
