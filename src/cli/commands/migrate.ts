import type { Command } from 'commander';
import { presetByName } from '../../presets/presetByName.js';
import { cliContext, openCliStore, type GlobalOptions } from '../context.js';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description("create or upgrade the hot database: tierdb's own _tierdb_ tables, and a preset's tables with --preset (or when the registry names one)")
    .option('--preset <name>', 'also create a preset schema shipped with tierdb: wechat (the demo tables)')
    .action(async (_opts: object, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions & { preset?: string }>();
      const preset = opts.preset === undefined ? undefined : presetByName(opts.preset);
      const store = await openCliStore(opts, cliContext(opts), preset ? { preset } : {});
      try {
        process.stdout.write(`migrated ${store.hot.path}${store.hot.preset ? ` (preset ${store.hot.preset.name})` : ''}\n`);
      } finally {
        await store.close();
      }
    });
}
