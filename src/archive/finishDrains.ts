/**
 * Drains left unfinished (a run killed between drain transactions, or one that
 * failed): every live file with `drained_rows` set has its remaining rows
 * read back from the file and drained (drainFile, comparing every row). Runs
 * at the start of every archive run and every maintenance job, under the
 * lease, so compaction, retention, restore and erase never see a draining file
 * (swapManifestFiles refuses one).
 */
import type { DuckDbEngine } from '../cold/DuckDbEngine.js';
import { readParquetRows } from '../cold/ParquetChunkWriter.js';
import { ColdFileError } from '../errors.js';
import { drainingFiles } from '../manifest/manifestFiles.js';
import type { ResolvedTable } from '../registry/resolveRegistry.js';
import type { ArchiveContext } from './ArchiveContext.js';
import { drainFile, DrainPacer, type DrainResult } from './drainFile.js';
import { readTableShape } from './TableShape.js';

export async function finishDrains(
  ctx: Pick<ArchiveContext, 'raw' | 'cold' | 'assertLease' | 'config'>,
  engine: DuckDbEngine,
  tables: readonly ResolvedTable[],
  pacer = new DrainPacer(ctx.config.archiveLockTargetMs),
): Promise<DrainResult & { files: number }> {
  const out = { deleted: 0, masked: 0, files: 0 };
  for (const t of tables) {
    const files = drainingFiles(ctx.raw, t.table);
    if (files.length === 0) continue;
    const s = readTableShape(ctx.raw, t);
    for (const f of files) {
      const fileColumns = (JSON.parse(f.schema_json) as { name: string }[]).map((c) => c.name);
      const sameColumns = fileColumns.length === s.names.length && fileColumns.every((n, i) => n === s.names[i]);
      const read = await ctx.cold.openForRead([{ path: f.path, bytes: f.bytes, sha256: f.file_sha256 }]);
      let rows: unknown[][] | null;
      let keys: unknown[];
      try {
        if (sameColumns) {
          rows = await readParquetRows(engine, read.paths[0]!, s.names);
          keys = rows.map((r) => r[s.keyIndex]);
        } else {
          // The table's columns changed since the file was written: its rows cannot be compared, so the hot rows stay.
          rows = null;
          keys = (await readParquetRows(engine, read.paths[0]!, [t.keyColumn])).map((r) => r[0]);
        }
      } finally {
        read.release();
      }
      if (keys.length !== f.rows) throw new ColdFileError(ctx.cold.describe(f.path), `${ctx.cold.describe(f.path)} holds ${keys.length} rows, its manifest row says ${f.rows}: its drain cannot go on; run \`tierdb validate\``);
      const r = await drainFile(ctx, { shape: s, fileId: f.id, path: f.path, rows, keys, total: f.rows, from: f.drained_rows ?? f.rows }, pacer);
      out.deleted += r.deleted;
      out.masked += r.masked;
      out.files++;
    }
  }
  return out;
}
