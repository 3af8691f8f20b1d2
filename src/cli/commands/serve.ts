import type { Command } from 'commander';
import { openCliStore, cliContext, type GlobalOptions } from '../context.js';
import { createArchiveTick } from '../createArchiveTick.js';
import { METRICS_HOST } from '../../serve/MetricsServer.js';
import type { WatchedMetricsServer } from '../../serve/startMetricsServer.js';

/**
 * `tierdb serve`: the nightly job. Runs the archiver on ARCHIVE_CRON, never two
 * runs at once (createArchiveTick.ts; a tick skipped because another archiver
 * holds the lease is logged at info); SIGTERM/SIGINT stop it between chunks, never mid-chunk.
 * With TIERDB_METRICS_PORT, `/healthz` and `/metrics` on 127.0.0.1 (startMetricsServer.ts).
 * Each run's summary goes to ARCHIVE_WEBHOOK_URL from the archiver itself (RunNotifier).
 * node-cron and the metrics server (prom-client, ~85 modules with @opentelemetry/api) are
 * imported when `serve` runs: every other command starts without them (~0.07 s of each start).
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
      const [{ default: cron }, { startMetricsServer }] = await Promise.all([import('node-cron'), import('../../serve/startMetricsServer.js')]);
      const store = await openCliStore(globals, ctx);
      let monitor: WatchedMetricsServer | undefined;
      if (ctx.config.metricsPort !== undefined) {
        try {
          monitor = await startMetricsServer(store, { port: ctx.config.metricsPort, logger: ctx.logger.child({ subsystem: 'metrics' }) });
        } catch (error) {
          await store.close();
          throw error;
        }
        log.info({ url: monitor.url, port: monitor.port, host: METRICS_HOST }, `health and metrics on ${monitor.url}/healthz and ${monitor.url}/metrics`);
      }
      const controller = new AbortController();
      const job = createArchiveTick(store.archiver, log, controller.signal, ctx.config.compactEnabled ? () => store.maintenance.run({ signal: controller.signal }) : undefined);
      const task = cron.schedule(ctx.config.archiveCron, job.tick, { noOverlap: true, name: 'tierdb-archive' });
      log.info(
        { cron: ctx.config.archiveCron, hot: ctx.config.hotPath, webhook: store.notifier.webhook?.target ?? null },
        'serving: archive runs scheduled',
      );
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
      await job.current();
      await monitor?.close();
      await store.close();
      log.info({}, 'stopped');
    });
}
