/**
 * tierdb's own tables, all prefixed `_tierdb_`. They live in the hot SQLite
 * file and are created by tierdb itself (migrations/tierdb), also inside an
 * adopted application database whose own tables tierdb never touches.
 */
import { customType, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/** A column with BLOB affinity: SQLite keeps the value as given (INTEGER or TEXT key). */
const anyValue = customType<{ data: unknown }>({ dataType: () => 'blob' });

/** The manifest: a cold file exists for readers only while it has a `live` row here. */
export const tierdbFiles = sqliteTable(
  '_tierdb_files',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    tableName: text('table_name').notNull(),
    /** Relative to the cold folder, `/`-separated. */
    path: text('path').notNull().unique(),
    /** `YYYY-MM-DD` (day partition) or `YYYY-MM` (month partition). */
    partition: text('partition').notNull(),
    rows: integer('rows').notNull(),
    /** Time range in unix milliseconds, whatever the column's own unit. */
    minTimeMs: integer('min_time_ms').notNull(),
    maxTimeMs: integer('max_time_ms').notNull(),
    /** Key range, as stored in SQLite (INTEGER or TEXT). */
    minKey: anyValue('min_key'),
    maxKey: anyValue('max_key'),
    bytes: integer('bytes').notNull(),
    /** Estimated SQLite bytes (table + indexes) the rows took while hot. */
    hotBytes: integer('hot_bytes'),
    /** sha256 over the key values in order (verified at write time). */
    checksum: text('checksum').notNull(),
    /** sha256 (hex) of the whole file's bytes; NULL for files written before 0.2. */
    fileSha256: text('file_sha256'),
    schemaJson: text('schema_json').notNull(),
    /** `pending` (grace period), `live`, `retired` (unlinked later). */
    state: text('state').notNull(),
    runId: integer('run_id'),
    createdAtMs: integer('created_at_ms').notNull(),
    visibleAfterMs: integer('visible_after_ms'),
    retiredAtMs: integer('retired_at_ms'),
    /**
     * A live file whose rows are still being deleted from the hot table: its rows
     * before this position (file order) are cold; the rest still count as hot
     * (readers skip them). NULL once every row is drained (and for every other file).
     */
    drainedRows: integer('drained_rows'),
  },
  (t) => [index('_tierdb_files_table_idx').on(t.tableName, t.state, t.minTimeMs)],
);

/** One row per run of a job that changes the cold tier (archive, compact, retention, restore...). */
export const tierdbRuns = sqliteTable('_tierdb_runs', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  /** `archive`, `compact`, `retention`, `restore`… */
  kind: text('kind').notNull().default('archive'),
  startedAtMs: integer('started_at_ms').notNull(),
  endedAtMs: integer('ended_at_ms'),
  status: text('status').notNull(),
  pid: integer('pid').notNull(),
  /** Random per run; part of every file name the run writes, so recovery can prove a file is its leftover. */
  token: text('token'),
  dryRun: integer('dry_run').notNull().default(0),
  reportJson: text('report_json'),
  error: text('error'),
});

/**
 * The retention ledger: one row per table and run that removed cold rows
 * older than the table's `coldDays` (whole files retired, straddling files
 * rewritten without them).
 */
export const tierdbRetention = sqliteTable('_tierdb_retention', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  tableName: text('table_name').notNull(),
  runId: integer('run_id').notNull(),
  /** Rows older than this instant (unix ms) were removed. */
  cutoffMs: integer('cutoff_ms').notNull(),
  files: integer('files').notNull(),
  rows: integer('rows').notNull(),
  bytes: integer('bytes').notNull(),
  minTimeMs: integer('min_time_ms'),
  maxTimeMs: integer('max_time_ms'),
  /** The manifest paths retired (JSON array). */
  pathsJson: text('paths_json').notNull(),
  atMs: integer('at_ms').notNull(),
});

/**
 * Delete markers: the row with `key` in the live cold file `path` is deleted
 * (store.delete) or superseded by a hot row (store.update). Scoped to one
 * file, never to a key alone: the same key archived again later, into another
 * file, is another row. A marker lives while its file is live; every swap that
 * retires the file applies its markers (the rewrite leaves those rows out) and
 * drops them in the same transaction.
 */
export const tierdbDeletes = sqliteTable(
  '_tierdb_deletes',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    tableName: text('table_name').notNull(),
    /** The manifest path of the live file holding the masked row. */
    path: text('path').notNull(),
    key: anyValue('key').notNull(),
    /** `delete` or `update` (the row's new values are hot). */
    op: text('op').notNull(),
    /** The manifest version this marker was committed with. */
    manifestVersion: integer('manifest_version').notNull(),
    createdAtMs: integer('created_at_ms').notNull(),
    /**
     * The masked row's position in its file (DuckDB's `file_row_number`), when
     * the change read it there; NULL for markers made without reading the file
     * (a drain's stale rows, markers from before migration 0007). Readers
     * anti-join by position only when every marker they apply has one.
     */
    pos: integer('pos'),
  },
  (t) => [uniqueIndex('_tierdb_deletes_path_key').on(t.path, t.key), index('_tierdb_deletes_table_idx').on(t.tableName)],
);

/**
 * Erasure receipts (store.erase): what was erased and proof it is gone, never
 * the erased values. The predicate is kept with every value replaced by its
 * sha256.
 */
export const tierdbErasures = sqliteTable('_tierdb_erasures', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  tableName: text('table_name').notNull(),
  runId: integer('run_id').notNull(),
  /** The where-filter, each value replaced by `sha256:<hex>` of its text. */
  predicateJson: text('predicate_json').notNull(),
  hotRows: integer('hot_rows').notNull(),
  coldRows: integer('cold_rows').notNull(),
  /** [{ oldPath, oldSha256, newPath, newSha256, rowsErased }] (newPath null: the file went). */
  filesJson: text('files_json').notNull(),
  /** [{ path, rowsErased, sha256 }] hot-file backups rewritten. */
  backupsJson: text('backups_json').notNull(),
  /** `committed` (rows gone from every reader) then `complete` (old files unlinked, hot file vacuumed, backups rewritten). */
  status: text('status').notNull(),
  startedAtMs: integer('started_at_ms').notNull(),
  endedAtMs: integer('ended_at_ms'),
});

/** Named checkpoints (JSONL ingest byte offsets...). */
export const tierdbCheckpoints = sqliteTable('_tierdb_checkpoints', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
  updatedAtMs: integer('updated_at_ms').notNull(),
});

/**
 * Leases: one archiver at a time. The holder is its random `token` (one per
 * lease taken, never a pid); the lease lapses at `expires_at_ms` unless renewed.
 * pid and host are for people and for the same-kernel dead-holder shortcut.
 */
export const tierdbLeases = sqliteTable('_tierdb_leases', {
  name: text('name').primaryKey(),
  ownerPid: integer('owner_pid').notNull(),
  host: text('host').notNull(),
  startedAtMs: integer('started_at_ms').notNull(),
  token: text('token'),
  expiresAtMs: integer('expires_at_ms'),
  /** boot id + pid namespace: pids mean the same process only where this matches. */
  kernelId: text('kernel_id'),
});

/** Small key/value facts, e.g. `manifest_version`, bumped on every manifest change. */
export const tierdbMeta = sqliteTable('_tierdb_meta', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});

/**
 * Iceberg publishing (src/iceberg/): one row per registered table that was
 * published. The field id of every column ever published (`columns_json`,
 * never reused), the schemas, the table's uuid, location and sequence numbers,
 * and `metadata_version`: the `vN.metadata.json` that `version-hint.text` was
 * last confirmed to name.
 */
export const tierdbIcebergTables = sqliteTable('_tierdb_iceberg_tables', {
  tableName: text('table_name').primaryKey(),
  tableUuid: text('table_uuid').notNull(),
  /** The table location readers see (`<ICEBERG_LOCATION>/<table>/_iceberg`). */
  location: text('location').notNull(),
  /** [{ name, id, type }]: every column ever given an id, in id order. */
  columnsJson: text('columns_json').notNull(),
  /** The Iceberg schemas ([{ schema-id, type: struct, fields }]), the last one current. */
  schemasJson: text('schemas_json').notNull(),
  lastColumnId: integer('last_column_id').notNull(),
  lastSequenceNumber: integer('last_sequence_number').notNull(),
  metadataVersion: integer('metadata_version').notNull(),
  /** The manifest version the current snapshot projects. */
  manifestVersion: integer('manifest_version').notNull(),
  updatedAtMs: integer('updated_at_ms').notNull(),
});

/**
 * One row per Iceberg snapshot: `writing` while its files are written (a crash
 * leaves it so; recovery finishes it when the hint names it, else removes its
 * objects), `live` while its metadata lists it, `expired` once dropped (its
 * objects deleted). Every object it wrote is in `objects_json`.
 */
export const tierdbIcebergSnapshots = sqliteTable(
  '_tierdb_iceberg_snapshots',
  {
    snapshotId: integer('snapshot_id').primaryKey(),
    tableName: text('table_name').notNull(),
    sequenceNumber: integer('sequence_number').notNull(),
    parentId: integer('parent_id'),
    schemaId: integer('schema_id').notNull(),
    metadataVersion: integer('metadata_version').notNull(),
    manifestVersion: integer('manifest_version').notNull(),
    timestampMs: integer('timestamp_ms').notNull(),
    /** Cold-store path of its manifest list. */
    manifestList: text('manifest_list').notNull(),
    summaryJson: text('summary_json').notNull(),
    /** Cold-store paths of every object it wrote (manifests, manifest list, delete files, its metadata file). */
    objectsJson: text('objects_json').notNull(),
    /** While `writing`: what its commit records (the files it lists, new file metrics, the table row, snapshots it expires), so recovery can finish it once the hint names it. */
    commitJson: text('commit_json'),
    state: text('state').notNull(),
  },
  (t) => [index('_tierdb_iceberg_snapshots_table_idx').on(t.tableName, t.state, t.sequenceNumber)],
);

/**
 * The data files each snapshot references: a retired cold file is unlinked
 * only when no snapshot that is not `expired` references it.
 */
export const tierdbIcebergRefs = sqliteTable(
  '_tierdb_iceberg_refs',
  {
    snapshotId: integer('snapshot_id').notNull(),
    path: text('path').notNull(),
  },
  (t) => [primaryKey({ columns: [t.snapshotId, t.path] }), index('_tierdb_iceberg_refs_path_idx').on(t.path)],
);

/**
 * Per published data file: the snapshot and sequence number that added it
 * (kept in every later manifest, as the spec asks) and its column metrics
 * (sizes, counts, bounds by column name), read once from its footer.
 */
export const tierdbIcebergFiles = sqliteTable('_tierdb_iceberg_files', {
  path: text('path').primaryKey(),
  tableName: text('table_name').notNull(),
  snapshotId: integer('snapshot_id').notNull(),
  sequenceNumber: integer('sequence_number').notNull(),
  statsJson: text('stats_json').notNull(),
});
