import { type Command, InvalidArgumentError } from 'commander';
import { ArgumentError } from '../../errors.js';
import { DEMO_DEFAULTS } from '../../demo/generateDemoData.js';
import { runDemo, type DemoQueryReport } from '../../demo/runDemo.js';
import { formatRowsTable, toJson } from '../../query/formatRows.js';
import { formatBytes, formatCount, formatStats } from '../../stats/formatStats.js';
import { cliContext, type GlobalOptions } from '../context.js';
import { createProgress } from '../progress.js';
import { formatArchiveReport } from './archive.js';

interface DemoOptions {
  rows: number;
  days: number;
  seed: number;
  keep?: boolean;
  json?: boolean;
}

/** Parses `1000000` or `1_000_000`. */
function wholeNumber(value: string): number {
  const digits = value.replaceAll('_', '');
  if (!/^\d+$/.test(digits) || !Number.isSafeInteger(Number(digits))) throw new InvalidArgumentError(`expected a whole number, got ${JSON.stringify(value)}`);
  return Number(digits);
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('fill a fresh data folder with seeded WeChat-like demo data in five tables, archive old rows, print stats before and after')
    .option('--rows <n>', 'messages to generate (task_queue gets rows/4, rule_logs rows/2, audit_logs rows/20, media_signatures rows/10)', wholeNumber, DEMO_DEFAULTS.rows)
    .option('--days <n>', 'days the data spans, ending now', wholeNumber, DEMO_DEFAULTS.days)
    .option('--seed <n>', 'random seed: the same seed gives the same data', wholeNumber, DEMO_DEFAULTS.seed)
    .option('--keep', 'keep what is in the data folder: remove nothing; generate only when the demo tables are all empty')
    .option('--json', 'print the report as JSON')
    .action(async (opts: DemoOptions, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      if (global.migrations === false) throw new ArgumentError('demo builds the demo schema, so it cannot run with --no-migrations');
      // The demo brings its own registry (the WeChat preset's wechatRegistry): a registry file in the working
      // folder or TIERDB_REGISTRY is an app's and is left alone; naming one here would be ignored, so refuse it.
      if (global.registry) throw new ArgumentError(`demo uses its own registry (the demo tables); drop --registry ${global.registry}`);
      const ctx = cliContext(global);
      const report = await runDemo({
        config: ctx.config,
        logger: ctx.logger,
        progress: createProgress(),
        rows: opts.rows,
        days: opts.days,
        seed: opts.seed,
        keep: opts.keep ?? false,
      });
      if (opts.json) {
        // Query rows hold bigints: written as exact JSON numbers.
        process.stdout.write(`${toJson(report, 2)}\n`);
        return;
      }
      const seconds = (report.ms / 1000).toFixed(1);
      const lines = [
        report.generated
          ? `demo data: ${formatCount(Object.values(report.generated).reduce((a, b) => a + b, 0))} rows ` +
            `(${formatCount(report.options.rows)} messages over ${report.options.days} days, seed ${report.options.seed}) in ${seconds}s`
          : `demo data: kept the rows already in ${report.hotPath} (${seconds}s)`,
        `data folder ${report.dataDir}` +
          (report.archive
            ? `, hot file ${formatBytes(report.archive.hotBytesBefore)} -> ${formatBytes(report.archive.hotBytesAfter)} after archiving`
            : report.stats
              ? `, hot file ${formatBytes(report.stats.hot.fileBytes)}`
              : ''),
      ];
      if (report.statsBeforeArchive) lines.push('', 'before archiving:', formatStats(report.statsBeforeArchive));
      if (report.archive) lines.push('', 'archive:', formatArchiveReport(report.archive));
      if (report.stats) lines.push('', report.archive ? 'after archiving:' : '', formatStats(report.stats));
      if (report.queries && report.queries.length > 0) lines.push('', 'queries through store.bridge:', ...report.queries.map(formatDemoQuery));
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}

/** One demo query: what was asked, which tier answered and how fast, the rows. */
export function formatDemoQuery(q: DemoQueryReport): string {
  const files = q.coldFiles === 1 ? '1 cold file' : `${q.coldFiles} cold files`;
  const head = `- ${q.name}: ${q.tier}${q.coldFiles > 0 ? ` (${files})` : ''}, ${q.ms.toFixed(1)} ms`;
  const table = formatRowsTable(q.rows).split('\n').map((l) => `    ${l}`);
  return [head, `    ${q.call}`, ...table].join('\n');
}
