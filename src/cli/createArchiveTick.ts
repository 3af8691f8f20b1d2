/**
 * One scheduled tick of `tierdb serve`: runs the archiver unless a run of this
 * daemon is still going. A tick that finds another archiver holding the lease
 * (LeaseHeldError: another `tierdb archive` or `serve` on the same store) is
 * skipped and logged at info: that is the lease doing its job, not a failed
 * run. Any other error is a failed run (error level). Each run's end (its
 * summary to ARCHIVE_WEBHOOK_URL, serve's metrics and health) is notified by the
 * archiver itself, through the store's RunNotifier, before `run()` settles.
 */
import type { ArchiveReport, ArchiveRunOptions } from '../archive/ArchiveReport.js';
import { LeaseHeldError } from '../errors.js';
import type { Logger } from '../logger.js';

export interface ArchiveTick {
  /** Runs the archiver once (what the cron schedule calls); never throws. */
  tick(): Promise<void>;
  /** The run in progress, if any (to wait for at shutdown). */
  current(): Promise<void> | undefined;
}

export function createArchiveTick(
  archiver: { run(options: ArchiveRunOptions): Promise<ArchiveReport> },
  log: Logger,
  signal: AbortSignal,
  /** After an archive run that was not stopped: maintenance (retention, then compaction; COMPACT_ENABLED). Its failure is logged, never thrown. */
  afterArchive?: () => Promise<unknown>,
): ArchiveTick {
  let running: Promise<void> | undefined;
  const tick = async (): Promise<void> => {
    if (running || signal.aborted) {
      log.warn({}, 'previous archive run still going; this tick is skipped');
      return;
    }
    running = (async () => {
      try {
        const report = await archiver.run({ signal });
        log.info(
          { runId: report.runId, ms: report.durationMs, tables: report.tables.map((t) => ({ table: t.table, rows: t.rowsMoved, error: t.error })) },
          'archive run finished',
        );
        if (afterArchive && !signal.aborted && !report.aborted) {
          try {
            await afterArchive();
            log.info({}, 'maintenance finished (retention, compaction)');
          } catch (error) {
            if (error instanceof LeaseHeldError) log.info({ skipped: true, reason: error.message }, 'maintenance skipped: another archiver holds the lease');
            else log.error({ err: error }, 'maintenance failed');
          }
        }
      } catch (error) {
        if (error instanceof LeaseHeldError) log.info({ skipped: true, reason: error.message }, 'archive tick skipped: another archiver holds the lease');
        else log.error({ err: error }, 'archive run failed');
      } finally {
        running = undefined;
      }
    })();
    await running;
  };
  return { tick, current: () => running };
}
