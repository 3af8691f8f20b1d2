/**
 * Recovery, run only under the archiver lease this instance holds (at a write
 * open and at the start of every run). It removes only what it can prove is
 * this store's own leftover:
 *
 * - temp files and DuckDB spill folders in the cold store's staging folder
 *   whose names carry the id and token of a run this manifest recorded, other
 *   than the current run;
 * - files in the tree, not listed in the manifest, whose names carry the id
 *   and token of such a run and that the run provably never committed
 *   (`provenLeftovers`: their rows are still hot, or their inputs still
 *   live), once older than the store's `orphanSafetyAgeMs` (0 on a local
 *   folder; on object storage a slow upload of a lost run may still be under way);
 * - retired files, once old enough (the manifest listed them) and no kept
 *   Iceberg snapshot lists them (an interrupted publish is finished or undone
 *   first: resolveWritingSnapshots);
 * - with the cold tier in a bucket, local copies of listed files that a
 *   migrate-cold killed after its switch left in the local folder, each once
 *   confirmed in the bucket (removeMigratedLocalFiles);
 * - with the cold tier in a bucket, incomplete multipart uploads under the
 *   prefix older than the safety age (aborting one never touches an object).
 *
 * Anything else found in the tree — a file of another store, an older file
 * without a run token, a file a person put there, a file of a run that ended
 * (it removed its own uncommitted files, so an unlisted one is a committed
 * file the manifest lost: `tierdb rebuild-manifest` lists it again) — is
 * reported and left alone. Runs left `running` are marked `crashed`: holding
 * the lease proves they lost it. The run id sequence is moved past every run
 * id the tree's file names carry, so a restored older backup of the hot file
 * never hands out an id the tree already holds.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { parseFileId } from '../cold/coldLayout.js';
import type { ColdStore } from '../cold/ColdStore.js';
import { failpoint } from './failpoint.js';
import { removeMigratedLocalFiles } from './removeMigratedLocalFiles.js';
import { resolveWritingSnapshots, type IcebergRecoveryReport } from '../iceberg/recoverIcebergPublish.js';
import type { Lease } from './lease.js';
import { allManifestPaths, deleteManifestFile, retiredFilesBefore } from '../manifest/manifestFiles.js';
import { markCrashedRuns, reserveRunIdsThrough, runStates, SINGLE_COMMIT_KINDS, type RunState } from '../manifest/runLog.js';

/** How long a retired file stays on disk by default, so queries that listed it can finish (TIERDB_RETIRED_GRACE_SECONDS). */
export const RETIRED_FILE_TTL_MS = 10 * 60_000;

/** An archive run commits in order and pipelines one chunk ahead: a crash leaves at most this many uncommitted files of it. */
const MAX_UNCOMMITTED_PER_ARCHIVE_RUN = 2;

export interface RecoveryReport {
  tmpRemoved: number;
  orphansRemoved: string[];
  /** Files in the tree that the manifest does not list and that recovery cannot prove are its own: left alone. */
  unlisted: string[];
  /** This store's own leftovers, younger than the store's safety age: left for a later recovery. */
  youngOrphans: string[];
  retiredUnlinked: number;
  crashedRuns: number;
  /** The run id sequence was moved up to this id (the tree held files of runs the hot file did not know); null when it did not move. */
  runIdsReservedThrough?: number | null;
  /** Local copies of files now in the bucket, left by a migrate-cold killed after its switch, removed (see removeMigratedLocalFiles). */
  migratedLocalRemoved?: number;
  /** Object storage: incomplete multipart uploads of dead runs aborted (older than the safety age). */
  incompleteUploadsAborted?: number;
  /** Iceberg publishes a crash interrupted: finished (the hint named them) or undone; expired snapshots' objects removed. */
  iceberg?: IcebergRecoveryReport;
}

export interface RecoverOptions {
  /** The run now going on (its files are not leftovers). */
  currentRunId?: number | null;
  /** How long retired files stay on disk (default RETIRED_FILE_TTL_MS). */
  retiredGraceMs?: number;
  /**
   * The local cold folder (`<dataDir>/cold`). With the cold tier in a bucket,
   * local copies a migrate-cold killed after its switch left there are removed
   * once confirmed in the bucket (removeMigratedLocalFiles).
   */
  localColdDir?: string;
}

/** Uses the wall clock, never a run's `now`: retired files must outlive real queries. */
export async function recover(raw: Database.Database, cold: ColdStore, lease: Lease, options: RecoverOptions = {}): Promise<RecoveryReport> {
  const now = Date.now();
  const report: RecoveryReport = { tmpRemoved: 0, orphansRemoved: [], unlisted: [], youngOrphans: [], retiredUnlinked: 0, crashedRuns: 0 };
  lease.assertHeld();
  const current = options.currentRunId ?? null;
  report.crashedRuns = markCrashedRuns(raw, current, now);
  const runs = runStates(raw);
  const recordedRun = (name: string): boolean => {
    const id = parseFileId(name);
    if (!id || id.runId === current) return false;
    const token = runs.get(id.runId)?.token;
    return token !== undefined && token !== null && token === id.runToken;
  };

  const tmp = cold.stagingDir;
  if (existsSync(tmp)) {
    for (const entry of readdirSync(tmp, { withFileTypes: true })) {
      const spillOf = /^duckdb-([0-9a-f]{8,32})$/.exec(entry.name)?.[1];
      const ours = entry.isDirectory()
        ? spillOf !== undefined && [...runs].some(([id, run]) => run.token === spillOf && id !== current)
        : recordedRun(entry.name);
      if (!ours) continue;
      rmSync(path.join(tmp, entry.name), { force: true, recursive: true });
      report.tmpRemoved++;
    }
  }
  const known = allManifestPaths(raw);
  const tree = await cold.list();
  const unlisted = tree.filter((o) => !known.has(o.path));
  const leftovers = provenLeftovers(
    unlisted.map((o) => o.path),
    known,
    runs,
    current,
  );
  for (const object of unlisted) {
    const rel = object.path;
    if (!leftovers.has(rel)) report.unlisted.push(rel);
    else if (now - object.mtimeMs < cold.orphanSafetyAgeMs) report.youngOrphans.push(rel);
    else {
      await cold.delete(rel);
      report.orphansRemoved.push(rel);
    }
  }
  if (cold.abortIncompleteUploads) report.incompleteUploadsAborted = await cold.abortIncompleteUploads(now);
  const highestInTree = tree.reduce((max, o) => Math.max(max, parseFileId(baseName(o.path))?.runId ?? 0), 0);
  report.runIdsReservedThrough = reserveRunIdsThrough(raw, highestInTree) ? highestInTree : null;
  // Before retired rows go: a retired file's local copy is removed only while the manifest still lists it.
  if (options.localColdDir !== undefined && cold.kind !== 'local') {
    report.migratedLocalRemoved = (await removeMigratedLocalFiles(raw, cold, options.localColdDir)).removed;
  }
  // An interrupted Iceberg publish is finished or undone first: its references decide which retired files may go.
  const iceberg = await resolveWritingSnapshots({ raw, cold, assertLease: () => lease.assertHeld() });
  if (iceberg.finished + iceberg.undone + iceberg.expiredRemoved > 0) report.iceberg = iceberg;
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

function baseName(rel: string): string {
  return rel.slice(rel.lastIndexOf('/') + 1);
}

/**
 * The unlisted files (manifest paths) that a recorded run, other than the
 * current one, wrote and provably never committed:
 * - a single-commit run (`rebuild`) commits all its files with its `ok`: any
 *   other status means none of its files is committed;
 * - any other run that ended (`ok`, `failed`, `aborted`) removed its own
 *   uncommitted files before it ended, so none of its unlisted files is a
 *   leftover (they are committed files the manifest lost);
 * - a run that did not end (`running`, `crashed`) commits a table's files in
 *   seq order, so only files above the highest seq the manifest lists for
 *   that run and table can be uncommitted; for an archive run at most
 *   MAX_UNCOMMITTED_PER_ARCHIVE_RUN of them — more means the manifest lost
 *   rows, and none is removed.
 */
function provenLeftovers(unlisted: readonly string[], known: ReadonlySet<string>, runs: ReadonlyMap<number, RunState>, current: number | null): Set<string> {
  const tableOf = (rel: string) => rel.slice(0, rel.indexOf('/'));
  const highestListedSeq = new Map<string, number>();
  for (const rel of known) {
    const id = parseFileId(baseName(rel));
    if (!id) continue;
    const group = `${id.runId}/${id.runToken}/${tableOf(rel)}`;
    highestListedSeq.set(group, Math.max(highestListedSeq.get(group) ?? 0, id.seq));
  }
  const out = new Set<string>();
  const crashedArchiveFiles = new Map<number, string[]>();
  for (const rel of unlisted) {
    const id = parseFileId(baseName(rel));
    if (!id || id.runId === current) continue;
    const run = runs.get(id.runId);
    if (!run || run.token === null || run.token !== id.runToken) continue;
    if (SINGLE_COMMIT_KINDS.has(run.kind)) {
      if (run.status !== 'ok') out.add(rel);
      continue;
    }
    if (run.status !== 'running' && run.status !== 'crashed') continue;
    if (id.seq <= (highestListedSeq.get(`${id.runId}/${id.runToken}/${tableOf(rel)}`) ?? 0)) continue;
    if (run.kind !== 'archive') {
      out.add(rel);
      continue;
    }
    const files = crashedArchiveFiles.get(id.runId) ?? [];
    files.push(rel);
    crashedArchiveFiles.set(id.runId, files);
  }
  for (const files of crashedArchiveFiles.values()) {
    if (files.length <= MAX_UNCOMMITTED_PER_ARCHIVE_RUN) for (const rel of files) out.add(rel);
  }
  return out;
}
