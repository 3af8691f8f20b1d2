/**
 * Failpoints for crash tests: `TIERDB_FAILPOINT=<name>` makes the process kill
 * itself with SIGKILL when it reaches that step of the move protocol
 * (FAILPOINTS), of maintenance swaps (SWAP_FAILPOINTS), of `tierdb rebuild-manifest`
 * (REBUILD_FAILPOINTS), of recovery (RECOVERY_FAILPOINTS), of `tierdb migrate-cold` (MIGRATE_FAILPOINTS) or of an Iceberg publish (ICEBERG_FAILPOINTS).
 * `TIERDB_FAILPOINT_HIT=<n>` fires at the n-th time the step is reached (default 1).
 * Off unless set.
 */
export const FAILPOINTS = ['after-write', 'after-verify', 'after-rename', 'inside-commit', 'after-commit', 'inside-drain', 'after-drain', 'during-vacuum'] as const;
/** The steps of a maintenance swap (compaction, retention, restore): rewriteFiles, then swapAndRetire. */
export const SWAP_FAILPOINTS = ['rewrite-after-write', 'rewrite-after-put', 'swap-inside-commit', 'swap-after-commit'] as const;
/**
 * The steps of a manifest rebuild: its run recorded (run ids reserved); every
 * file verified (nothing written into the tree yet); a file rewritten without
 * superseded keys (rewriteFiles: written and fsynced in staging, then put into
 * the tree); inside the one commit; after it.
 */
export const REBUILD_FAILPOINTS = [
  'rebuild-after-run-recorded',
  'rebuild-after-verify',
  'rewrite-after-write',
  'rewrite-after-put',
  'rebuild-inside-commit',
  'rebuild-after-commit',
] as const;
/** Recovery's removal of retired files: the file (object) deleted, its manifest row not yet. */
export const RECOVERY_FAILPOINTS = ['retired-after-delete'] as const;
/** store.delete / store.update: the rows found (nothing changed), inside the one commit, after it. */
export const CHANGE_FAILPOINTS = ['change-after-scan', 'change-inside-commit', 'change-after-commit'] as const;
/**
 * store.erase: the rewrites (rewriteFiles' steps), the backups rewritten, the
 * swap (commitSwap's steps), the old files unlinked, the hot file vacuumed.
 */
export const ERASE_FAILPOINTS = [
  'rewrite-after-write',
  'rewrite-after-put',
  'erase-after-backups',
  'swap-inside-commit',
  'swap-after-commit',
  'erase-after-unlink',
  'erase-after-vacuum',
] as const;
/**
 * `tierdb migrate-cold`: a file uploaded and confirmed in the target (the
 * manifest still names the old tree); the manifest switched to the target in
 * its one transaction, the old tree's files not yet removed.
 */
export const MIGRATE_FAILPOINTS = ['migrate-after-put', 'migrate-after-switch'] as const;
/**
 * Publishing one table as Iceberg: its delete file, manifests and manifest
 * list written (new names, nothing names them yet); its `vN.metadata.json`
 * written; `version-hint.text` switched to N; the snapshot committed in SQLite
 * (before the expired snapshots' objects are deleted).
 */
export const ICEBERG_FAILPOINTS = ['iceberg-after-manifests', 'iceberg-after-metadata', 'iceberg-after-hint', 'iceberg-after-commit'] as const;
export type Failpoint =
  | (typeof FAILPOINTS)[number]
  | (typeof SWAP_FAILPOINTS)[number]
  | (typeof REBUILD_FAILPOINTS)[number]
  | (typeof RECOVERY_FAILPOINTS)[number]
  | (typeof CHANGE_FAILPOINTS)[number]
  | (typeof ERASE_FAILPOINTS)[number]
  | (typeof MIGRATE_FAILPOINTS)[number]
  | (typeof ICEBERG_FAILPOINTS)[number];

const hits = new Map<string, number>();

export function failpoint(name: Failpoint): void {
  if (process.env.TIERDB_FAILPOINT !== name) return;
  const n = (hits.get(name) ?? 0) + 1;
  hits.set(name, n);
  const at = Number(process.env.TIERDB_FAILPOINT_HIT ?? '1');
  if (n === at) process.kill(process.pid, 'SIGKILL');
}

/**
 * Faults for error-path tests: `TIERDB_FAULT=<name>` makes the step fail the
 * way a real fault would, without killing the process (a failpoint does):
 * - `temp-write-fails`: a chunk's temp file is written, then its write throws
 *   (as a full disk would), on whichever thread wrote it;
 * - `worker-exits`: the archive worker thread ends as a chunk is asked of it
 *   (as an out-of-memory abort of the thread would), leaving that chunk unanswered.
 * `TIERDB_FAULT_HIT=<n>` fires at the n-th time the step is reached (default 1),
 * counted per thread. Off unless set.
 */
export const FAULTS = ['temp-write-fails', 'worker-exits'] as const;
export type Fault = (typeof FAULTS)[number];

const faultHits = new Map<string, number>();

/** True when the fault `name` fires now; the caller fails in the fault's own way. */
export function faultFires(name: Fault): boolean {
  if (process.env.TIERDB_FAULT !== name) return false;
  const n = (faultHits.get(name) ?? 0) + 1;
  faultHits.set(name, n);
  return n === Number(process.env.TIERDB_FAULT_HIT ?? '1');
}
