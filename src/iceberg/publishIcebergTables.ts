/**
 * Publishing several tables in one run that holds the lease: each on its own
 * (a table that fails is reported and the others go on, unless `strict`), in
 * registry order.
 */
import type { ResolvedTable } from '../registry/resolveRegistry.js';
import type { IcebergPublishContext } from './IcebergPublishContext.js';
import type { IcebergPublishReport, IcebergTableReport } from './IcebergPublishReport.js';
import { publishIcebergTable } from './publishIcebergTable.js';

export interface PublishIcebergOptions {
  /** Registered tables to publish (default: every enabled table). */
  tables?: readonly string[];
  /** Throw the first table's failure instead of reporting it (erase uses this: it must not unlink files a snapshot lists). */
  strict?: boolean;
  /** The clock for snapshot ages (default: now). */
  now?: Date | number;
}

export async function publishIcebergTables(ctx: IcebergPublishContext, tables: readonly ResolvedTable[], options: PublishIcebergOptions = {}): Promise<IcebergPublishReport> {
  const started = Date.now();
  const now = options.now === undefined ? undefined : options.now instanceof Date ? options.now.getTime() : options.now;
  const reports: IcebergTableReport[] = [];
  for (const t of tables) {
    const tableStarted = Date.now();
    try {
      reports.push(await publishIcebergTable(ctx, t, now === undefined ? {} : { now }));
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (options.strict || code === 'TIERDB_LEASE_LOST' || code === 'TIERDB_CLOSED') throw error;
      ctx.logger.error({ table: t.table, err: error }, 'publishing the table as Iceberg failed; readers keep its previous snapshot');
      reports.push({
        table: t.table,
        status: 'failed',
        snapshotId: null,
        sequenceNumber: null,
        metadataVersion: null,
        manifestVersion: 0,
        dataFiles: 0,
        addedFiles: 0,
        removedFiles: 0,
        deleteFiles: 0,
        deletedRows: 0,
        rows: 0,
        dataBytes: 0,
        metadataBytes: 0,
        expiredSnapshots: 0,
        metadataLocation: null,
        durationMs: Date.now() - tableStarted,
        error: (error as Error).message,
      });
    }
  }
  return { kind: 'publish', runId: ctx.runId, startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, tables: reports };
}
