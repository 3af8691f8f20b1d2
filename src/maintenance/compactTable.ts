/**
 * Compaction of one table: each group planCompaction picks becomes one file
 * (rewriteFiles: verified inputs, newest run wins on a duplicated key, sorted
 * by time and key, verified output), then one swap per group (commitSwap).
 */
import { fileId } from '../cold/coldLayout.js';
import { liveFilesExact } from '../manifest/manifestFiles.js';
import type { ResolvedTable } from '../registry/resolveRegistry.js';
import type { MaintenanceRun } from './maintenanceRun.js';
import { commitSwap } from './commitSwap.js';
import { planCompaction } from './planCompaction.js';
import { rewriteFiles } from './rewriteFiles.js';

export interface CompactGroupReport {
  /** Manifest paths merged. */
  inputs: string[];
  /** The merged file (undefined on a dry run). */
  output?: string;
  rows: number;
  bytesIn: number;
  bytesOut?: number;
}

export interface CompactTableReport {
  table: string;
  filesBefore: number;
  filesAfter: number;
  bytesBefore: number;
  bytesAfter: number;
  rowsIn: number;
  rowsOut: number;
  /** Rows dropped because a newer file of the same group holds the same key (re-archived after a backfill). */
  duplicatesDropped: number;
  groups: CompactGroupReport[];
  error?: string;
}

export interface CompactTableOptions {
  targetBytes: number;
  minFiles: number;
  dryRun: boolean;
  now: number;
  /** The next file sequence number of the run (shared by the run's tables). */
  nextSeq: () => number;
  signal?: AbortSignal | undefined;
}

export async function compactTable(run: MaintenanceRun | undefined, raw: MaintenanceRun['ctx']['raw'], t: ResolvedTable, o: CompactTableOptions): Promise<CompactTableReport> {
  const live = liveFilesExact(raw, t.table);
  const bytesBefore = live.reduce((n, f) => n + f.bytes, 0);
  const report: CompactTableReport = {
    table: t.table,
    filesBefore: live.length,
    filesAfter: live.length,
    bytesBefore,
    bytesAfter: bytesBefore,
    rowsIn: 0,
    rowsOut: 0,
    duplicatesDropped: 0,
    groups: [],
  };
  const groups = planCompaction(live, { targetBytes: o.targetBytes, minFiles: o.minFiles });
  for (const group of groups) {
    if (o.signal?.aborted) break;
    const rows = group.reduce((n, f) => n + f.rows, 0);
    const bytesIn = group.reduce((n, f) => n + f.bytes, 0);
    const entry: CompactGroupReport = { inputs: group.map((f) => f.path), rows, bytesIn };
    report.groups.push(entry);
    if (o.dryRun || !run) {
      report.filesAfter -= group.length - 1;
      continue;
    }
    const result = await rewriteFiles(run.ctx, { engine: run.engine, table: t, inputs: group, id: fileId(run.runId, o.nextSeq(), run.runToken), runId: run.runId, now: o.now });
    await commitSwap(run.ctx, group, result.output ? [result.output] : [], result.marksThrough);
    entry.output = result.output?.path;
    entry.rows = result.rowsOut;
    entry.bytesOut = result.output?.bytes ?? 0;
    report.rowsIn += result.rowsIn;
    report.rowsOut += result.rowsOut;
    report.duplicatesDropped += result.duplicatesDropped;
    report.filesAfter -= group.length - (result.output ? 1 : 0);
    report.bytesAfter += entry.bytesOut - bytesIn;
    if (result.duplicatesDropped > 0) {
      run.ctx.logger.warn({ table: t.table, duplicates: result.duplicatesDropped, inputs: entry.inputs }, 'compaction kept the newest copy of keys stored in several cold files');
    }
  }
  return report;
}
