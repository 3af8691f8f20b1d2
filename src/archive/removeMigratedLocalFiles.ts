/**
 * The last step of `tierdb migrate-cold`, for a migration killed after its
 * switch: the manifest names the bucket, but the local folder still holds
 * copies of its files. Recovery (with the cold tier in a bucket) and a rerun of
 * migrate-cold remove them here — only a local file
 *
 * - at a path the manifest lists (any state), with the size it records, and
 * - whose object is in the bucket, confirmed by HEAD: the manifest's size and
 *   the sha256 the manifest records (for files from before checksums: the
 *   local file's own sha256), as stored with the object.
 *
 * Anything else in the folder is left alone and counted. The folder's marker
 * goes once no listed file is left in it (and only when it names this store),
 * then the folders that are empty. Before the switch the manifest names the
 * local folder and nothing here runs.
 */
import { existsSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { ColdStore } from '../cold/ColdStore.js';
import { fileSha256 } from '../cold/fileSha256.js';
import { LocalColdStore } from '../cold/LocalColdStore.js';
import { coldLocationOf, readColdLocation } from '../manifest/coldLocation.js';
import { listFiles } from '../manifest/manifestFiles.js';
import { readStoreId } from '../manifest/storeId.js';
import { readStoreMarker, STORE_MARKER } from '../store/coldTreeIdentity.js';

export interface MigratedLocalReport {
  /** Local copies removed (each confirmed in the bucket first). */
  removed: number;
  /** Local files at listed paths whose object could not be confirmed: kept. */
  unconfirmed: string[];
}

export async function removeMigratedLocalFiles(raw: Database.Database, cold: ColdStore, localDir: string): Promise<MigratedLocalReport> {
  const report: MigratedLocalReport = { removed: 0, unconfirmed: [] };
  if (cold.kind === 'local' || !existsSync(localDir) || readColdLocation(raw) !== coldLocationOf(cold)) return report;
  const local = new LocalColdStore(localDir);
  for (const f of listFiles(raw, undefined, ['live', 'pending', 'retired'])) {
    const abs = local.absolute(f.path);
    let size: number;
    try {
      size = statSync(abs).size;
    } catch {
      continue;
    }
    if (size !== f.bytes) {
      report.unconfirmed.push(abs);
      continue;
    }
    const there = await cold.stat(f.path);
    const sha256 = f.file_sha256 ?? (there?.sha256 === undefined ? undefined : await fileSha256(abs));
    if (there === undefined || there.bytes !== f.bytes || sha256 === undefined || there.sha256 !== sha256) {
      report.unconfirmed.push(abs);
      continue;
    }
    await local.delete(f.path);
    report.removed++;
  }
  if (report.unconfirmed.length === 0) {
    const marker = await readStoreMarker(local).catch(() => undefined);
    if (marker !== undefined && marker.storeId === readStoreId(raw)) await local.delete(STORE_MARKER);
    removeEmptyFolders(local.location);
  }
  return report;
}

/** Removes `dir` and the folders under it that hold nothing (bottom up); true when `dir` went. */
function removeEmptyFolders(dir: string): boolean {
  let empty = true;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || !removeEmptyFolders(path.join(dir, entry.name))) empty = false;
  }
  if (!empty) return false;
  try {
    rmdirSync(dir);
    return true;
  } catch {
    return false;
  }
}
