/**
 * Failpoints for crash tests: `TIERDB_FAILPOINT=<name>` makes the process kill
 * itself with SIGKILL when it reaches that step of the move protocol.
 * `TIERDB_FAILPOINT_HIT=<n>` fires at the n-th time the step is reached (default 1).
 * Off unless set.
 */
export const FAILPOINTS = ['after-write', 'after-verify', 'after-rename', 'inside-commit', 'after-commit', 'during-vacuum'] as const;
/** The steps of a maintenance swap (compaction, retention, restore): rewriteFiles, then swapAndRetire. */
export const SWAP_FAILPOINTS = ['rewrite-after-write', 'rewrite-after-put', 'swap-inside-commit', 'swap-after-commit'] as const;
/** Recovery's removal of retired files: the file (object) deleted, its manifest row not yet. */
export const RECOVERY_FAILPOINTS = ['retired-after-delete'] as const;
export type Failpoint = (typeof FAILPOINTS)[number] | (typeof SWAP_FAILPOINTS)[number] | (typeof RECOVERY_FAILPOINTS)[number];

const hits = new Map<string, number>();

export function failpoint(name: Failpoint): void {
  if (process.env.TIERDB_FAILPOINT !== name) return;
  const n = (hits.get(name) ?? 0) + 1;
  hits.set(name, n);
  const at = Number(process.env.TIERDB_FAILPOINT_HIT ?? '1');
  if (n === at) process.kill(process.pid, 'SIGKILL');
}
