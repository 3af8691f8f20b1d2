/**
 * A cold tree belongs to exactly one manifest. The hot database records a
 * random `store_id` in `_tierdb_meta`; the cold folder records the same id in
 * `_tierdb_store.json`. Opening a database whose id differs from the tree's,
 * or a new database next to a tree that already holds files, is refused:
 * otherwise a typo in `--hot-path` (or two apps sharing `data/`) would make
 * recovery see every file as unknown.
 *
 * The one way past it is `adopt` (`tierdb rebuild-manifest --adopt <store id>`,
 * after the hot file was lost): a hot database without a store id takes the id
 * the tree's marker names — which the caller must give exactly — and the
 * manifest is then rebuilt from the tree.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { ColdStore } from '../cold/ColdStore.js';
import { describeFileKind } from '../describeFileKind.js';
import { ConfigError, StoreIdentityError } from '../errors.js';
import { manifestFileCount } from '../manifest/manifestFiles.js';
import { claimStoreId, readStoreId } from '../manifest/storeId.js';
import { coldLocationOf, readColdLocation, writeColdLocation } from '../manifest/coldLocation.js';

/** The marker object at the cold tree's root. */
export const STORE_MARKER = '_tierdb_store.json';

export interface StoreMarker {
  storeId: string;
  /** The hot file that owned the tree when the marker was written (for error messages). */
  hotPath: string;
  createdAt: string;
}

function fileKind(p: string): string {
  return describeFileKind(statSync(p));
}

/** The tree's marker, or undefined when there is none. A marker that cannot be read is an error naming it. */
export async function readStoreMarker(cold: ColdStore): Promise<StoreMarker | undefined> {
  const text = await cold.readText(STORE_MARKER);
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<StoreMarker>;
    if (typeof parsed.storeId !== 'string' || parsed.storeId === '') throw new Error('no storeId');
    return { storeId: parsed.storeId, hotPath: String(parsed.hotPath ?? '?'), createdAt: String(parsed.createdAt ?? '?') };
  } catch (cause) {
    throw new StoreIdentityError(
      `the cold tree's marker ${cold.describe(STORE_MARKER)} is unreadable (${(cause as Error).message}); it names the database that owns ${cold.location}. Restore it, or move the tree aside`,
    );
  }
}

/** How messages name the tree: `the cold folder /srv/data/cold`, `the cold tree s3://bucket/prefix`. */
function treeName(cold: ColdStore): string {
  return cold.kind === 'local' ? `the cold folder ${cold.location}` : `the cold tree ${cold.location}`;
}

/** How to take over a tree whose hot file is gone, for error messages. */
function adoptHint(marker: StoreMarker | undefined): string {
  return `; if that database is lost, rebuild its manifest from the tree into a new one with \`tierdb rebuild-manifest --adopt ${marker?.storeId ?? '<store id>'}\``;
}

/**
 * Whether `adopt` lets a new hot database take this tree: it must be the id
 * the marker names (any non-empty id for a tree from before markers).
 */
function adopts(marker: StoreMarker | undefined, cold: ColdStore, adopt: string | undefined): boolean {
  if (adopt === undefined) return false;
  if (adopt.trim() === '') throw new ConfigError("--adopt needs the store id of the cold tree's marker");
  if (marker && marker.storeId !== adopt) {
    throw new StoreIdentityError(`${treeName(cold)} belongs to store ${marker.storeId} (its ${STORE_MARKER}), not ${adopt}: --adopt must name the id the marker holds`);
  }
  return true;
}

/** Whether the cold tree holds anything of a store: a marker or any Parquet file. */
async function treeInUse(cold: ColdStore): Promise<{ marker: StoreMarker | undefined; files: number }> {
  return { marker: await readStoreMarker(cold), files: (await cold.list()).length };
}

/**
 * Checks made before the hot file is opened: the path is a regular file (or
 * new, when writing), its folder is a folder, and a new database is not about
 * to be created beside a tree that belongs to another one.
 */
export async function checkHotPath(hotPath: string, cold: ColdStore, readonly: boolean, adopt?: string): Promise<void> {
  const dir = path.dirname(hotPath);
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new ConfigError(`the hot database's folder ${dir} is ${fileKind(dir)}, not a folder (check TIERDB_DATA_DIR / --data-dir and TIERDB_HOT_PATH / --hot-path)`);
  }
  if (cold.kind === 'local' && existsSync(cold.location) && !statSync(cold.location).isDirectory()) {
    throw new ConfigError(`the cold folder ${cold.location} is ${fileKind(cold.location)}, not a folder (check TIERDB_DATA_DIR / --data-dir)`);
  }
  if (existsSync(hotPath)) {
    if (!statSync(hotPath).isFile()) {
      throw new ConfigError(`the hot database ${hotPath} is ${fileKind(hotPath)}, not a SQLite file (check TIERDB_HOT_PATH / --hot-path)`);
    }
    if (statSync(hotPath).size > 0) return;
  }
  if (readonly) {
    throw new ConfigError(
      `the hot database ${hotPath} does not exist (check TIERDB_HOT_PATH / --hot-path and TIERDB_DATA_DIR / --data-dir); read-only commands never create one`,
    );
  }
  const used = await treeInUse(cold);
  if ((used.marker || used.files > 0) && !adopts(used.marker, cold, adopt)) {
    const owner = used.marker ? ` (it belongs to ${used.marker.hotPath}, store ${used.marker.storeId})` : '';
    throw new StoreIdentityError(
      `the hot database ${hotPath} does not exist, but ${treeName(cold)} holds ${used.files} Parquet files of a store${owner}. ` +
        `Refusing to create a new database there: check TIERDB_HOT_PATH / --hot-path, or give the new database its own TIERDB_DATA_DIR / --data-dir` +
        adoptHint(used.marker),
    );
  }
}

/** Writes the marker durably (atomically replaced). */
export async function writeStoreMarker(cold: ColdStore, marker: StoreMarker): Promise<void> {
  await cold.writeText(STORE_MARKER, `${JSON.stringify(marker, null, 2)}\n`);
}

/**
 * Binds the opened hot database and the cold tree, after tierdb's migrations.
 * Writable: gives the database a store id when it has none. A tree marked
 * with another id, or an unmarked tree with files beside a manifest that lists
 * none, is refused naming both places — unless `adopt` names the tree's store
 * id and the database has none yet: then it takes that id. Returns the store id
 * (undefined only for a read-only open of a store never opened for writing).
 */
export async function bindColdTree(raw: Database.Database, hotPath: string, cold: ColdStore, readonly: boolean, adopt?: string): Promise<string | undefined> {
  let storeId = readStoreId(raw);
  const used = await treeInUse(cold);
  const where = treeName(cold);
  if (storeId === undefined && !readonly && (used.marker || used.files > 0) && adopts(used.marker, cold, adopt)) {
    storeId = claimStoreId(raw, adopt!);
    if (!used.marker) await writeStoreMarker(cold, { storeId, hotPath, createdAt: new Date().toISOString() });
    return storeId;
  }
  if (used.marker) {
    if (storeId === undefined && !readonly) {
      throw new StoreIdentityError(
        `${where} belongs to ${used.marker.hotPath} (store ${used.marker.storeId}), and ${hotPath} is not that store. ` +
          `Check TIERDB_HOT_PATH / --hot-path, or give this database its own TIERDB_DATA_DIR / --data-dir (or remove ${STORE_MARKER} if that store is gone)` +
          adoptHint(used.marker),
      );
    }
    if (storeId !== undefined && storeId !== used.marker.storeId) {
      throw new StoreIdentityError(
        `${where} belongs to another database: ${used.marker.hotPath} (store ${used.marker.storeId}), ` +
          `not ${hotPath} (store ${storeId}). Check TIERDB_HOT_PATH / --hot-path, or give each database its own TIERDB_DATA_DIR / --data-dir`,
      );
    }
  } else if (used.files > 0 && manifestFileCount(raw) === 0) {
    throw new StoreIdentityError(
      `${where} holds ${used.files} Parquet files, but ${hotPath} lists none of them: they belong to another database. ` +
        `Check TIERDB_HOT_PATH / --hot-path, or give this database its own TIERDB_DATA_DIR / --data-dir` +
        adoptHint(undefined),
    );
  }
  // Where the manifest's files are. Stores from before object storage recorded nothing: their files are local.
  // A manifest that lists no file can move freely (nothing is left behind in the other tree).
  const listsFiles = manifestFileCount(raw) > 0;
  const recorded = readColdLocation(raw) ?? (listsFiles ? 'local' : undefined);
  const here = coldLocationOf(cold);
  if (recorded !== undefined && recorded !== here && listsFiles) {
    const named = recorded === 'local' ? 'the local folder <data dir>/cold (TIERDB_COLD_URL empty)' : `${recorded} (TIERDB_COLD_URL=${recorded})`;
    throw new StoreIdentityError(
      `${hotPath} keeps its cold tier in ${named}, but this open names ${where}. ` +
        `Set TIERDB_COLD_URL to the store's tree${recorded === 'local' ? ', or move the tree with tierdb migrate-cold --to s3://bucket/prefix' : ''}`,
    );
  }
  if (readonly) return storeId;
  if (storeId === undefined) {
    storeId = claimStoreId(raw, randomUUID());
  }
  if (readColdLocation(raw) !== here) writeColdLocation(raw, here);
  // A tree with files but no marker (written before markers existed) is this manifest's: mark it now.
  if (!used.marker && used.files > 0) await writeStoreMarker(cold, { storeId, hotPath, createdAt: new Date().toISOString() });
  return storeId;
}

/** Marks the cold tree as this store's before the first file is written (no-op when marked). */
export async function ensureStoreMarker(cold: ColdStore, storeId: string, hotPath: string): Promise<void> {
  const marker = await readStoreMarker(cold);
  if (marker) {
    if (marker.storeId !== storeId) {
      throw new StoreIdentityError(`${treeName(cold)} now belongs to ${marker.hotPath} (store ${marker.storeId}), not ${hotPath} (store ${storeId}); nothing is written`);
    }
    return;
  }
  await writeStoreMarker(cold, { storeId, hotPath, createdAt: new Date().toISOString() });
}
