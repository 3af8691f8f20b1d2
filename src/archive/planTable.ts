import type { ResolvedTable } from '../registry/resolveRegistry.js';
import type { ArchiveContext } from './ArchiveContext.js';
import type { PartitionPlan, TableReport } from './ArchiveReport.js';
import { emptyTableReport } from './emptyTableReport.js';
import { hotBytesPerRow } from './hotBytesPerRow.js';
import { nextPartition, partitionBoundaryMs, refuseUnplaceable, yieldToEventLoop, type ScanCursor } from './partitionScan.js';
import { assertKeysNotReusable, readTableShape } from './TableShape.js';
import { boundForColumn } from '../registry/timeUnit.js';

/** The dry run of one table: the partitions that would move, their rows and estimated SQLite bytes. Writes nothing. */
export async function planTable(ctx: Pick<ArchiveContext, 'raw' | 'logger'>, t: ResolvedTable, now: number, signal: AbortSignal | undefined): Promise<TableReport> {
  const report = emptyTableReport(t, now);
  const s = readTableShape(ctx.raw, t);
  try {
    assertKeysNotReusable(ctx.raw, s);
  } catch (error) {
    report.error = (error as Error).message;
    return report;
  }
  const boundaryMs = partitionBoundaryMs(t, now);
  const perRow = hotBytesPerRow(ctx.raw, t.table);
  const plan: PartitionPlan[] = [];
  const count = ctx.raw.prepare(`SELECT count(*) FROM ${s.from} WHERE ${s.time} >= ? AND ${s.time} < ?`).pluck();
  let after: ScanCursor | undefined;
  for (let step = nextPartition(ctx.raw, s, after, boundaryMs); step; step = nextPartition(ctx.raw, s, after, boundaryMs)) {
    after = step.next;
    if (signal?.aborted) break;
    await yieldToEventLoop();
    if ('unplaceable' in step) {
      refuseUnplaceable(ctx, s, step.unplaceable, report);
      continue;
    }
    const { span } = step;
    const rows = count.get(boundForColumn(span.startMs, t.timeUnit), boundForColumn(span.endMs, t.timeUnit)) as number;
    plan.push({ partition: span.key, rows, estimatedBytes: Math.round(rows * perRow) });
  }
  report.plan = plan;
  report.partitions = plan.length;
  report.bytesIn = plan.reduce((a, p) => a + p.estimatedBytes, 0);
  return report;
}
