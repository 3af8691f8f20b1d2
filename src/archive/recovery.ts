/**
 * Recovery, run only under the archiver lease this instance holds (at a write
 * open and at the start of every run). It removes only what it can prove is
 * this store's own leftover:
 *
 * - temp files and DuckDB spill folders in `_tmp/` whose names carry the id
 *   and token of a run this manifest recorded, other than the current run;
 * - files in the tree, not listed in the manifest, whose names carry the id
 *   and token of such a run (written, never committed: their rows are hot);
 * - retired files, once old enough (the manifest listed them).
 *
 * Anything else found in the tree — a file of another store, an older file
 * without a run token, a file a person put there — is reported and left alone.
 * Runs left `running` are marked `crashed`: holding the lease proves they lost it.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { TMP_DIR, absoluteColdPath, parseFileId } from '../cold/coldLayout.js';
import { listTreeFiles } from '../cold/listTreeFiles.js';
import type { Lease } from './lease.js';
import { allManifestPaths, deleteManifestFile, retiredFilesBefore } from '../manifest/manifestFiles.js';
import { markCrashedRuns, runTokens as readRunTokens } from '../manifest/runLog.js';

/** How long a retired file stays on disk, so queries that listed it can finish. */
export const RETIRED_FILE_TTL_MS = 10 * 60_000;

export interface RecoveryReport {
  tmpRemoved: number;
  orphansRemoved: string[];
  /** Files in the tree that the manifest does not list and that recovery cannot prove are its own: left alone. */
  unlisted: string[];
  retiredUnlinked: number;
  crashedRuns: number;
}

export interface RecoverOptions {
  /** The run now going on (its files are not leftovers). */
  currentRunId?: number | null;
}

/** Uses the wall clock, never a run's `now`: retired files must outlive real queries. */
export function recover(raw: Database.Database, coldDir: string, lease: Lease, options: RecoverOptions = {}): RecoveryReport {
  const now = Date.now();
  const report: RecoveryReport = { tmpRemoved: 0, orphansRemoved: [], unlisted: [], retiredUnlinked: 0, crashedRuns: 0 };
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

  const tmp = path.join(coldDir, TMP_DIR);
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
  for (const rel of listTreeFiles(coldDir)) {
    if (known.has(rel)) continue;
    if (ownLeftover(rel.slice(rel.lastIndexOf('/') + 1))) {
      rmSync(absoluteColdPath(coldDir, rel), { force: true });
      report.orphansRemoved.push(rel);
    } else report.unlisted.push(rel);
  }
  const retired = retiredFilesBefore(raw, now - RETIRED_FILE_TTL_MS);
  for (const f of retired) {
    rmSync(absoluteColdPath(coldDir, f.path), { force: true });
    raw.transaction(() => {
      lease.assertHeld();
      deleteManifestFile(raw, f.id);
    })();
    report.retiredUnlinked++;
  }
  return report;
}
