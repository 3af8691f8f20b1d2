/**
 * Which cold files could hold some of a batch of keys, from the manifest alone:
 * the live and pending files of the table whose [min_key, max_key] contains a
 * key. New keys are usually above every file's max_key and need no file at all.
 * Bounds are read with safeIntegers and compared in SQLite's order, so 64-bit
 * and TEXT keys are exact.
 */
import type Database from 'better-sqlite3';
import { compareSqlValues } from '../hot/compareSqlValues.js';
import { fileKeyRanges } from '../manifest/manifestFiles.js';
import { readManifestVersion } from '../manifest/manifestVersion.js';

/** A key as appends hand it over: INTEGER keys as bigint, TEXT keys as string. */
export type ColdKey = bigint | string;

interface FileRange {
  readonly path: string;
  readonly min: unknown;
  readonly max: unknown;
}

interface TableRanges {
  readonly version: string;
  readonly files: readonly FileRange[];
  /** The largest max_key of all files; undefined when bounds are missing or of mixed classes. */
  readonly ceiling: unknown;
}

const rangeCache = new WeakMap<Database.Database, Map<string, TableRanges>>();

/** Every manifest change bumps manifest_version, so ranges cached for one version are exact. */
function tableRanges(raw: Database.Database, table: string): TableRanges {
  const version = String(readManifestVersion(raw));
  let cache = rangeCache.get(raw);
  if (!cache) rangeCache.set(raw, (cache = new Map()));
  const hit = cache.get(table);
  if (hit && hit.version === version) return hit;
  const files: FileRange[] = fileKeyRanges(raw, table);
  let ceiling: unknown = files.length > 0 ? files[0]!.max : undefined;
  for (const f of files) {
    const c = compareSqlValues(f.max, ceiling);
    if (c === undefined) {
      ceiling = undefined;
      break;
    }
    if (c > 0) ceiling = f.max;
  }
  const ranges: TableRanges = { version, files, ceiling };
  cache.set(table, ranges);
  return ranges;
}

/** Outside [min, max] for sure; a bound that cannot be compared (NULL, other class) keeps the file. */
function outside(key: ColdKey, f: FileRange): boolean {
  const belowMin = compareSqlValues(key, f.min);
  if (belowMin !== undefined && belowMin < 0) return true;
  const aboveMax = compareSqlValues(key, f.max);
  return aboveMax !== undefined && aboveMax > 0;
}

/**
 * The candidate files (manifest paths) for `keys`, each with the keys it could
 * hold. `rangesApply` is false when the manifest's key ranges are over another
 * column than the one looked up: then every file is a candidate.
 */
export function coldKeyCandidates(raw: Database.Database, table: string, keys: readonly ColdKey[], rangesApply = true): Map<string, ColdKey[]> {
  const out = new Map<string, ColdKey[]>();
  const { files, ceiling } = tableRanges(raw, table);
  if (files.length === 0 || keys.length === 0) return out;
  for (const key of keys) {
    if (rangesApply && ceiling !== undefined) {
      const c = compareSqlValues(key, ceiling);
      if (c !== undefined && c > 0) continue;
    }
    for (const f of files) {
      if (rangesApply && outside(key, f)) continue;
      let list = out.get(f.path);
      if (!list) out.set(f.path, (list = []));
      list.push(key);
    }
  }
  return out;
}

/** A stable identity for a key in a Set: bigint 1 and text '1' differ, as in SQLite. */
export function coldKeyId(key: unknown): string {
  if (typeof key === 'bigint') return `i${key}`;
  if (typeof key === 'number' && Number.isInteger(key)) return `i${BigInt(key)}`;
  return `s${String(key)}`;
}
