/**
 * One table's cold tier as an Apache Iceberg v2 snapshot: a projection of one
 * committed manifest version, never a second commit point. Under the archiver
 * lease (the caller's maintenance run):
 *
 *   1. read, in one SQLite snapshot, the manifest version, the table's live
 *      files and their delete markers; a file still draining (its rows partly
 *      hot) refuses the table — only fully drained files are ever listed;
 *      nothing changed since the current snapshot (same files, markers,
 *      schema, location) → nothing is written;
 *   2. the schema (stable field ids, icebergSchema.ts), each new file's column
 *      metrics from its footer (dataFileStats.ts), the markers as a position
 *      delete file (positionDeletes.ts);
 *   3. record the attempt (`writing`, with everything its commit needs), then
 *      write the delete file, the manifests and the manifest list (Avro,
 *      avroFile.ts) and `vN.metadata.json`, all under new names;
 *   4. switch `version-hint.text` to N — the moment readers see it (a local
 *      file replaced by fsync + rename; on object storage one PUT, last);
 *   5. commit in SQLite: the snapshot `live` with its file references, the
 *      snapshots it dropped `expired`; then their objects are deleted.
 *
 * A crash before 4 leaves readers on the previous snapshot and a `writing` row
 * whose objects recovery deletes; after 4 recovery finishes the commit from
 * the row (recoverIcebergPublish.ts). Snapshot expiry keeps the newest
 * ICEBERG_KEEP_SNAPSHOTS and any younger than ICEBERG_SNAPSHOT_DAYS; after an
 * erase (a committed erasure whose old files a snapshot still lists) every
 * earlier snapshot of the table expires — the erased rows must go for good, and
 * older snapshots may list retired files that hold them too. A retired cold
 * file is unlinked only once no kept snapshot lists it.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { failpoint } from '../archive/failpoint.js';
import { keyText } from '../archive/chunkKeys.js';
import { tmpFilePath } from '../cold/coldLayout.js';
import type { ColdType } from '../cold/columnTypes.js';
import { fileSha256 } from '../cold/fileSha256.js';
import { IcebergPublishError, TierError } from '../errors.js';
import { readMarkers } from '../manifest/deleteMarkers.js';
import {
  commitIcebergSnapshot,
  erasedPaths,
  insertWritingSnapshot,
  listIcebergSnapshots,
  publishedFiles,
  readIcebergTable,
  snapshotPaths,
  snapshotsReferencing,
  type IcebergCommit,
  type IcebergSnapshotRow,
} from '../manifest/icebergState.js';
import { liveFilesExact, type ManifestFile } from '../manifest/manifestFiles.js';
import { readManifestVersion } from '../manifest/manifestVersion.js';
import type { ResolvedTable } from '../registry/resolveRegistry.js';
import { encodeAvroFile } from './avroFile.js';
import { readDataFileStats, type FileStats } from './dataFileStats.js';
import { ENTRY_STATUS, FILE_CONTENT, manifestEntrySchema, manifestFileSchema } from './icebergAvroSchemas.js';
import type { IcebergPublishContext } from './IcebergPublishContext.js';
import { IcebergLayout, icebergBase } from './icebergLayout.js';
import { assignFieldIds, liveColumns, nameMapping, nextSchemas, schemaFields, type IcebergColumn } from './icebergSchema.js';
import type { IcebergTableReport } from './IcebergPublishReport.js';
import { writePositionDeletes } from './positionDeletes.js';
import { deleteExpiredObjects, resolveWritingSnapshots } from './recoverIcebergPublish.js';
import { boundBytes } from './singleValue.js';

/** What `_tierdb_iceberg_files.stats_json` holds for a data file. */
export interface PublishedFileStats {
  rows: number;
  bytes: number;
  columns: FileStats;
}

export interface PublishTableOptions {
  /** The clock for snapshot ages (default: now). */
  now?: number;
}

/** The last-partition-id of a table with only the unpartitioned spec (as Iceberg's own writers set it). */
const UNPARTITIONED_LAST_PARTITION_ID = 999;

const newSnapshotId = (): number => {
  // A positive id below 2^53: exact in every JSON reader, JavaScript's too.
  const b = randomBytes(8);
  return Number(b.readBigUInt64BE() & ((1n << 53n) - 1n)) || 1;
};

function columnTypes(f: { schema_json: string }): Map<string, ColdType> {
  return new Map((JSON.parse(f.schema_json) as { name: string; type: ColdType }[]).map((c) => [c.name, c.type]));
}

/** The sha256 naming what a snapshot shows: the live files and every marker on them. */
function contentKey(live: readonly ManifestFile[], marks: ReadonlyMap<string, readonly unknown[]>, fields: string): string {
  const h = createHash('sha256');
  h.update(fields);
  for (const f of live) {
    h.update(`\n${f.path}`);
    for (const k of marks.get(f.path) ?? []) h.update(`\u0000${keyText(k)}`);
  }
  return h.digest('hex');
}

/** A data file's `data_file` record with its metrics by field id. */
function dataFileRecord(url: string, stats: PublishedFileStats, types: ReadonlyMap<string, ColdType>, columns: readonly IcebergColumn[], withMetrics: boolean): Record<string, unknown> {
  const sizes: { key: number; value: number }[] = [];
  const values: { key: number; value: number }[] = [];
  const nulls: { key: number; value: number }[] = [];
  const lower: { key: number; value: Uint8Array }[] = [];
  const upper: { key: number; value: Uint8Array }[] = [];
  if (withMetrics) {
    for (const c of columns) {
      const s = stats.columns[c.name];
      if (!s || types.get(c.name) !== c.type) continue;
      sizes.push({ key: c.id, value: s.size });
      values.push({ key: c.id, value: s.values });
      if (s.nulls !== null) nulls.push({ key: c.id, value: s.nulls });
      const lo = boundBytes(c.type, s.min, 'lower');
      const hi = boundBytes(c.type, s.max, 'upper');
      if (lo) lower.push({ key: c.id, value: lo });
      if (hi) upper.push({ key: c.id, value: hi });
    }
  }
  return {
    content: FILE_CONTENT.DATA,
    file_path: url,
    file_format: 'PARQUET',
    partition: {},
    record_count: stats.rows,
    file_size_in_bytes: stats.bytes,
    column_sizes: withMetrics ? sizes : null,
    value_counts: withMetrics ? values : null,
    null_value_counts: withMetrics ? nulls : null,
    nan_value_counts: null,
    lower_bounds: withMetrics ? lower : null,
    upper_bounds: withMetrics ? upper : null,
    key_metadata: null,
    split_offsets: null,
    equality_ids: null,
    sort_order_id: null,
    referenced_data_file: null,
  };
}

/** Publishes one table; returns what it did. Throws IcebergPublishError naming the table. */
export async function publishIcebergTable(ctx: IcebergPublishContext, t: ResolvedTable, options: PublishTableOptions = {}): Promise<IcebergTableReport> {
  const started = Date.now();
  const now = options.now ?? started;
  const { raw, cold, config } = ctx;
  const layout = new IcebergLayout(icebergBase(config, cold), t.table);
  await resolveWritingSnapshots(ctx, t.table);
  const state = readIcebergTable(raw, t.table);
  const read = raw.transaction(() => {
    const manifestVersion = readManifestVersion(raw);
    const live = liveFilesExact(raw, t.table);
    const marks = readMarkers(raw, live.map((f) => f.path));
    return { manifestVersion, live, marks };
  });
  const { manifestVersion, live, marks } = read.deferred();
  // A draining file's rows after its prefix are still hot (the app may change or delete them before the drain reaches
  // them): listed whole, an Iceberg reader would see them, and a row the app deleted. Drains are finished before every
  // maintenance job (withMaintenanceRun), so this is a publish called outside one, or a drain that could not finish.
  const draining = live.find((f) => f.drained_rows !== null);
  if (draining) {
    throw new IcebergPublishError(
      `${t.table}: ${draining.path} is still being drained from the hot table (${draining.drained_rows} of its ${draining.rows} rows are cold); nothing was published, readers keep the previous snapshot; the next archive run or maintenance job finishes the drain`,
    );
  }
  const report: IcebergTableReport = {
    table: t.table,
    status: 'unchanged',
    snapshotId: null,
    sequenceNumber: state?.last_sequence_number ?? null,
    metadataVersion: state?.metadata_version ?? null,
    manifestVersion,
    dataFiles: live.length,
    addedFiles: 0,
    removedFiles: 0,
    deleteFiles: 0,
    deletedRows: 0,
    rows: live.reduce((n, f) => n + Number(f.rows), 0),
    dataBytes: live.reduce((n, f) => n + Number(f.bytes), 0),
    metadataBytes: 0,
    expiredSnapshots: 0,
    metadataLocation: state ? layout.url(layout.metadataPath(state.metadata_version)) : null,
    durationMs: 0,
  };
  const finish = (): IcebergTableReport => ({ ...report, durationMs: Date.now() - started });
  if (!state && live.length === 0) {
    report.status = 'empty';
    return finish();
  }

  const assigned = assignFieldIds(state?.columns ?? [], state?.last_column_id ?? 0, liveColumns(t.table, live));
  const fields = schemaFields(assigned.current);
  const schemas = nextSchemas(state?.schemas ?? [], fields);
  const key = contentKey(live, marks.byPath, `${layout.location}\n${JSON.stringify(fields)}`);
  const previous = listIcebergSnapshots(raw, t.table, ['live']);
  const current = previous.at(-1);
  const erased = erasedPaths(raw, t.table);
  // An erase expires every earlier snapshot of its table: the files it replaced hold the rows, and so may
  // files retired before (compaction inputs kept for older snapshots); they then go like any retired file.
  const erasing = snapshotsReferencing(raw, [...erased]).size > 0;
  const mustExpire = new Set(erasing ? listIcebergSnapshots(raw, t.table, ['live']).map((s) => s.snapshot_id) : []);
  if (current && current.summary['tierdb.content-sha256'] === key && mustExpire.size === 0) return finish();

  // Metrics of files published for the first time, from their footers.
  const known = publishedFiles(raw, t.table);
  const fresh = live.filter((f) => !known.has(f.path));
  const freshStats = new Map<string, PublishedFileStats>();
  if (fresh.length > 0) {
    const handle = await cold.openForRead(fresh.map((f) => ({ path: f.path, bytes: f.bytes, sha256: f.file_sha256 })));
    try {
      const stats = await readDataFileStats(
        ctx.engine,
        fresh.map((f, i) => ({ local: handle.paths[i]!, types: columnTypes(f) })),
      );
      fresh.forEach((f, i) => freshStats.set(f.path, { rows: Number(f.rows), bytes: Number(f.bytes), columns: stats[i]! }));
    } finally {
      handle.release();
    }
  }
  const statsOf = (path: string): PublishedFileStats | undefined => freshStats.get(path) ?? (known.get(path)?.stats as unknown as PublishedFileStats | undefined);

  const snapshotId = newSnapshotId();
  const seq = (state?.last_sequence_number ?? 0) + 1;
  const version = (state?.metadata_version ?? 0) + 1;
  const relocated = state !== undefined && state.location !== layout.location;
  const uuid = randomUUID();
  const staged: string[] = [];
  let stageSeq = 0;
  const stage = (): string => {
    const file = tmpFilePath(cold.stagingDir, `${t.table}-iceberg`, `${ctx.runId}-${1_000_000 + ++stageSeq}-${ctx.runToken}`);
    staged.push(file);
    return file;
  };

  // Which earlier snapshots stay: the newest KEEP (this one among them), any younger than the age limit;
  // none that lists a file an erase replaced; none at all after the location changed.
  const expire: IcebergSnapshotRow[] = [];
  const kept: IcebergSnapshotRow[] = [];
  [...previous].reverse().forEach((s, i) => {
    const young = now - s.timestamp_ms <= config.icebergSnapshotMaxAgeMs;
    if (!relocated && !mustExpire.has(s.snapshot_id) && (i < config.icebergKeepSnapshots - 1 || young)) kept.unshift(s);
    else expire.push(s);
  });

  const objects: string[] = [];
  try {
    // Position deletes for the marked rows of live files.
    let deleteFile: { path: string; local: string; rows: number; bytes: number; referenced: string[] } | undefined;
    const marked = live.filter((f) => (marks.byPath.get(f.path)?.length ?? 0) > 0);
    if (marked.length > 0) {
      const handle = await cold.openForRead(marked.map((f) => ({ path: f.path, bytes: f.bytes, sha256: f.file_sha256 })));
      try {
        const out = stage();
        const keyType = columnTypes(marked[0]!).get(t.keyColumn) ?? 'BIGINT';
        const written = await writePositionDeletes(
          ctx.engine,
          out,
          marked.map((f, i) => ({ path: f.path, local: handle.paths[i]!, url: layout.url(f.path) })),
          marks,
          t.keyColumn,
          keyType,
        );
        if (written.rows > 0) deleteFile = { path: layout.deleteFilePath(snapshotId, uuid), local: out, rows: written.rows, bytes: statSync(out).size, referenced: written.referenced };
        else rmSync(out, { force: true });
      } finally {
        handle.release();
      }
    }

    // The data manifest: every live file (EXISTING keeps the snapshot and sequence numbers that added it), and the files gone since the current snapshot (DELETED, no metrics).
    const entrySchema = manifestEntrySchema();
    const schemaJson = JSON.stringify(schemas.current);
    const manifestMeta = (content: 'data' | 'deletes') => ({
      schema: schemaJson,
      'schema-id': String(schemas.current['schema-id']),
      'partition-spec': '[]',
      'partition-spec-id': '0',
      'format-version': '2',
      content,
    });
    const counts = { added: 0, existing: 0, deleted: 0, addedRows: 0n, existingRows: 0n, deletedRows: 0n, minSeq: seq };
    const entries: Record<string, unknown>[] = [];
    for (const f of live) {
      const stats = statsOf(f.path)!;
      const k = known.get(f.path);
      const dataFile = dataFileRecord(layout.url(f.path), stats, columnTypes(f), assigned.current, true);
      if (k) {
        counts.existing++;
        counts.existingRows += BigInt(stats.rows);
        counts.minSeq = Math.min(counts.minSeq, k.sequenceNumber);
        entries.push({ status: ENTRY_STATUS.EXISTING, snapshot_id: BigInt(k.snapshotId), sequence_number: BigInt(k.sequenceNumber), file_sequence_number: BigInt(k.sequenceNumber), data_file: dataFile });
      } else {
        counts.added++;
        counts.addedRows += BigInt(stats.rows);
        entries.push({ status: ENTRY_STATUS.ADDED, snapshot_id: BigInt(snapshotId), sequence_number: null, file_sequence_number: null, data_file: dataFile });
      }
    }
    if (current && !relocated) {
      const livePaths = new Set(live.map((f) => f.path));
      for (const p of snapshotPaths(raw, current.snapshot_id)) {
        const k = known.get(p);
        if (livePaths.has(p) || !k) continue;
        const stats = k.stats as unknown as PublishedFileStats;
        counts.deleted++;
        counts.deletedRows += BigInt(stats.rows);
        entries.push({
          status: ENTRY_STATUS.DELETED,
          snapshot_id: BigInt(snapshotId),
          sequence_number: BigInt(k.sequenceNumber),
          file_sequence_number: BigInt(k.sequenceNumber),
          data_file: dataFileRecord(layout.url(p), stats, new Map(), [], false),
        });
      }
    }
    const manifestList: Record<string, unknown>[] = [];
    let metadataBytes = 0;
    // Every object is encoded first and named in the `writing` row before any is written.
    const toWrite: { path: string; bytes: Buffer }[] = [];
    const put = (bytes: Buffer, path: string): void => {
      toWrite.push({ path, bytes });
      objects.push(path);
      metadataBytes += bytes.length;
    };
    if (entries.length > 0) {
      const path = layout.manifestPath(uuid, 0);
      const bytes = encodeAvroFile(entrySchema, entries, manifestMeta('data'));
      put(bytes, path);
      manifestList.push({
        manifest_path: layout.url(path),
        manifest_length: BigInt(bytes.length),
        partition_spec_id: 0,
        content: 0,
        sequence_number: BigInt(seq),
        min_sequence_number: BigInt(counts.minSeq),
        added_snapshot_id: BigInt(snapshotId),
        added_files_count: counts.added,
        existing_files_count: counts.existing,
        deleted_files_count: counts.deleted,
        added_rows_count: counts.addedRows,
        existing_rows_count: counts.existingRows,
        deleted_rows_count: counts.deletedRows,
        partitions: [],
        key_metadata: null,
      });
    }
    if (deleteFile) {
      objects.push(deleteFile.path);
      const path = layout.manifestPath(uuid, 1);
      const bytes = encodeAvroFile(
        entrySchema,
        [
          {
            status: ENTRY_STATUS.ADDED,
            snapshot_id: BigInt(snapshotId),
            sequence_number: null,
            file_sequence_number: null,
            data_file: {
              ...dataFileRecord(layout.url(deleteFile.path), { rows: deleteFile.rows, bytes: deleteFile.bytes, columns: {} }, new Map(), [], false),
              content: FILE_CONTENT.POSITION_DELETES,
              referenced_data_file: deleteFile.referenced.length === 1 ? deleteFile.referenced[0]! : null,
            },
          },
        ],
        manifestMeta('deletes'),
      );
      put(bytes, path);
      metadataBytes += deleteFile.bytes;
      manifestList.push({
        manifest_path: layout.url(path),
        manifest_length: BigInt(bytes.length),
        partition_spec_id: 0,
        content: 1,
        sequence_number: BigInt(seq),
        min_sequence_number: BigInt(seq),
        added_snapshot_id: BigInt(snapshotId),
        added_files_count: 1,
        existing_files_count: 0,
        deleted_files_count: 0,
        added_rows_count: BigInt(deleteFile.rows),
        existing_rows_count: 0n,
        deleted_rows_count: 0n,
        partitions: [],
        key_metadata: null,
      });
    }
    const listPath = layout.manifestListPath(snapshotId, uuid);
    const listBytes = encodeAvroFile(manifestFileSchema(), manifestList, {
      'snapshot-id': String(snapshotId),
      'parent-snapshot-id': current ? String(current.snapshot_id) : 'null',
      'sequence-number': String(seq),
      'format-version': '2',
    });
    put(listBytes, listPath);

    // The snapshot, the commit it will make, and the metadata that names it.
    const totalRecords = live.reduce((n, f) => n + Number(f.rows), 0);
    const summary: Record<string, string> = {
      operation: counts.deleted === 0 && (counts.added > 0 || !current) ? 'append' : counts.added === 0 ? 'delete' : 'overwrite',
      'added-data-files': String(counts.added),
      'deleted-data-files': String(counts.deleted),
      'added-records': String(counts.addedRows),
      'deleted-records': String(counts.deletedRows),
      'added-files-size': String(fresh.reduce((n, f) => n + Number(f.bytes), 0) + (deleteFile?.bytes ?? 0)),
      'changed-partition-count': counts.added + counts.deleted > 0 || deleteFile ? '1' : '0',
      'total-records': String(totalRecords),
      'total-data-files': String(live.length),
      'total-delete-files': deleteFile ? '1' : '0',
      'total-position-deletes': String(deleteFile?.rows ?? 0),
      'total-equality-deletes': '0',
      'total-files-size': String(live.reduce((n, f) => n + Number(f.bytes), 0) + (deleteFile?.bytes ?? 0)),
      'tierdb.manifest-version': String(manifestVersion),
      'tierdb.content-sha256': key,
    };
    const metadataPath = layout.metadataPath(version);
    const row: Omit<IcebergSnapshotRow, 'state'> = {
      snapshot_id: snapshotId,
      table_name: t.table,
      sequence_number: seq,
      parent_id: current?.snapshot_id ?? null,
      schema_id: schemas.current['schema-id'],
      metadata_version: version,
      manifest_version: manifestVersion,
      timestamp_ms: now,
      manifest_list: listPath,
      summary,
      objects: [...objects, metadataPath],
    };
    const tableRow: IcebergCommit['table'] = {
      table_name: t.table,
      table_uuid: state?.table_uuid ?? randomUUID(),
      location: layout.location,
      columns: assigned.all,
      schemas: schemas.schemas,
      last_column_id: assigned.lastColumnId,
      last_sequence_number: seq,
      metadata_version: version,
      manifest_version: manifestVersion,
    };
    const commit: IcebergCommit = {
      table: tableRow,
      paths: live.map((f) => f.path),
      added: fresh.map((f) => ({ path: f.path, stats: freshStats.get(f.path) as unknown as FileStats })),
      expire: expire.map((s) => s.snapshot_id),
    };
    raw.transaction(() => {
      ctx.assertLease();
      insertWritingSnapshot(raw, row, commit);
    })();
    if (deleteFile) await cold.put(deleteFile.local, deleteFile.path, { bytes: deleteFile.bytes, sha256: await fileSha256(deleteFile.local) });
    for (const o of toWrite) {
      const file = stage();
      writeFileSync(file, o.bytes);
      await cold.put(file, o.path, { bytes: o.bytes.length, sha256: createHash('sha256').update(o.bytes).digest('hex') });
    }
    failpoint('iceberg-after-manifests');

    const snapshotJson = (s: Omit<IcebergSnapshotRow, 'state'>) => ({
      'snapshot-id': s.snapshot_id,
      ...(s.parent_id === null ? {} : { 'parent-snapshot-id': s.parent_id }),
      'sequence-number': s.sequence_number,
      'timestamp-ms': s.timestamp_ms,
      'manifest-list': layout.url(s.manifest_list),
      summary: s.summary,
      'schema-id': s.schema_id,
    });
    const all = [...kept, row];
    const metadata = {
      'format-version': 2,
      'table-uuid': tableRow.table_uuid,
      location: layout.location,
      'last-sequence-number': seq,
      'last-updated-ms': now,
      'last-column-id': assigned.lastColumnId,
      'current-schema-id': schemas.current['schema-id'],
      schemas: schemas.schemas,
      'default-spec-id': 0,
      'partition-specs': [{ 'spec-id': 0, fields: [] }],
      'last-partition-id': UNPARTITIONED_LAST_PARTITION_ID,
      'default-sort-order-id': 0,
      'sort-orders': [{ 'order-id': 0, fields: [] }],
      properties: {
        'schema.name-mapping.default': nameMapping(assigned.current),
        'write.format.default': 'parquet',
        'write.parquet.compression-codec': 'zstd',
        'history.expire.min-snapshots-to-keep': String(config.icebergKeepSnapshots),
        'history.expire.max-snapshot-age-ms': String(config.icebergSnapshotMaxAgeMs),
        'tierdb.table': t.table,
        'tierdb.key-column': t.keyColumn,
        'tierdb.time-column': t.timeColumn,
        'tierdb.time-unit': t.timeUnit,
        'tierdb.published-by': 'tierdb (the manifest in SQLite is the commit point; do not write to this table)',
      },
      'current-snapshot-id': snapshotId,
      refs: { main: { 'snapshot-id': snapshotId, type: 'branch' } },
      snapshots: all.map(snapshotJson),
      'snapshot-log': all.map((s) => ({ 'timestamp-ms': s.timestamp_ms, 'snapshot-id': s.snapshot_id })),
      'metadata-log': kept.map((s) => ({ 'timestamp-ms': s.timestamp_ms, 'metadata-file': layout.url(layout.metadataPath(s.metadata_version)) })),
    };
    const metadataText = JSON.stringify(metadata, null, 2);
    await cold.writeText(metadataPath, metadataText);
    metadataBytes += Buffer.byteLength(metadataText);
    failpoint('iceberg-after-metadata');
    try {
      await cold.writeText(layout.hintPath, String(version));
    } catch (error) {
      // The hint may or may not have landed: recovery reads it and finishes or removes the attempt.
      await resolveWritingSnapshots(ctx, t.table).catch(() => undefined);
      throw error;
    }
    failpoint('iceberg-after-hint');
    raw.transaction(() => {
      ctx.assertLease();
      commitIcebergSnapshot(raw, snapshotId, commit, seq, Date.now());
    })();
    failpoint('iceberg-after-commit');
    await deleteExpiredObjects(ctx, t.table);
    Object.assign(report, {
      status: 'published',
      snapshotId,
      sequenceNumber: seq,
      metadataVersion: version,
      addedFiles: counts.added,
      removedFiles: counts.deleted,
      deleteFiles: deleteFile ? 1 : 0,
      deletedRows: deleteFile?.rows ?? 0,
      metadataBytes,
      expiredSnapshots: expire.length,
      metadataLocation: layout.url(metadataPath),
    });
    return finish();
  } catch (error) {
    const pending = raw.prepare(`SELECT state FROM _tierdb_iceberg_snapshots WHERE snapshot_id = ?`).pluck().get(snapshotId) as string | undefined;
    if (pending === undefined) {
      // Nothing names these objects: remove them.
      for (const p of objects) await cold.delete(p).catch(() => undefined);
    } else if (pending === 'writing') {
      await resolveWritingSnapshots(ctx, t.table).catch(() => undefined);
    }
    if (error instanceof TierError && error.code !== 'TIERDB_COLD_STORE' && error.code !== 'TIERDB_COLD_FILE') throw error;
    throw new IcebergPublishError(`${t.table}: publishing Iceberg snapshot ${seq} failed: ${(error as Error).message}; readers keep the previous snapshot`, { cause: error });
  } finally {
    for (const f of staged) rmSync(f, { force: true });
  }
}
