import type { ResolvedTable } from '../registry/resolveRegistry.js';
import type { TableReport } from './ArchiveReport.js';
import { partitionBoundaryMs } from './partitionScan.js';

/** A table's report before anything ran: every count zero, the cutoff set. */
export function emptyTableReport(t: ResolvedTable, now: number): TableReport {
  return {
    table: t.table,
    hotDays: t.hotDays,
    hotDaysFrom: t.hotDaysFrom,
    cutoff: new Date(partitionBoundaryMs(t, now)).toISOString(),
    rowsMoved: 0,
    files: 0,
    partitions: 0,
    bytesIn: 0,
    bytesOut: 0,
    ratio: 0,
    durationMs: 0,
    pendingWritten: 0,
    pendingCommitted: 0,
    abandoned: 0,
    masked: 0,
    refused: [],
  };
}
