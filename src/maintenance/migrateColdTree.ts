/**
 * Moves the whole cold tree to another ColdStore (`tierdb migrate-cold --to
 * s3://bucket/prefix`), in the write-verify-swap shape of every cold change:
 *
 * 1. the target must be empty or already this store's (its marker: a
 *    migration that stopped half-way resumes); the marker is written first;
 * 2. every file the manifest lists (live, pending, retired) is copied: staged
 *    locally, `put` (an upload confirmed by size and sha256 with HEAD); an
 *    object already there with the right size is checked by content instead;
 * 3. one LIST of the target: every file present with its size;
 * 4. one transaction, under the lease: the manifest's cold location switches
 *    to the target and `manifest_version` is bumped — before it the store
 *    reads the old tree, after it the new one;
 * 5. the old tree's files (and its marker) are removed.
 *
 * A crash before 4 leaves the old tree in use and copies in the target that a
 * rerun reuses (an object already there is confirmed by HEAD: size and the
 * sha256 stored with it, as `put` confirms a fresh upload). A crash after 4
 * leaves local files that step 5 did not reach: a rerun (on a store opened with
 * the target) removes them and reports it, as does recovery with the cold tier
 * in the bucket — each only once its object is confirmed there
 * (removeMigratedLocalFiles). The process's own store keeps its old ColdStore:
 * reopen with TIERDB_COLD_URL set to the target.
 */
import { copyFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { ColdStore } from '../cold/ColdStore.js';
import { parseFileId } from '../cold/coldLayout.js';
import { fileSha256 } from '../cold/fileSha256.js';
import { failpoint } from '../archive/failpoint.js';
import { removeMigratedLocalFiles } from '../archive/removeMigratedLocalFiles.js';
import { ArgumentError, ColdFileError, ColdStoreError, StoreIdentityError } from '../errors.js';
import { coldLocationOf, readColdLocation, writeColdLocation } from '../manifest/coldLocation.js';
import { listFiles } from '../manifest/manifestFiles.js';
import { bumpManifestVersion } from '../manifest/manifestVersion.js';
import { ensureStoreMarker, readStoreMarker, STORE_MARKER } from '../store/coldTreeIdentity.js';
import type { MaintenanceRun } from './maintenanceRun.js';

export interface MigrateColdReport {
  kind: 'migrate-cold';
  runId: number;
  from: string;
  to: string;
  /** Files the manifest lists (each now in the target). */
  files: number;
  bytes: number;
  uploaded: number;
  /** Already in the target from an earlier, unfinished migration (checked by content). */
  alreadyThere: number;
  /** Retired files whose grace delay had passed and whose file was gone already: not copied. */
  skippedGone: number;
  localRemoved: number;
  /**
   * The manifest named the target already (a rerun after the switch): nothing
   * copied; `localRemoved` counts the local copies an interrupted run left,
   * each confirmed in the target first.
   */
  alreadyMigrated: boolean;
  durationMs: number;
}

export interface MigrateColdOptions {
  storeId: string;
  hotPath: string;
  /** The local cold folder, whose leftover copies a rerun after the switch removes. */
  localColdDir: string;
  onProgress?: (done: number, total: number) => void;
}

export async function migrateColdTree(run: MaintenanceRun, raw: Database.Database, target: ColdStore, o: MigrateColdOptions): Promise<MigrateColdReport> {
  const started = Date.now();
  const source = run.ctx.cold;
  const report: MigrateColdReport = {
    kind: 'migrate-cold',
    runId: run.runId,
    from: source.location,
    to: target.location,
    files: 0,
    bytes: 0,
    uploaded: 0,
    alreadyThere: 0,
    skippedGone: 0,
    localRemoved: 0,
    alreadyMigrated: false,
    durationMs: 0,
  };
  const recorded = readColdLocation(raw);
  if (coldLocationOf(target) === (recorded ?? coldLocationOf(source))) {
    if (source.location !== target.location) {
      throw new ArgumentError(`the cold tier of ${o.hotPath} is already ${target.location}, but this store was opened with ${source.location}: set TIERDB_COLD_URL=${target.location}`);
    }
    // A rerun after the switch: finish step 5.
    const left = await removeMigratedLocalFiles(raw, target, o.localColdDir);
    if (left.unconfirmed.length > 0) {
      throw new ColdStoreError(
        target.location,
        `${left.unconfirmed.length} local files of ${o.hotPath} (${left.unconfirmed.slice(0, 3).join(', ')}) could not be confirmed in ${target.location} (missing, or another size or sha256): they were kept; ${left.removed} confirmed ones were removed. Run tierdb validate`,
      );
    }
    const listed = listFiles(raw, undefined, ['live', 'pending', 'retired']);
    return { ...report, alreadyMigrated: true, files: listed.length, bytes: listed.reduce((a, f) => a + f.bytes, 0), localRemoved: left.removed, durationMs: Date.now() - started };
  }
  const marker = await readStoreMarker(target);
  if (marker && marker.storeId !== o.storeId) {
    throw new StoreIdentityError(`${target.location} belongs to another store (${marker.hotPath}, store ${marker.storeId}): choose an empty bucket or prefix`);
  }
  if (!marker) {
    const present = await target.list();
    if (present.length > 0) {
      throw new StoreIdentityError(`${target.location} already holds ${present.length} Parquet files of no store: choose an empty bucket or prefix`);
    }
  }
  await ensureStoreMarker(target, o.storeId, o.hotPath);
  removeStagedLeftovers(target.stagingDir, run.runId);

  const files = listFiles(raw, undefined, ['live', 'pending', 'retired']);
  const copied: string[] = [];
  let done = 0;
  for (const f of files) {
    run.ctx.assertLease();
    const there = await target.stat(f.path);
    const ref = { path: f.path, bytes: f.bytes, sha256: f.file_sha256 };
    if (there && there.bytes === f.bytes) {
      // Left by an unfinished migration: confirmed as put confirms an upload (size and the stored sha256), or read back whole and checked.
      if (f.file_sha256 === null || there.sha256 !== f.file_sha256) {
        const read = await target.openForRead([ref], { fresh: true });
        read.release();
      }
      report.alreadyThere++;
    } else {
      const onSource = await source.stat(f.path);
      if (!onSource) {
        if (f.state === 'retired') {
          report.skippedGone++;
          done++;
          continue;
        }
        throw new ColdFileError(source.describe(f.path), `cold file ${source.describe(f.path)} is listed (${f.state}) but missing: nothing was switched; run tierdb validate`);
      }
      const read = await source.openForRead([ref]);
      const staged = path.join(target.stagingDir, `migrate-${run.runId}-${f.id}-${run.runToken}.parquet.tmp`);
      try {
        copyFileSync(read.paths[0]!, staged);
        const sha = await fileSha256(staged);
        if (f.file_sha256 !== null && sha !== f.file_sha256) {
          throw new ColdFileError(source.describe(f.path), `cold file ${source.describe(f.path)} is damaged (sha256 ${sha}, the manifest recorded ${f.file_sha256}): nothing was switched; run tierdb validate`);
        }
        await target.put(staged, f.path, { bytes: f.bytes, sha256: sha });
        failpoint('migrate-after-put');
      } finally {
        read.release();
        rmSync(staged, { force: true });
      }
      report.uploaded++;
    }
    copied.push(f.path);
    report.files++;
    report.bytes += f.bytes;
    o.onProgress?.(++done, files.length);
  }

  // Every copied file present in the target with its size (one listing).
  const listed = new Map((await target.list()).map((obj) => [obj.path, obj.bytes]));
  const bytesOf = new Map(files.map((f) => [f.path, f.bytes]));
  const wrong = copied.filter((p) => listed.get(p) !== bytesOf.get(p));
  if (wrong.length > 0) {
    throw new ColdStoreError(target.location, `after copying, ${wrong.length} files are missing from ${target.location} or have another size (${wrong.slice(0, 3).map((p) => target.describe(p)).join(', ')}): nothing was switched; run tierdb migrate-cold again`);
  }

  raw.transaction(() => {
    run.ctx.assertLease();
    writeColdLocation(raw, coldLocationOf(target));
    bumpManifestVersion(raw);
  })();
  failpoint('migrate-after-switch');

  for (const p of copied) {
    await source.delete(p);
    report.localRemoved++;
  }
  await source.delete(STORE_MARKER);
  report.durationMs = Date.now() - started;
  return report;
}

/** Files an earlier, killed migration staged for upload (`migrate-<run>-<file>-<token>.parquet.tmp`): this run holds the lease, so none is in use. */
function removeStagedLeftovers(stagingDir: string, currentRunId: number): void {
  if (!existsSync(stagingDir)) return;
  for (const name of readdirSync(stagingDir)) {
    if (!name.startsWith('migrate-')) continue;
    const id = parseFileId(name);
    if (id !== undefined && id.runId !== currentRunId) rmSync(path.join(stagingDir, name), { force: true });
  }
}
