/**
 * Reads a table's live cold files from the manifest, with exact (bigint)
 * keys, and the manifest version. Call it inside the read snapshot.
 */
import type Database from 'better-sqlite3';
import type { ColdType } from '../cold/columnTypes.js';
import { markerCounts } from '../manifest/deleteMarkers.js';
import { liveFileRows } from '../manifest/manifestFiles.js';
import { readManifestVersion } from '../manifest/manifestVersion.js';

export interface LiveFile {
  /** Manifest path, relative to the cold folder. */
  readonly path: string;
  readonly rows: number;
  readonly bytes: number;
  /** Whole-file sha256; null for files written before checksums. */
  readonly sha256: string | null;
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
  /** bigint (INTEGER keys), string (TEXT keys) or null. */
  readonly minKey: unknown;
  readonly maxKey: unknown;
  /** The file's columns and their Parquet (DuckDB) types. */
  readonly columns: ReadonlyMap<string, ColdType>;
  /** How many of its rows delete markers hide (0: read as it is). */
  readonly marked: number;
  /**
   * Rows of the file (in file order) that are cold; the rest are still hot and
   * are not read from the file (the archiver is draining them). null: every row.
   */
  readonly drainedRows: number | null;
}


const schemaCache = new Map<string, ReadonlyMap<string, ColdType>>();

function parseSchema(json: string): ReadonlyMap<string, ColdType> {
  let parsed = schemaCache.get(json);
  if (!parsed) {
    parsed = new Map((JSON.parse(json) as { name: string; type: ColdType }[]).map((c) => [c.name, c.type]));
    if (schemaCache.size > 1000) schemaCache.clear();
    schemaCache.set(json, parsed);
  }
  return parsed;
}

/** Parsed file lists per connection and table, valid for one manifest version. */
const fileCaches = new WeakMap<Database.Database, Map<string, { version: number; files: LiveFile[] }>>();

/**
 * The live files of a table at `version` (read inside the same snapshot):
 * every manifest change bumps the version, so a list cached for it is exact.
 */
export function readLiveFiles(db: Database.Database, table: string, version: number = readManifestVersion(db)): LiveFile[] {
  let cache = fileCaches.get(db);
  if (!cache) fileCaches.set(db, (cache = new Map()));
  const hit = cache.get(table);
  if (hit && hit.version === version) return hit.files;
  const files = readLiveFilesUncached(db, table);
  cache.set(table, { version, files });
  return files;
}

function readLiveFilesUncached(db: Database.Database, table: string): LiveFile[] {
  const marked = markerCounts(db, table);
  return liveFileRows(db, table).map((r) => ({
    path: r.path,
    rows: Number(r.rows),
    bytes: Number(r.bytes),
    sha256: r.file_sha256,
    minTimeMs: Number(r.min_time_ms),
    maxTimeMs: Number(r.max_time_ms),
    minKey: r.min_key,
    maxKey: r.max_key,
    columns: parseSchema(r.schema_json),
    marked: marked.get(r.path) ?? 0,
    drainedRows: r.drained_rows === null ? null : Number(r.drained_rows),
  }));
}

export { readManifestVersion };
