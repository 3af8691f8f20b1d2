/**
 * Every statement on the Iceberg publishing tables (`_tierdb_iceberg_*`,
 * src/hot/tierdbSchema.ts). They record what was published, never what is
 * live: the manifest (`_tierdb_files`) stays the one commit point, and a
 * snapshot is a projection of one committed manifest version.
 *
 * The one rule the rest of tierdb reads from here: a retired cold file is
 * unlinked only when no snapshot that is not `expired` references it
 * (`IcebergReferenced`, used by recovery and erase).
 */
import type Database from 'better-sqlite3';
import { prepareCached } from '../hot/prepareCached.js';
import type { FileStats } from '../iceberg/dataFileStats.js';
import type { IcebergColumn, IcebergSchemaJson } from '../iceberg/icebergSchema.js';

export type IcebergSnapshotState = 'writing' | 'live' | 'expired';

export interface IcebergTableRow {
  table_name: string;
  table_uuid: string;
  location: string;
  columns: IcebergColumn[];
  schemas: IcebergSchemaJson[];
  last_column_id: number;
  last_sequence_number: number;
  metadata_version: number;
  manifest_version: number;
  updated_at_ms: number;
}

export interface IcebergSnapshotRow {
  snapshot_id: number;
  table_name: string;
  sequence_number: number;
  parent_id: number | null;
  schema_id: number;
  metadata_version: number;
  manifest_version: number;
  timestamp_ms: number;
  manifest_list: string;
  summary: Record<string, string>;
  objects: string[];
  state: IcebergSnapshotState;
}

/** What a snapshot's commit records; kept on the `writing` row so recovery can finish it. */
export interface IcebergCommit {
  table: Omit<IcebergTableRow, 'updated_at_ms'>;
  /** Manifest paths of the data files it lists. */
  paths: string[];
  /** Files it lists for the first time: their metrics. */
  added: { path: string; stats: FileStats }[];
  /** Snapshots it drops from the metadata. */
  expire: number[];
}

export function readIcebergTable(raw: Database.Database, table: string): IcebergTableRow | undefined {
  const row = raw.prepare(`SELECT * FROM _tierdb_iceberg_tables WHERE table_name = ?`).get(table) as (Record<string, unknown> & { columns_json: string; schemas_json: string }) | undefined;
  if (!row) return undefined;
  const { columns_json, schemas_json, ...rest } = row;
  return { ...(rest as unknown as IcebergTableRow), columns: JSON.parse(columns_json), schemas: JSON.parse(schemas_json) };
}

function toSnapshot(row: Record<string, unknown>): IcebergSnapshotRow {
  const { summary_json, objects_json, commit_json: _commit, ...rest } = row as Record<string, unknown> & { summary_json: string; objects_json: string };
  return { ...(rest as unknown as IcebergSnapshotRow), summary: JSON.parse(summary_json), objects: JSON.parse(objects_json) };
}

/** A table's snapshots in these states, oldest first. */
export function listIcebergSnapshots(raw: Database.Database, table: string | undefined, states: readonly IcebergSnapshotState[]): IcebergSnapshotRow[] {
  const rows = raw
    .prepare(
      `SELECT * FROM _tierdb_iceberg_snapshots WHERE state IN (SELECT value FROM json_each(?))${table === undefined ? '' : ' AND table_name = ?'} ORDER BY table_name, sequence_number`,
    )
    .all(JSON.stringify(states), ...(table === undefined ? [] : [table])) as Record<string, unknown>[];
  return rows.map(toSnapshot);
}

export function readIcebergCommit(raw: Database.Database, snapshotId: number): IcebergCommit | undefined {
  const text = raw.prepare(`SELECT commit_json FROM _tierdb_iceberg_snapshots WHERE snapshot_id = ?`).pluck().get(snapshotId) as string | null | undefined;
  return text ? (JSON.parse(text) as IcebergCommit) : undefined;
}

/** Before any object of the snapshot is written: what it will write and commit. */
export function insertWritingSnapshot(raw: Database.Database, s: Omit<IcebergSnapshotRow, 'state'>, commit: IcebergCommit): void {
  raw
    .prepare(
      `INSERT INTO _tierdb_iceberg_snapshots (snapshot_id, table_name, sequence_number, parent_id, schema_id, metadata_version, manifest_version, timestamp_ms,
         manifest_list, summary_json, objects_json, commit_json, state)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'writing')`,
    )
    .run(s.snapshot_id, s.table_name, s.sequence_number, s.parent_id, s.schema_id, s.metadata_version, s.manifest_version, s.timestamp_ms, s.manifest_list, JSON.stringify(s.summary), JSON.stringify(s.objects), JSON.stringify(commit));
}

/**
 * The snapshot's commit, inside the caller's transaction, once the hint names
 * its metadata: it becomes `live` with its data-file references, the files it
 * lists first get their metrics, the table row moves on, and the snapshots it
 * dropped become `expired` (their references go: their files may be unlinked).
 */
export function commitIcebergSnapshot(raw: Database.Database, snapshotId: number, commit: IcebergCommit, snapshotSeq: number, nowMs: number): void {
  raw.prepare(`UPDATE _tierdb_iceberg_snapshots SET state = 'live', commit_json = NULL WHERE snapshot_id = ?`).run(snapshotId);
  const ref = prepareCached(raw, `INSERT OR IGNORE INTO _tierdb_iceberg_refs (snapshot_id, path) VALUES (?, ?)`);
  for (const p of commit.paths) ref.run(snapshotId, p);
  const file = prepareCached(
    raw,
    `INSERT INTO _tierdb_iceberg_files (path, table_name, snapshot_id, sequence_number, stats_json) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (path) DO NOTHING`,
  );
  for (const a of commit.added) file.run(a.path, commit.table.table_name, snapshotId, snapshotSeq, JSON.stringify(a.stats));
  const t = commit.table;
  raw
    .prepare(
      `INSERT INTO _tierdb_iceberg_tables (table_name, table_uuid, location, columns_json, schemas_json, last_column_id, last_sequence_number, metadata_version, manifest_version, updated_at_ms)
       VALUES (@table_name, @table_uuid, @location, @columns_json, @schemas_json, @last_column_id, @last_sequence_number, @metadata_version, @manifest_version, @updated_at_ms)
       ON CONFLICT (table_name) DO UPDATE SET table_uuid = excluded.table_uuid, location = excluded.location, columns_json = excluded.columns_json,
         schemas_json = excluded.schemas_json, last_column_id = excluded.last_column_id, last_sequence_number = excluded.last_sequence_number,
         metadata_version = excluded.metadata_version, manifest_version = excluded.manifest_version, updated_at_ms = excluded.updated_at_ms`,
    )
    .run({ ...t, columns: undefined, schemas: undefined, columns_json: JSON.stringify(t.columns), schemas_json: JSON.stringify(t.schemas), updated_at_ms: nowMs });
  const expire = prepareCached(raw, `UPDATE _tierdb_iceberg_snapshots SET state = 'expired' WHERE snapshot_id = ? AND state = 'live'`);
  const dropRefs = prepareCached(raw, `DELETE FROM _tierdb_iceberg_refs WHERE snapshot_id = ?`);
  for (const id of commit.expire) {
    expire.run(id);
    dropRefs.run(id);
  }
  // Metrics of files no snapshot lists any more (and the manifest no longer lists live) are not needed again.
  raw
    .prepare(
      `DELETE FROM _tierdb_iceberg_files WHERE table_name = ? AND path NOT IN (SELECT path FROM _tierdb_iceberg_refs)
         AND path NOT IN (SELECT path FROM _tierdb_files WHERE state = 'live')`,
    )
    .run(t.table_name);
}

/** A snapshot's row goes: its objects were removed (an expired snapshot, or an attempt that never reached the hint). */
export function deleteIcebergSnapshot(raw: Database.Database, snapshotId: number): void {
  raw.prepare(`DELETE FROM _tierdb_iceberg_refs WHERE snapshot_id = ?`).run(snapshotId);
  raw.prepare(`DELETE FROM _tierdb_iceberg_snapshots WHERE snapshot_id = ?`).run(snapshotId);
}

/** The snapshot ids (not expired) that reference each path. */
export function snapshotsReferencing(raw: Database.Database, paths: readonly string[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  if (paths.length === 0) return out;
  const rows = raw
    .prepare(
      `SELECT r.path, r.snapshot_id FROM _tierdb_iceberg_refs r JOIN _tierdb_iceberg_snapshots s USING (snapshot_id)
        WHERE s.state != 'expired' AND r.path IN (SELECT value FROM json_each(?))`,
    )
    .raw(true)
    .all(JSON.stringify(paths)) as [string, number][];
  for (const [p, id] of rows) {
    const ids = out.get(p) ?? [];
    ids.push(id);
    out.set(p, ids);
  }
  return out;
}

/** SQL condition on a `path` column: no kept Iceberg snapshot references it (retired files may go). */
export const NOT_ICEBERG_REFERENCED = `path NOT IN (SELECT r.path FROM _tierdb_iceberg_refs r JOIN _tierdb_iceberg_snapshots s USING (snapshot_id) WHERE s.state != 'expired')`;

/** The metrics and adding snapshot of published files. */
export function publishedFiles(raw: Database.Database, table: string): Map<string, { snapshotId: number; sequenceNumber: number; stats: FileStats }> {
  const rows = prepareCached(raw, `SELECT path, snapshot_id, sequence_number, stats_json FROM _tierdb_iceberg_files WHERE table_name = ?`)
    .raw(true)
    .all(table) as [string, number, number, string][];
  return new Map(rows.map(([p, snapshotId, sequenceNumber, s]) => [p, { snapshotId, sequenceNumber, stats: JSON.parse(s) as FileStats }]));
}

/** The data files a snapshot references. */
export function snapshotPaths(raw: Database.Database, snapshotId: number): string[] {
  return raw.prepare(`SELECT path FROM _tierdb_iceberg_refs WHERE snapshot_id = ?`).pluck().all(snapshotId) as string[];
}

/** Old paths of this table's erasures that are committed but not complete: no snapshot may keep listing them. */
export function erasedPaths(raw: Database.Database, table: string): Set<string> {
  const rows = raw.prepare(`SELECT files_json FROM _tierdb_erasures WHERE table_name = ? AND status = 'committed'`).pluck().all(table) as string[];
  return new Set(rows.flatMap((j) => (JSON.parse(j) as { oldPath: string }[]).map((f) => f.oldPath)));
}

/** Whether a table was ever published. */
export function isIcebergPublished(raw: Database.Database, table: string): boolean {
  return raw.prepare(`SELECT 1 FROM _tierdb_iceberg_tables WHERE table_name = ? UNION SELECT 1 FROM _tierdb_iceberg_snapshots WHERE table_name = ? LIMIT 1`).get(table, table) !== undefined;
}
