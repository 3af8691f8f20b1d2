/**
 * store.delete and store.update: change rows wherever they live, exactly.
 *
 *   1. find the matching rows under one snapshot (findMatches): hot keys, cold
 *      (path, key) pairs, the manifest version;
 *   2. one BEGIN IMMEDIATE: the manifest version unchanged (else re-plan), the
 *      hot rows matching now changed in SQLite, delete markers for the cold
 *      rows, the manifest version bumped — readers see all of it or none;
 *      an updated cold row is inserted hot with its new values (its cold copy
 *      masked).
 *
 * No lease is taken: the archiver and maintenance keep running. An archive
 * commit re-checks its rows (they changed: the chunk is abandoned); a swap
 * whose inputs got a marker after its rewrite read them is refused
 * (dropMarkersOfRetired). Drain steps (which bump the manifest version every
 * few milliseconds while an archive run drains) do not force a new scan: a
 * drain only deletes hot rows equal to their file's copy and moves that file's
 * prefix over them, so the scan's cold matches stay valid and only a matched
 * hot row the drain took away (gone from the hot table at commit) needs one.
 * Any other manifest change since the scan still does.
 */
import type Database from 'better-sqlite3';
import { failpoint } from '../archive/failpoint.js';
import type { ColdStore } from '../cold/ColdStore.js';
import { sqlIdent } from '../cold/DuckDbEngine.js';
import type { TierConfig } from '../config.js';
import { ArgumentError, ManifestChangedError, ReadOnlyStoreError } from '../errors.js';
import { checkRowValues } from '../hot/checkRowValues.js';
import { readAppendShape } from '../hot/appendToTable.js';
import { insertMarkers, markerTotal, type Marker, type MarkerOp } from '../manifest/deleteMarkers.js';
import { coldTotals } from '../manifest/manifestFiles.js';
import { bumpManifestVersion, readLayoutVersion } from '../manifest/manifestVersion.js';
import { createMaintenanceEngine } from '../maintenance/maintenanceRun.js';
import type { QueryOptions } from '../query/QueryOptions.js';
import { renderWhere } from '../query/renderFilter.js';
import { withInLists } from '../query/sqliteInList.js';
import type { ResolvedTable } from '../registry/resolveRegistry.js';
import { findMatches, matchingHotKeysNow, type Matches } from './findMatches.js';

export interface ChangeOptions {
  /** The same where-language as `bridge.query`. Required: an empty filter is refused unless `all: true`. */
  where?: QueryOptions['where'];
  /** Allow a filter that selects every row of the table. */
  all?: boolean;
}

export interface UpdateOptions extends ChangeOptions {
  /** New values by column (not the key column). */
  set: Record<string, unknown>;
}

export interface ChangeResult {
  /** Rows changed in the hot table. */
  hot: number;
  /** Cold rows changed: masked by delete markers (update: their new values are now hot). */
  cold: number;
}

export interface ChangeDeps {
  /** The writer's connection (the archiver's). */
  raw: Database.Database;
  config: TierConfig;
  cold: ColdStore;
  readonly: boolean;
}

const ATTEMPTS = 5;

/** Something moved between the scan and the commit: scan again. */
class Replan extends Error {}

export function assertWhere(t: ResolvedTable, what: string, o: ChangeOptions): void {
  if (o === null || typeof o !== 'object') throw new ArgumentError(`${what}: options must be an object like { where: { … } }`);
  const where = o.where;
  const empty = where === undefined || where === null || (typeof where === 'object' && Object.values(where).every((v) => v === undefined));
  if (empty && o.all !== true) {
    throw new ArgumentError(`${what} ${t.table}: no where filter given; it would change every row. Pass { all: true } to mean that`);
  }
}

/** Every visible row of the table, from the manifest and markers (an estimate only above when a key is both hot and cold). */
function visibleRows(raw: Database.Database, t: ResolvedTable): number {
  const hot = raw.prepare(`SELECT count(*) FROM ${sqlIdent(t.table)}`).pluck().get() as number;
  return hot + coldTotals(raw, t.table).rows - markerTotal(raw, t.table);
}

export function assertNotEveryRow(raw: Database.Database, t: ResolvedTable, what: string, o: ChangeOptions, matched: number): void {
  if (o.all === true || matched === 0) return;
  if (matched >= visibleRows(raw, t)) {
    throw new ArgumentError(`${what} ${t.table}: the filter selects every row of the table (${matched}); pass { all: true } to mean that. Nothing was changed`);
  }
}

/** What one change does inside its transaction: hot rows changed, cold rows changed, the markers that mask them. */
interface Commit {
  hot: number;
  cold: number;
  markers: readonly Marker[];
}

/**
 * Scan, refuse a filter selecting every row (once), then one transaction:
 * manifest version unchanged and no matching hot key the scan missed that may
 * have cold copies (else scan again), the change's own statements, its markers,
 * the version bump.
 */
async function applyChange(deps: ChangeDeps, t: ResolvedTable, what: string, o: ChangeOptions, op: MarkerOp, withValues: boolean, commit: (m: Matches) => Commit): Promise<ChangeResult> {
  const engine = await createMaintenanceEngine(deps.config);
  try {
    for (let attempt = 1; ; attempt++) {
      const m = await findMatches({ raw: deps.raw, cold: deps.cold, engine }, t, o.where, { withValues });
      if (attempt === 1) assertNotEveryRow(deps.raw, t, what, o, m.hotKeys.length + m.cold.length);
      failpoint('change-after-scan');
      try {
        const result = deps.raw
          .transaction(() => {
            const now = readLayoutVersion(deps.raw);
            const hotNow = matchingHotKeysNow(deps.raw, t, m);
            // Only drain steps since the scan (an archive run draining): its matches hold unless one of its hot rows went —
            // a drain may have moved it into its file. Anything else that moved the manifest: scan again.
            const drainedOnly = now.layoutVersion === m.layoutVersion;
            if (hotNow.unseenWithColdCopies || (now.manifestVersion !== m.manifestVersion && (!drainedOnly || hotNow.seenGone))) throw new Replan();
            const c = commit(m);
            insertMarkers(deps.raw, t.table, c.markers, op, now.manifestVersion + 1, Date.now());
            if (c.markers.length > 0) bumpManifestVersion(deps.raw);
            failpoint('change-inside-commit');
            return { hot: c.hot, cold: c.cold };
          })
          .immediate();
        failpoint('change-after-commit');
        return result;
      } catch (error) {
        if (!(error instanceof Replan)) throw error;
        if (attempt >= ATTEMPTS) throw new ManifestChangedError(`${t.table}: the cold tier changed ${ATTEMPTS} times while rows were being found; nothing was changed, try again`);
      }
    }
  } finally {
    engine.close();
  }
}

function assertWritable(deps: ChangeDeps, what: string): void {
  if (deps.readonly) throw new ReadOnlyStoreError(`${what}: the store is open read-only`);
}

export async function deleteRows(deps: ChangeDeps, t: ResolvedTable, o: ChangeOptions): Promise<ChangeResult> {
  assertWritable(deps, 'delete');
  assertWhere(t, 'delete', o);
  return applyChange(deps, t, 'delete', o, 'delete', false, (m) => {
    const where = renderWhere(m.query.conditions, 'sqlite');
    const hot = withInLists(where.params, (bound) => deps.raw.prepare(`DELETE FROM ${sqlIdent(t.table)}${where.sql}`).run(...bound).changes);
    return { hot, cold: m.cold.length, markers: [...m.cold, ...m.shadowed] };
  });
}

/** The `set` values checked against the table's columns (types, NOT NULL, generated); the key column cannot change. */
function checkSet(raw: Database.Database, t: ResolvedTable, set: unknown): { names: string[]; values: unknown[] } {
  if (set === null || typeof set !== 'object' || Array.isArray(set)) throw new ArgumentError(`update ${t.table}: set must be an object of new column values`);
  const given = Object.entries(set as Record<string, unknown>).filter(([, v]) => v !== undefined);
  if (given.length === 0) throw new ArgumentError(`update ${t.table}: set names no column`);
  if (given.some(([name]) => name === t.keyColumn)) {
    throw new ArgumentError(`update ${t.table}: the key column ${t.keyColumn} cannot be changed (delete the row and append it under the new key)`);
  }
  const shape = readAppendShape(raw, t.table, t.keyColumn);
  const loose = { ...shape, keyIsRowid: true, columns: new Map([...shape.columns].map(([n, c]) => [n, { ...c, required: false }])) };
  const checked = checkRowValues(Object.fromEntries(given), loose);
  if (!checked.ok) throw new ArgumentError(`update ${t.table}: ${checked.reason}`);
  return { names: checked.names, values: checked.values };
}

export async function updateRows(deps: ChangeDeps, t: ResolvedTable, o: UpdateOptions): Promise<ChangeResult> {
  assertWritable(deps, 'update');
  assertWhere(t, 'update', o);
  const set = checkSet(deps.raw, t, o?.set);
  return applyChange(deps, t, 'update', o, 'update', true, (m) => {
    const where = renderWhere(m.query.conditions, 'sqlite');
    const assignments = set.names.map((n) => `${sqlIdent(n)} = ?`).join(', ');
    const updated = withInLists(where.params, (bound) => deps.raw.prepare(`UPDATE ${sqlIdent(t.table)} SET ${assignments}${where.sql}`).run(...set.values, ...bound).changes);
    // A visible cold row becomes a hot row with the new values; its cold copy is masked.
    const names = m.shape.names;
    const index = new Map(names.map((n, i) => [n, i]));
    const insert = deps.raw.prepare(`INSERT INTO ${sqlIdent(t.table)} (${names.map(sqlIdent).join(', ')}) VALUES (${names.map(() => '?').join(', ')})`);
    const isHot = deps.raw.prepare(`SELECT 1 FROM ${sqlIdent(t.table)} WHERE ${sqlIdent(t.keyColumn)} = ?`).pluck();
    let cold = 0;
    const markers: Marker[] = [];
    for (const row of m.cold) {
      // A key hot by now is shadowed: the hot row is the visible one (changed above when it matched).
      if (isHot.get(row.key) !== undefined) continue;
      const values = [...row.values!];
      for (const [i, n] of set.names.entries()) values[index.get(n)!] = set.values[i];
      insert.run(...values);
      markers.push({ path: row.path, key: row.key, pos: row.pos });
      cold++;
    }
    // Stale cold copies of matching keys (shadowed by a hot row) are masked too: after the update the hot row is the only version.
    markers.push(...m.shadowed);
    return { hot: updated, cold, markers };
  });
}
