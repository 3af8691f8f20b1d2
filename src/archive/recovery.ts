/**
 * Recovery, run only under the archiver lease this instance holds (at a write
 * open and at the start of every run). It removes only what it can prove is
 * this store's own leftover:
 *
 * - temp files and DuckDB spill folders in the cold store's staging folder
 *   whose names carry the id and token of a run this manifest recorded, other
 *   than the current run;
 * - files in the tree, not listed in the manifest, whose names carry the id
 *   and token of such a run (written, never committed: their rows are hot),
 *   once older than the store's `orphanSafetyAgeMs` (0 on a local folder; on
 *   object storage a slow upload of a lost run may still be under way);
 * - retired files, once old enough (the manifest listed them).
 *
 * Anything else found in the tree — a file of another store, an older file
 * without a run token, a file a person put there — is reported and left alone.
 * Runs left `running` are marked `crashed`: holding the lease proves they lost it.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { parseFileId } from '../cold/coldLayout.js';
import type { ColdStore } from '../cold/ColdStore.js';
import { failpoint } from './failpoint.js';
import type { Lease } from './lease.js';
import { allManifestPaths, deleteManifestFile, retiredFilesBefore } from '../manifest/manifestFiles.js';
import { markCrashedRuns, runTokens as readRunTokens } from '../manifest/runLog.js';

/** How long a retired file stays on disk by default, so queries that listed it can finish (TIERDB_RETIRED_GRACE_SECONDS). */
export const RETIRED_FILE_TTL_MS = 10 * 60_000;

export interface RecoveryReport {
  tmpRemoved: number;
  orphansRemoved: string[];
  /** Files in the tree that the manifest does not list and that recovery cannot prove are its own: left alone. */
  unlisted: string[];
  /** This store's own leftovers, younger than the store's safety age: left for a later recovery. */
  youngOrphans: string[];
  retiredUnlinked: number;
  crashedRuns: number;
}

export interface RecoverOptions {
  /** The run now going on (its files are not leftovers). */
  currentRunId?: number | null;
  /** How long retired files stay on disk (default RETIRED_FILE_TTL_MS). */
  retiredGraceMs?: number;
}

/** Uses the wall clock, never a run's `now`: retired files must outlive real queries. */
export async function recover(raw: Database.Database, cold: ColdStore, lease: Lease, options: RecoverOptions = {}): Promise<RecoveryReport> {
  const now = Date.now();
  const report: RecoveryReport = { tmpRemoved: 0, orphansRemoved: [], unlisted: [], youngOrphans: [], retiredUnlinked: 0, crashedRuns: 0 };
  lease.assertHeld();
  const current = options.currentRunId ?? null;
  const runTokens = readRunTokens(raw);
  const ownLeftover = (name: string): boolean => {
    const id = parseFileId(name);
    if (!id || id.runId === current) return false;
    const token = runTokens.get(id.runId);
    return token !== undefined && token !== null && token === id.runToken;
  };
  report.crashedRuns = markCrashedRuns(raw, current, now);

  const tmp = cold.stagingDir;
  if (existsSync(tmp)) {
    for (const entry of readdirSync(tmp, { withFileTypes: true })) {
      const spillOf = /^duckdb-([0-9a-f]{8,32})$/.exec(entry.name)?.[1];
      const ours = entry.isDirectory()
        ? spillOf !== undefined && [...runTokens].some(([id, token]) => token === spillOf && id !== current)
        : ownLeftover(entry.name);
      if (!ours) continue;
      rmSync(path.join(tmp, entry.name), { force: true, recursive: true });
      report.tmpRemoved++;
    }
  }
  const known = allManifestPaths(raw);
  for (const object of await cold.list()) {
    const rel = object.path;
    if (known.has(rel)) continue;
    if (!ownLeftover(rel.slice(rel.lastIndexOf('/') + 1))) report.unlisted.push(rel);
    else if (now - object.mtimeMs < cold.orphanSafetyAgeMs) report.youngOrphans.push(rel);
    else {
      await cold.delete(rel);
      report.orphansRemoved.push(rel);
    }
  }
  const retired = retiredFilesBefore(raw, now - (options.retiredGraceMs ?? RETIRED_FILE_TTL_MS));
  for (const f of retired) {
    await cold.delete(f.path);
    failpoint('retired-after-delete');
    raw.transaction(() => {
      lease.assertHeld();
      deleteManifestFile(raw, f.id);
    })();
    report.retiredUnlinked++;
  }
  return report;
}
