/**
 * Plans one `bridge.query` under one SQLite read snapshot: the table's
 * columns, the manifest's live files (pruned by time and key range), the hot
 * rows the pushed-down filter selects (through SQLite's indexes), and the hot
 * keys that shadow cold rows.
 *
 * `ORDER BY <time> … LIMIT n`: the hot top n is read first; cold files that
 * cannot beat its n-th row are dropped, so a recent query touches no file.
 */
import type Database from 'better-sqlite3';
import { DAY_MS, valueToMs } from '../registry/timeUnit.js';
import { sqlIdent } from '../cold/DuckDbEngine.js';
import { ArgumentError } from '../errors.js';
import { NO_MARKERS, readMarkers, type FileMarkers } from '../manifest/deleteMarkers.js';
import { readColumns, type ResolvedTable } from '../registry/resolveRegistry.js';
import { assertColdSchema } from './assertColdSchema.js';
import { registerIsoInstant } from './isoInstantMs.js';
import { normalizeQuery, type NormalizedQuery } from './normalizeQuery.js';
import { pruneFiles } from './pruneFiles.js';
import type { QueryOptions } from './QueryOptions.js';
import { prepareCached } from '../hot/prepareCached.js';
import { readLiveFiles, readManifestVersion, type LiveFile } from './readLiveFiles.js';
import { readOverlapKeys } from './readOverlapKeys.js';
import { renderOrder, renderWhere } from './renderFilter.js';
import { registerInList, withInLists } from './sqliteInList.js';
import { tableShape, type TableShape } from './tableShape.js';
import { withReadSnapshot } from './withReadSnapshot.js';

export interface QueryPlan {
  readonly shape: TableShape;
  readonly query: NormalizedQuery;
  readonly manifestVersion: number;
  /** Hot rows (every column, table order) matching the filter, in the query's order, at most offset+limit. */
  readonly hotRows: unknown[][];
  /** The live files DuckDB must read, after pruning. */
  readonly coldFiles: readonly LiveFile[];
  /** Hot keys inside the listed files' key ranges: cold rows with these keys are shadowed. */
  readonly overlapKeys: readonly unknown[];
  /** The delete markers of `coldFiles` (read in the same snapshot). */
  readonly marks: FileMarkers;
}

/** The markers of the files a plan reads: one indexed read, only when some file has any. */
export function readPlanMarks(db: Database.Database, files: readonly LiveFile[]): FileMarkers {
  const marked = files.filter((f) => f.marked > 0).map((f) => f.path);
  return marked.length === 0 ? NO_MARKERS : readMarkers(db, marked);
}

const shapeCaches = new WeakMap<Database.Database, Map<string, { schemaVersion: number; manifestVersion: number; shape: TableShape; files: LiveFile[] }>>();

/**
 * Reads a table's shape (columns + live files) inside a snapshot. Cached per
 * connection while neither the SQLite schema nor the manifest changes.
 */
export function readShape(db: Database.Database, t: ResolvedTable, manifestVersion = readManifestVersion(db)): { shape: TableShape; files: LiveFile[] } {
  const schemaVersion = prepareCached(db, 'PRAGMA schema_version').pluck().get() as number;
  let cache = shapeCaches.get(db);
  if (!cache) shapeCaches.set(db, (cache = new Map()));
  const hit = cache.get(t.table);
  if (hit && hit.schemaVersion === schemaVersion && hit.manifestVersion === manifestVersion) return hit;
  const columns = readColumns(db, t.table);
  if (!columns) throw new ArgumentError(`table ${t.table} does not exist in the hot database`);
  const files = readLiveFiles(db, t.table, manifestVersion);
  const entry = { schemaVersion, manifestVersion, shape: tableShape(t, columns, files), files };
  cache.set(t.table, entry);
  return entry;
}

/** Drops files that cannot reach the top `n` once hot already has `n` rows ordered by time. */
function pruneByHotTop(shape: TableShape, query: NormalizedQuery, hotRows: unknown[][], hotLimit: number | undefined, files: LiveFile[]): LiveFile[] {
  const first = query.order[0];
  if (hotLimit === undefined || hotRows.length < hotLimit || hotLimit === 0 || !first || first.column !== shape.timeColumn) {
    return hotLimit === 0 ? [] : files;
  }
  const boundary = valueToMs(hotRows[hotLimit - 1]![shape.timeIndex], shape.timeUnit);
  if (!Number.isFinite(boundary)) return files;
  const margin = shape.timeUnit === 'iso' ? DAY_MS : 0;
  // Ties on the time column are kept: the key decides between them.
  return first.desc ? files.filter((f) => f.maxTimeMs >= boundary - margin) : files.filter((f) => f.minTimeMs <= boundary + margin);
}

const selectLists = new WeakMap<TableShape, string>();

/** The shape's columns, quoted, in table order (kept per shape: a query renders it every time). */
function selectList(shape: TableShape): string {
  let list = selectLists.get(shape);
  if (list === undefined) selectLists.set(shape, (list = shape.names.map(sqlIdent).join(', ')));
  return list;
}

/** How many hot rows a query can need: offset+limit, or all (undefined). */
export function hotLimitOf(query: NormalizedQuery): { hotLimit: number | undefined } {
  return { hotLimit: query.limit === undefined ? undefined : query.offset + query.limit };
}

/**
 * The hot rows a query selects (every column, table order), filter, order and
 * offset+limit pushed into SQLite. The limit is a literal (a checked whole
 * number): SQLite sorts `ORDER BY … LIMIT 50` in a bounded sorter, but not
 * `LIMIT ?` (measured: 0.016 vs 0.026 ms for the benchmark's hot query).
 * `extra`: SQL expressions appended to every row after the table's columns.
 */
export function readHotRows(db: Database.Database, shape: TableShape, query: NormalizedQuery, extra = ''): unknown[][] {
  const { hotLimit } = hotLimitOf(query);
  if (hotLimit === 0) return [];
  const where = renderWhere(query.conditions, 'sqlite');
  const sql =
    `SELECT ${selectList(shape)}${extra} FROM ${sqlIdent(shape.table)}${where.sql}${renderOrder(query.order)}` +
    (hotLimit === undefined ? '' : ` LIMIT ${hotLimit}`);
  return withInLists(where.params, (bound) => prepareCached(db, sql).raw(true).safeIntegers(true).all(...bound) as unknown[][]);
}

export function planQuery(db: Database.Database, t: ResolvedTable, options: QueryOptions): QueryPlan {
  registerIsoInstant(db);
  registerInList(db);
  return withReadSnapshot(db, () => {
    const manifestVersion = readManifestVersion(db);
    const { shape, files } = readShape(db, t, manifestVersion);
    const query = normalizeQuery(shape, options);
    const { hotLimit } = hotLimitOf(query);
    const hotRows = readHotRows(db, shape, query);
    const coldFiles = pruneByHotTop(shape, query, hotRows, hotLimit, pruneFiles(files, query.conditions, shape));
    assertColdSchema(shape, coldFiles);
    const overlapKeys = readOverlapKeys(db, shape, coldFiles);
    return { shape, query, manifestVersion, hotRows, coldFiles, overlapKeys, marks: readPlanMarks(db, coldFiles) };
  });
}
