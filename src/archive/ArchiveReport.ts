import type { RecoveryReport } from './recovery.js';
import type { IcebergPublishReport } from '../iceberg/IcebergPublishReport.js';

export interface ArchiveProgress {
  table: string;
  partition: string;
  rowsDone: number;
  rowsTotal: number;
}

export interface ArchiveRunOptions {
  /** Only these registered tables (default: every enabled one). */
  tables?: readonly string[];
  /** Report what would move; write nothing. */
  dryRun?: boolean;
  /** The clock (default: now). */
  now?: Date | number;
  /** Stops the run between chunks; a half-moved chunk is never left behind. */
  signal?: AbortSignal;
  onProgress?: (progress: ArchiveProgress) => void;
}

export interface PartitionPlan {
  partition: string;
  rows: number;
  estimatedBytes: number;
}

export interface TableReport {
  table: string;
  /** The table's effective hot days, and where they came from (`registry` or a `HOT_DAYS_<TABLE>` variable). */
  hotDays: number;
  hotDaysFrom: string;
  /** Rows whose time is before this instant were due to move (whole partitions). */
  cutoff: string;
  rowsMoved: number;
  files: number;
  partitions: number;
  /** Estimated SQLite bytes (table + indexes) of the moved rows. */
  bytesIn: number;
  /** Parquet bytes written. */
  bytesOut: number;
  ratio: number;
  durationMs: number;
  /** Files written under the grace period (rows kept hot, file invisible). */
  pendingWritten: number;
  /** Grace files whose time came and were committed now. */
  pendingCommitted: number;
  /** Chunks some of whose rows changed (or went) between read and drain: those rows stay hot and move on a later run. */
  abandoned: number;
  /** Rows of committed files whose hot row changed or went before it was drained: the file's copy is masked (a `stale` delete marker), the hot row stays. */
  masked: number;
  /** Chunks refused (mixed types...), with the reason; their rows stay hot. */
  refused: { partition: string; reason: string }[];
  /** Set when the table's chunks were read and written to Parquet on the archive worker thread (ARCHIVE_THREAD_MIN_ROWS). */
  workerThread?: true;
  /** Set when the table failed as a whole; other tables still ran. */
  error?: string;
  /** Dry run only: what would move. */
  plan?: PartitionPlan[];
}

export interface ArchiveReport {
  runId: number | null;
  dryRun: boolean;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  aborted: boolean;
  tables: TableReport[];
  hotBytesBefore: number;
  hotBytesAfter: number;
  reclaim: { mode: string; freedPages: number } | null;
  recovery: RecoveryReport | null;
  /** ICEBERG_PUBLISH: the publish that ran after this run (a run of its own), or why it did not. */
  iceberg?: IcebergPublishReport | { error: string };
  backup: string | null;
  /** Files this run wrote but never committed and could not remove (the endpoint failed too): the next run's recovery removes them. */
  leftovers?: string[];
}
