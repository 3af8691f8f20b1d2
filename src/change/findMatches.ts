/**
 * The rows a change (delete, update, erase) applies to, under one read
 * snapshot of the writer's connection: the rows a `bridge.query` with the same
 * `where` would return, split by where they live.
 *
 * - hot rows matching the filter (SQLite, through its indexes);
 * - cold rows matching it, in the live files left after pruning, minus rows
 *   delete markers already hide — each with the manifest path of its file;
 * - every cold copy of a matching hot key (a key both hot and cold: the hot
 *   row is the visible one, its stale copies must go with it).
 *
 * A cold match whose key is hot is shadowed (the bridge shows the hot row):
 * it is marked with the change but not counted. The caller commits only while
 * `manifestVersion` is unchanged (changeRows.ts, eraseRows.ts).
 */
import type Database from 'better-sqlite3';
import { DuckDBBlobValue } from '../cold/duckdbApi.js';
import type { ColdStore } from '../cold/ColdStore.js';
import { coldKeyCandidates, type ColdKey } from '../cold/coldKeyCandidates.js';
import { sqlIdent, type DuckDbEngine } from '../cold/DuckDbEngine.js';
import { FILE_COLUMN, POS_COLUMN } from '../cold/markedRows.js';
import { keyText } from '../archive/chunkKeys.js';
import type { Marker } from '../manifest/deleteMarkers.js';
import type { ResolvedTable } from '../registry/resolveRegistry.js';
import { loadColdMarks } from '../query/coldMarks.js';
import { coldRelation } from '../query/coldRelation.js';
import { decideColumnTypes } from '../query/decideColumnTypes.js';
import { openColdFiles } from '../query/openColdFiles.js';
import { planQuery, readPlanMarks, readShape } from '../query/planQuery.js';
import type { QueryOptions } from '../query/QueryOptions.js';
import { appendRows, createTempTable } from '../query/appendRows.js';
import type { NormalizedQuery } from '../query/normalizeQuery.js';
import type { TableShape } from '../query/tableShape.js';
import { renderWhere } from '../query/renderFilter.js';
import { withInLists } from '../query/sqliteInList.js';
import { toColdFileError } from '../query/toColdFileError.js';
import { toDuckParams } from '../query/toDuckParams.js';
import type { LiveFile } from '../query/readLiveFiles.js';
import { withReadSnapshot } from '../query/withReadSnapshot.js';
import { readLayoutVersion } from '../manifest/manifestVersion.js';

export interface ColdMatch {
  /** Manifest path of the live file holding the row. */
  readonly path: string;
  readonly key: unknown;
  /** The row's position in the file (`file_row_number`): its marker's. */
  readonly pos: number;
  /** Every column of the table (shape order), when asked for (update). */
  readonly values?: unknown[];
}

export interface Matches {
  readonly shape: TableShape;
  readonly query: NormalizedQuery;
  readonly manifestVersion: number;
  /** The manifest version without drain steps, read in the same snapshot (readLayoutVersion). */
  readonly layoutVersion: number;
  /** Keys of the hot rows matching the filter at the snapshot. */
  readonly hotKeys: readonly unknown[];
  /** Visible cold rows matching the filter (not shadowed by a hot key). */
  readonly cold: readonly ColdMatch[];
  /** Cold rows to mask that are not visible: matches shadowed by a hot row, and cold copies of matching hot keys. */
  readonly shadowed: readonly Marker[];
  /** With `includeMasked`: matching rows a delete marker already hides (still in their files until rewritten). */
  readonly masked: readonly Marker[];
}

export interface FindMatchesDeps {
  raw: Database.Database;
  cold: ColdStore;
  engine: DuckDbEngine;
}

/** Rows of DuckDB → SQLite values (BLOB as Buffer). */
function sqliteValues(row: readonly unknown[]): unknown[] {
  return row.map((v) => (v instanceof DuckDBBlobValue ? Buffer.from(v.bytes) : v));
}

async function scanCold(
  deps: FindMatchesDeps,
  shape: TableShape,
  files: readonly LiveFile[],
  types: ReturnType<typeof decideColumnTypes>,
  whereSql: { sql: string; params: unknown[] },
  withValues: boolean,
  includeMasked = false,
): Promise<{ path: string; key: unknown; pos: number; values?: unknown[] }[]> {
  if (files.length === 0) return [];
  const read = await openColdFiles(deps.cold, files);
  try {
    const con = deps.engine.connection;
    const marks = includeMasked ? undefined : await loadColdMarks(con, '__tierdb_change_marks', read, readPlanMarks(deps.raw, files), shape.keyColumn);
    const columns = withValues ? '*' : `${FILE_COLUMN}, ${POS_COLUMN}, ${sqlIdent(shape.keyColumn)}`;
    const params = toDuckParams(whereSql.params, false);
    const sql = `SELECT ${columns} FROM ${coldRelation(read, shape.names, types, marks, true)} AS c${whereSql.sql}`;
    let rows: unknown[][];
    try {
      rows = (await con.runAndReadAll(sql, params.values, params.types)).getRows() as unknown[][];
    } catch (error) {
      throw toColdFileError(error, read);
    }
    const pathOf = new Map(read.local.map((local, i) => [local, files[i]!.path]));
    return rows.map((row) => {
      const path = pathOf.get(String(row[0])) ?? String(row[0]);
      const pos = Number(row[1]);
      if (!withValues) return { path, key: row[2], pos };
      const values = sqliteValues(row.slice(2));
      return { path, key: values[shape.keyIndex], pos, values };
    });
  } finally {
    read.release();
  }
}

export async function findMatches(
  deps: FindMatchesDeps,
  t: ResolvedTable,
  where: QueryOptions['where'],
  options: { withValues: boolean; includeMasked?: boolean },
): Promise<Matches> {
  const { raw } = deps;
  const { plan, layoutVersion } = withReadSnapshot(raw, () => {
    const p = planQuery(raw, t, { where });
    return { plan: p, layoutVersion: readLayoutVersion(raw).layoutVersion };
  });
  const { shape } = plan;
  const hotKeys = plan.hotRows.map((r) => r[shape.keyIndex]);
  const types = decideColumnTypes(shape, plan.hotRows, false);
  const scanned = await scanCold(deps, shape, plan.coldFiles, types, renderWhere(plan.query.conditions, 'duckdb'), options.withValues, options.includeMasked);
  const masked: Marker[] = [];
  let matched = scanned;
  if (options.includeMasked) {
    const hidden = new Set(plan.coldFiles.length === 0 ? [] : [...readPlanMarks(raw, plan.coldFiles).byPath].flatMap(([p, keys]) => keys.map((k) => `${p}\u0000${keyText(k)}`)));
    matched = [];
    for (const m of scanned) (hidden.has(`${m.path}\u0000${keyText(m.key)}`) ? masked : matched).push(m);
  }

  // Cold copies of matching hot keys, wherever they are (the filter may not select the stale copy).
  const { files } = readShape(raw, t, plan.manifestVersion);
  const live = new Map(files.map((f) => [f.path, f]));
  const copyFiles = [...coldKeyCandidates(raw, t.table, hotKeys.filter((k): k is ColdKey => typeof k === 'bigint' || typeof k === 'string')).keys()]
    .map((p) => live.get(p))
    .filter((f): f is LiveFile => f !== undefined);
  let copies: { path: string; key: unknown; pos: number }[] = [];
  if (copyFiles.length > 0) {
    const keyType = types[shape.keyIndex]!;
    const con = deps.engine.connection;
    await con.run('DROP TABLE IF EXISTS __tierdb_change_keys');
    await createTempTable(con, '__tierdb_change_keys', ['k'], [keyType]);
    await appendRows(con, '__tierdb_change_keys', [keyType], hotKeys.map((k) => [k]));
    copies = await scanCold(deps, shape, copyFiles, types, { sql: ` WHERE ${sqlIdent(shape.keyColumn)} IN (SELECT k FROM __tierdb_change_keys)`, params: [] }, false);
  }

  const hot = new Set(plan.overlapKeys.map(keyText));
  const cold: ColdMatch[] = [];
  const shadowed: Marker[] = [];
  for (const m of matched) (hot.has(keyText(m.key)) ? shadowed : cold).push(m);
  const seen = new Set(shadowed.map((m) => `${m.path}\u0000${keyText(m.key)}`));
  for (const c of copies) {
    const id = `${c.path}\u0000${keyText(c.key)}`;
    if (!seen.has(id)) {
      seen.add(id);
      shadowed.push({ path: c.path, key: c.key, pos: c.pos });
    }
  }
  return { shape, query: plan.query, manifestVersion: plan.manifestVersion, layoutVersion, hotKeys, cold, shadowed, masked };
}

/**
 * Inside the change's transaction: the keys of the hot rows matching the
 * filter now, whether one the scan did not see falls inside a live file's
 * key range (its cold copies were not looked up: scan again), and whether one
 * it saw is gone (or no longer matches): a drain step since the scan may have
 * moved it into its file, where the change would miss it.
 */
export function matchingHotKeysNow(raw: Database.Database, t: ResolvedTable, m: Matches): { keys: unknown[]; unseenWithColdCopies: boolean; seenGone: boolean } {
  const where = renderWhere(m.query.conditions, 'sqlite');
  const keys = withInLists(where.params, (bound) =>
    raw.prepare(`SELECT ${sqlIdent(t.keyColumn)} FROM ${sqlIdent(t.table)}${where.sql}`).pluck().safeIntegers(true).all(...bound),
  ) as unknown[];
  const seen = new Set(m.hotKeys.map(keyText));
  const unseen: ColdKey[] = [];
  let stillSeen = 0;
  for (const k of keys) {
    if (seen.has(keyText(k))) stillSeen++;
    else if (typeof k === 'bigint' || typeof k === 'string') unseen.push(k);
  }
  return { keys, unseenWithColdCopies: unseen.length > 0 && coldKeyCandidates(raw, t.table, unseen).size > 0, seenGone: stillSeen < seen.size };
}
