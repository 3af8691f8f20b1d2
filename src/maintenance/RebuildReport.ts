/** What `rebuildManifest` takes and what it reports. Paths are manifest paths (relative to the cold tree, `/`-separated). */

export interface RebuildManifestOptions {
  /** Work out and report everything; write nothing (no file, no manifest row, no run row). */
  dryRun?: boolean;
  /** Only these registered tables (default: every registered table, enabled or not). */
  tables?: readonly string[];
  /**
   * Drop manifest rows whose file is missing or fails verification (default:
   * keep them, so every query that needs them fails naming the file until it is
   * restored). Their rows are then gone from the bridge; a file that is still
   * there is judged by its own footer like any unlisted file.
   */
  dropUnverified?: boolean;
  onProgress?: (p: RebuildProgress) => void;
}

export interface RebuildProgress {
  /** `verify`: reading every file; `resolve`: keys in two places; `rewrite`: files written without superseded keys; `commit`. */
  phase: 'verify' | 'resolve' | 'rewrite' | 'commit';
  done: number;
  total: number;
  table?: string;
}

/** Why a file in the tree is not listed. Such files are never deleted. */
export type RebuildProblemKind =
  /** The file cannot be read as Parquet (torn footer, truncated). */
  | 'unreadable'
  /** A Parquet file without tierdb's footer metadata. */
  | 'foreign'
  /** tierdb's footer is incomplete or malformed. */
  | 'bad-footer'
  /** The footer names a table the registry does not have. */
  | 'unregistered'
  /** The footer's key column, time column or time unit differ from the registry's. */
  | 'registry-mismatch'
  /** The file is not in the folder its footer's table and partition give. */
  | 'misplaced'
  /** Its rows disagree with its footer (row count, key checksum, key or time range, columns, a key twice). */
  | 'mismatch';

export interface RebuildProblem {
  path: string;
  kind: RebuildProblemKind;
  /** The table the footer names, when it could be read. */
  table?: string;
  detail: string;
}

/** A manifest row whose file is missing or fails verification. */
export interface UnverifiedManifestFile {
  table: string;
  path: string;
  state: 'live' | 'pending';
  rows: number;
  problem: string;
  /**
   * `kept`: the row stays (a live file: queries that read it fail naming it until it is restored);
   * `dropped`: the row went (a pending file, whose rows are still hot, or `dropUnverified`).
   */
  action: 'kept' | 'dropped';
}

/** Keys held in more than one place, and which copy won. */
export interface RebuildConflict {
  table: string;
  /** `hot-and-cold`: the hot row wins; `cold`: the file of the newer run wins. */
  kind: 'hot-and-cold' | 'cold';
  /** How many distinct keys of `file` lost. */
  keys: number;
  /** A few of them, as text. */
  examples: string[];
  /** The file whose copies lost. */
  file: string;
  /** `hot`, or the winning file. */
  winner: string;
  /** What became of `file`: every key lost → `retired`; some → `rewritten` without them. */
  outcome: 'retired' | 'rewritten';
}

export interface RebuildRewrite {
  table: string;
  from: string;
  /** The new file; null in a dry run. */
  to: string | null;
  rows: number;
  droppedKeys: number;
}

export interface RebuildTableReport {
  table: string;
  /** Live files and their rows before and after. */
  liveFilesBefore: number;
  liveFilesAfter: number;
  liveRowsAfter: number;
  /** Live files that were not live before. */
  added: string[];
  /** Files listed `retired` (recovery unlinks them later): every key superseded, or replaced by a rewrite. */
  retired: string[];
}

export interface RebuildReport {
  kind: 'rebuild';
  dryRun: boolean;
  /** The rebuild's own run (its rewritten files carry its id); null in a dry run. */
  runId: number | null;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  /** Where the tree is (a folder or `s3://…`). */
  coldLocation: string;
  /** Parquet files looked at (those of the selected tables' folders, or all). */
  filesScanned: number;
  /** Files that passed every check. */
  filesVerified: number;
  manifestVersionBefore: number;
  manifestVersionAfter: number;
  tables: RebuildTableReport[];
  /** Files not listed, and why; left in the tree. */
  problems: RebuildProblem[];
  /** Manifest rows whose file is missing or fails verification. */
  unverified: UnverifiedManifestFile[];
  conflicts: RebuildConflict[];
  rewritten: RebuildRewrite[];
  /** The highest run id a file of the tree carries, and whether the run id sequence was moved up to it. */
  highestRunIdInTree: number | null;
  runIdsReservedThrough: number | null;
  /** Plans made: more than 1 when hot keys changed before the commit and the conflicts were resolved again. */
  attempts: number;
}
