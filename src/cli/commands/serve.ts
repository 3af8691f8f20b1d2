import type { Command } from 'commander';
import cron from 'node-cron';
import { openCliStore, cliContext, type GlobalOptions } from '../context.js';

/**
 * `tierdb serve`: the nightly job. Runs the archiver on ARCHIVE_CRON, never two
 * runs at once; SIGTERM/SIGINT stop it between chunks, never mid-chunk.
 */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the archiver on ARCHIVE_CRON (the scheduled daemon); stops cleanly on SIGTERM/SIGINT')
    .action(async (_opts: object, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const ctx = cliContext(globals);
      const log = ctx.logger.child({ subsystem: 'serve' });
      if (!ctx.config.autoArchiveEnabled) {
        log.info({}, 'AUTO_ARCHIVE_ENABLED=false: automatic archiving is off, nothing is scheduled');
        return;
      }
      const store = await openCliStore(globals, ctx);
      const controller = new AbortController();
      let running: Promise<void> | undefined;
      const job = async () => {
        if (running || controller.signal.aborted) {
          log.warn({}, 'previous archive run still going; this tick is skipped');
          return;
        }
        running = (async () => {
          try {
            const report = await store.archiver.run({ signal: controller.signal });
            log.info(
              { runId: report.runId, ms: report.durationMs, tables: report.tables.map((t) => ({ table: t.table, rows: t.rowsMoved, error: t.error })) },
              'archive run finished',
            );
          } catch (error) {
            log.error({ err: error }, 'archive run failed');
          } finally {
            running = undefined;
          }
        })();
        await running;
      };
      const task = cron.schedule(ctx.config.archiveCron, job, { noOverlap: true, name: 'tierdb-archive' });
      log.info({ cron: ctx.config.archiveCron, hot: ctx.config.hotPath }, 'serving: archive runs scheduled');
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          log.info({ signal }, 'stopping: finishing the current chunk');
          controller.abort();
          resolve();
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
      await task.stop();
      await task.destroy();
      if (running) await running;
      await store.close();
      log.info({}, 'stopped');
    });
}
