/**
 * Grace files (`ARCHIVE_GRACE_HOURS`): written, verified and listed `pending`
 * (invisible) while their rows stay hot. Once due, a run re-reads the file,
 * checks it against its manifest row and makes it live with nothing drained
 * yet, then drains it (drainFile: each row that is still as in the file leaves
 * the hot table; a changed one stays hot and the file's copy is masked). A
 * file that does not match its manifest row is dropped (its rows never left).
 */
import type { DuckDbEngine } from '../cold/DuckDbEngine.js';
import { keyChecksum, readParquetRows } from '../cold/ParquetChunkWriter.js';
import type { ResolvedTable } from '../registry/resolveRegistry.js';
import type { ArchiveContext } from './ArchiveContext.js';
import type { TableReport } from './ArchiveReport.js';
import { drainFile, type DrainPacer } from './drainFile.js';
import { failpoint } from './failpoint.js';
import { deleteManifestFile, listFiles, markFileLive, type ManifestFile } from '../manifest/manifestFiles.js';
import { readTableShape } from './TableShape.js';

/** Grace files whose time has come: re-verify, make live, drain their rows (or drop the file). */
export async function commitDuePending(ctx: ArchiveContext, engine: DuckDbEngine, t: ResolvedTable, now: number, report: TableReport, pacer: DrainPacer): Promise<void> {
  const { raw } = ctx;
  const due = listFiles(raw, t.table, ['pending']).filter((f) => (f.visible_after_ms ?? 0) <= now);
  if (due.length === 0) return;
  const s = readTableShape(raw, t);
  for (const f of due) {
    const fileColumns = (JSON.parse(f.schema_json) as { name: string }[]).map((c) => c.name);
    let keep = fileColumns.length === s.names.length && fileColumns.every((n, i) => n === s.names[i]);
    let fileRows: unknown[][] = [];
    if (keep) {
      try {
        const read = await ctx.cold.openForRead([{ path: f.path, bytes: f.bytes, sha256: f.file_sha256 }]);
        try {
          fileRows = await readParquetRows(engine, read.paths[0]!, s.names);
        } finally {
          read.release();
        }
        const keys = fileRows.map((r) => r[s.keyIndex]);
        keep = fileRows.length === f.rows && keyChecksum(keys) === f.checksum;
        if (!keep) ctx.logger.warn({ file: f.path }, 'pending file does not match its manifest row; dropping it (its rows are still hot)');
      } catch (error) {
        // A pending file's rows never left the hot table: dropping a missing or torn one loses nothing.
        keep = false;
        ctx.logger.warn({ file: f.path, err: error }, 'pending file is missing or unreadable; dropping it (its rows are still hot)');
      }
    }
    if (!keep) {
      await dropPending(ctx, f);
      continue;
    }
    raw
      .transaction(() => {
        ctx.assertLease();
        markFileLive(raw, f.id);
        failpoint('inside-commit');
      })
      .immediate();
    report.pendingCommitted++;
    const drained = await drainFile(ctx, { shape: s, fileId: f.id, path: f.path, rows: fileRows, keys: fileRows.map((r) => r[s.keyIndex]), total: f.rows, from: 0 }, pacer);
    report.rowsMoved += drained.deleted;
    report.masked += drained.masked;
    if (drained.masked > 0) report.abandoned++;
  }
}

async function dropPending(ctx: Pick<ArchiveContext, 'raw' | 'cold' | 'assertLease'>, f: ManifestFile): Promise<void> {
  ctx.raw.transaction(() => {
    ctx.assertLease();
    deleteManifestFile(ctx.raw, f.id);
  }).immediate();
  await ctx.cold.delete(f.path);
}
