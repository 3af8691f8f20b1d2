import path from 'node:path';
import type { Command } from 'commander';
import { valueToMs } from '../../registry/timeUnit.js';
import { ArgumentError } from '../../errors.js';
import { formatInit } from '../../init/formatInit.js';
import { DEFAULT_INIT_HOT_DAYS } from '../../init/planInit.js';
import { DEFAULT_REGISTRY_FILE, runInit } from '../../init/runInit.js';
import { cliContext, type GlobalOptions } from '../context.js';

interface InitOptions {
  out?: string;
  hotDays?: string;
  force?: boolean;
  now?: string;
  json?: boolean;
}

/** A shell word as typed: quoted only when it must be. */
const shellWord = (s: string): string => (/^[\w./:=@+-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('inspect an existing SQLite file (--hot-path app.db, read-only) and write a registry suggesting how to tier each table')
    .option('--out <file>', `the registry file to write (.mjs/.js, or .ts) (default ${DEFAULT_REGISTRY_FILE})`)
    .option('--hot-days <n>', `hotDays to suggest and plan the first archive with (default ${DEFAULT_INIT_HOT_DAYS})`)
    .option('--force', 'replace --out when it exists')
    .option('--now <iso>', 'the clock to use instead of now (ISO-8601)')
    .option('--json', 'print the inspection and plan as JSON')
    .action(async (opts: InitOptions, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      let hotDays: number | undefined;
      if (opts.hotDays !== undefined) {
        hotDays = /^\d+$/.test(opts.hotDays.trim()) ? Number(opts.hotDays) : NaN;
        if (!Number.isSafeInteger(hotDays)) throw new ArgumentError(`--hot-days ${JSON.stringify(opts.hotDays)} is invalid; expected a whole number >= 0`);
      }
      let now: number | undefined;
      if (opts.now !== undefined) {
        now = valueToMs(opts.now.trim(), 'iso');
        if (Number.isNaN(now)) throw new ArgumentError(`--now ${JSON.stringify(opts.now)} is not an ISO-8601 time`);
      }
      const { config } = cliContext(global);
      const out = path.resolve(opts.out ?? DEFAULT_REGISTRY_FILE);
      const rel = (p: string) => shellWord(path.relative(process.cwd(), p) || p);
      const globals = `--hot-path ${rel(config.hotPath)} --data-dir ${rel(config.dataDir)} --registry ${rel(out)} --no-migrations`;
      const report = await runInit({
        hotPath: config.hotPath,
        out,
        force: opts.force ?? false,
        ...(hotDays !== undefined ? { hotDays } : {}),
        ...(now !== undefined ? { now } : {}),
        usage: `tierdb ${globals} migrate && tierdb ${globals} archive --dry-run`,
      });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(report.plan, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `${formatInit(report)}\n\nnext: review ${rel(out)}, then (the database is not touched until here; migrate adds only tierdb's _tierdb_ tables)\n` +
          `  tierdb ${globals} migrate\n  tierdb ${globals} archive --dry-run\n  tierdb ${globals} archive\n`,
      );
    });
}
