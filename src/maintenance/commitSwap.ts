/**
 * The commit half of every cold-tier swap: one BEGIN IMMEDIATE transaction
 * checks the lease, runs the job's own statements (rows restored into the hot
 * table, a retention ledger row), retires the inputs (and drops their delete
 * markers, which the outputs applied) and lists the outputs, and bumps the
 * manifest version. Before it the inputs are live; after it the
 * outputs are. When it fails, the outputs (already in the tree, unlisted) are
 * removed; retired inputs are unlinked later by recovery, after the grace
 * delay, so a query that listed them can finish.
 */
import { failpoint } from '../archive/failpoint.js';
import { swapManifestFiles, type ManifestFile, type NewManifestFile } from '../manifest/manifestFiles.js';
import type { MaintenanceContext } from './MaintenanceContext.js';

export async function commitSwap(
  ctx: MaintenanceContext,
  retire: readonly ManifestFile[],
  outputs: readonly NewManifestFile[],
  /** The newest delete marker the outputs' rows account for (RewriteResult.marksThrough; Infinity when every row of `retire` goes). */
  marksAppliedThrough: number,
  inTransaction?: () => void,
  /** When the inputs count as retired (default now); recovery unlinks them TIERDB_RETIRED_GRACE_SECONDS after it. */
  retiredAtMs?: number,
): Promise<number[]> {
  let ids: number[];
  try {
    ids = ctx.raw
      .transaction(() => {
        ctx.assertLease();
        inTransaction?.();
        const inserted = swapManifestFiles(
          ctx.raw,
          retire.map((f) => f.id),
          outputs,
          retiredAtMs ?? Date.now(),
          marksAppliedThrough,
        );
        failpoint('swap-inside-commit');
        return inserted;
      })
      .immediate();
  } catch (error) {
    for (const o of outputs) await ctx.cold.delete(o.path);
    throw error;
  }
  failpoint('swap-after-commit');
  return ids;
}
