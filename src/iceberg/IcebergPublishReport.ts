/** What publishing did, per table and in all (`tierdb publish iceberg --json`). */
export interface IcebergTableReport {
  table: string;
  /** `published`: a new snapshot; `unchanged`: the current snapshot already shows this manifest; `empty`: never published and no cold files; `failed`: see error. */
  status: 'published' | 'unchanged' | 'empty' | 'failed';
  /** The new snapshot (null unless published). */
  snapshotId: number | null;
  sequenceNumber: number | null;
  /** N of the current `vN.metadata.json`. */
  metadataVersion: number | null;
  /** The manifest version the snapshot projects. */
  manifestVersion: number;
  dataFiles: number;
  addedFiles: number;
  removedFiles: number;
  deleteFiles: number;
  /** Rows hidden by position deletes (delete markers). */
  deletedRows: number;
  rows: number;
  dataBytes: number;
  /** Bytes of Iceberg objects this publish wrote (manifests, manifest list, delete file, metadata JSON). */
  metadataBytes: number;
  expiredSnapshots: number;
  /** The current metadata file's URL. */
  metadataLocation: string | null;
  durationMs: number;
  error?: string;
}

export interface IcebergPublishReport {
  kind: 'publish';
  runId: number | null;
  startedAt: string;
  durationMs: number;
  tables: IcebergTableReport[];
}
