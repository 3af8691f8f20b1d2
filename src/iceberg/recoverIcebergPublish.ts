/**
 * Finishing or undoing a publish that stopped (a crash, a failed write), under
 * the lease, before anything else may unlink a cold file (recovery runs it
 * first, and every publish starts with it):
 *
 * - a `writing` snapshot whose table's `version-hint.text` names its metadata
 *   version reached readers: its commit is made from the row's `commit_json`;
 * - any other `writing` snapshot never did: its objects are deleted and the
 *   row goes (the next publish reuses its version number).
 *
 * Then the objects of `expired` snapshots (manifests, manifest lists, delete
 * files, metadata files — nothing lists them any more) are deleted and their
 * rows go.
 */
import { deleteIcebergSnapshot, listIcebergSnapshots, readIcebergCommit, commitIcebergSnapshot } from '../manifest/icebergState.js';
import { ICEBERG_DIR } from '../cold/coldLayout.js';
import type { IcebergRecoveryContext } from './IcebergPublishContext.js';

export interface IcebergRecoveryReport {
  finished: number;
  undone: number;
  expiredRemoved: number;
}

function hintPath(table: string): string {
  return `${table}/${ICEBERG_DIR}/metadata/version-hint.text`;
}

export async function resolveWritingSnapshots(ctx: IcebergRecoveryContext, table?: string): Promise<IcebergRecoveryReport> {
  const report: IcebergRecoveryReport = { finished: 0, undone: 0, expiredRemoved: 0 };
  for (const s of listIcebergSnapshots(ctx.raw, table, ['writing'])) {
    const hint = await ctx.cold.readText(hintPath(s.table_name));
    const named = hint !== undefined && Number.parseInt(hint.trim(), 10) === s.metadata_version;
    const commit = readIcebergCommit(ctx.raw, s.snapshot_id);
    if (named && commit) {
      ctx.raw.transaction(() => {
        ctx.assertLease();
        commitIcebergSnapshot(ctx.raw, s.snapshot_id, commit, s.sequence_number, Date.now());
      })();
      report.finished++;
    } else {
      for (const p of s.objects) await ctx.cold.delete(p);
      ctx.raw.transaction(() => {
        ctx.assertLease();
        deleteIcebergSnapshot(ctx.raw, s.snapshot_id);
      })();
      report.undone++;
    }
  }
  report.expiredRemoved = await deleteExpiredObjects(ctx, table);
  return report;
}

/** Deletes the objects of expired snapshots; returns how many snapshots went. */
export async function deleteExpiredObjects(ctx: IcebergRecoveryContext, table?: string): Promise<number> {
  let removed = 0;
  for (const s of listIcebergSnapshots(ctx.raw, table, ['expired'])) {
    for (const p of s.objects) await ctx.cold.delete(p);
    ctx.raw.transaction(() => {
      ctx.assertLease();
      deleteIcebergSnapshot(ctx.raw, s.snapshot_id);
    })();
    removed++;
  }
  return removed;
}
