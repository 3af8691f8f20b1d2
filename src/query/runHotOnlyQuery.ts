/**
 * The fast path of `bridge.query` for a query no cold file can answer (its
 * time range is newer than every listed file, or the table has none): one
 * prepared SQLite statement, then one check that nothing it relied on changed.
 *
 * What it relies on — the table's shape and live files — is kept per table
 * with the `manifest_version` and `schema_version` they were read at. The hot
 * statement (autocommit: its own snapshot) returns both versions beside every
 * row, read in that same snapshot as constant subqueries (SQLite evaluates
 * them once). Equal to the state's: the rows are exactly the answer, since
 * every manifest change bumps the version in the transaction that moves rows.
 * No row: one statement reads the versions after it (both only ever grow, so
 * equal then means equal when the statement ran). Otherwise the answer is
 * dropped and the caller plans the query in full.
 */
import type Database from 'better-sqlite3';
import { prepareCached } from '../hot/prepareCached.js';
import type { ResolvedTable } from '../registry/resolveRegistry.js';
import { decideColumnTypes } from './decideColumnTypes.js';
import { registerIsoInstant } from './isoInstantMs.js';
import { normalizeQuery } from './normalizeQuery.js';
import { hotLimitOf, readHotRows, readShape } from './planQuery.js';
import { pruneFiles, timeRangeMs } from './pruneFiles.js';
import type { QueryOptions, Row } from './QueryOptions.js';
import type { LiveFile } from './readLiveFiles.js';
import { registerInList } from './sqliteInList.js';
import type { TableShape } from './tableShape.js';
import { arraysToObjects } from './toRowObjects.js';
import { withReadSnapshot } from './withReadSnapshot.js';

interface HotOnlyState {
  readonly manifestVersion: number;
  readonly schemaVersion: number;
  readonly shape: TableShape;
  readonly files: readonly LiveFile[];
  /** The newest time of any listed file (-Infinity without files). */
  readonly maxColdTimeMs: number;
}

/** Per table, what the last hot-only answers relied on. */
export type HotOnlyCache = Map<string, HotOnlyState>;

const MANIFEST_VERSION = `(SELECT value FROM _tierdb_meta WHERE key = 'manifest_version')`;
const SCHEMA_VERSION = '(SELECT schema_version FROM pragma_schema_version)';
/** Appended to the hot statement's columns: the versions in the statement's own snapshot. */
const VERSION_COLUMNS = `, ${MANIFEST_VERSION}, ${SCHEMA_VERSION}`;

function versionOf(value: unknown): number {
  return value === null || value === undefined ? 0 : Number(value);
}

function readVersions(db: Database.Database): { m: number; s: number } {
  const r = prepareCached(db, `SELECT ${MANIFEST_VERSION}, ${SCHEMA_VERSION}`).raw(true).get() as unknown[];
  return { m: versionOf(r[0]), s: versionOf(r[1]) };
}

function readState(db: Database.Database, t: ResolvedTable): HotOnlyState {
  return withReadSnapshot(db, () => {
    const v = readVersions(db);
    const { shape, files } = readShape(db, t, v.m);
    let maxColdTimeMs = -Infinity;
    for (const f of files) if (f.maxTimeMs > maxColdTimeMs) maxColdTimeMs = f.maxTimeMs;
    return { manifestVersion: v.m, schemaVersion: v.s, shape, files, maxColdTimeMs };
  });
}

/** Whether a statement that ran since the state was read saw the same manifest and schema (see the file comment). */
function stillHolds(db: Database.Database, state: HotOnlyState, rows: readonly unknown[][] = []): boolean {
  const width = state.shape.names.length;
  const first = rows[0];
  if (first) return versionOf(first[width]) === state.manifestVersion && versionOf(first[width + 1]) === state.schemaVersion;
  const v = readVersions(db);
  return v.m === state.manifestVersion && v.s === state.schemaVersion;
}

/** The answer when no listed file can hold a matching row; undefined otherwise (plan it in full). */
export function runHotOnlyQuery(db: Database.Database, t: ResolvedTable, options: QueryOptions, cache: HotOnlyCache): Row[] | undefined {
  registerIsoInstant(db);
  registerInList(db);
  let state = cache.get(t.table);
  if (!state) cache.set(t.table, (state = readState(db, t)));
  const { shape, files } = state;
  let query: ReturnType<typeof normalizeQuery>;
  try {
    query = normalizeQuery(shape, options);
  } catch (error) {
    // Options naming a column added since the state was read: plan it in full, on the current shape.
    if (stillHolds(db, state)) throw error;
    cache.delete(t.table);
    return undefined;
  }
  const { hotLimit } = hotLimitOf(query);
  if (files.length > 0 && hotLimit !== 0) {
    const lo = timeRangeMs(query.conditions, shape).lo;
    if (!(lo !== undefined && lo > state.maxColdTimeMs) && pruneFiles(files, query.conditions, shape).length > 0) return undefined;
  }
  let rows: unknown[][];
  try {
    rows = readHotRows(db, shape, query, VERSION_COLUMNS);
  } catch (error) {
    // A schema change since the state was read (a dropped column) fails the statement: plan it in full.
    if (stillHolds(db, state)) throw error;
    rows = [];
  }
  if (!stillHolds(db, state, rows)) {
    cache.delete(t.table);
    return undefined;
  }
  decideColumnTypes(shape, rows, false);
  const { offset, limit } = query;
  const page = offset === 0 && (limit === undefined || rows.length <= limit) ? rows : rows.slice(offset, limit === undefined ? undefined : offset + limit);
  return arraysToObjects(shape.names, page, query.columns);
}
