/**
 * Turns the facts about a database into registry suggestions and what the
 * archiver would do with them: per table the entry (or why there is none),
 * the dry run of that entry through the archiver's own planner, and the hot
 * size to expect afterwards. Reads only.
 */
import type Database from 'better-sqlite3';
import type { TableReport } from '../archive/ArchiveReport.js';
import { planTable } from '../archive/planTable.js';
import { DAY_MS } from '../registry/timeUnit.js';
import { ArgumentError } from '../errors.js';
import { noopLogger } from '../logger.js';
import { defineRegistry, type Partition, type Registry, type RegistryEntryInput } from '../registry/defineRegistry.js';
import { resolveEntry } from '../registry/resolveRegistry.js';
import type { DatabaseInspection, TableInspection } from './inspectDatabase.js';

/** The hotDays init suggests unless told otherwise. */
export const DEFAULT_INIT_HOT_DAYS = 30;
/** Below this many rows per day a table is suggested `partition: 'month'`: day files that small are slow to write and read. */
export const MONTH_PARTITION_BELOW_ROWS_PER_DAY = 2_000;
/** Mirrors reclaimSpace: without incremental auto-vacuum, the first run VACUUMs once this share of pages is free. */
const VACUUM_FREE_RATIO = 0.2;

/** A registry entry as init writes it: a plain table name. */
export interface SuggestedEntry extends RegistryEntryInput {
  table: string;
}

export interface InitDryRun {
  rows: number;
  partitions: number;
  /** First and last partition that would move. */
  first?: string;
  last?: string;
  /** Hot bytes those rows take now (bytes per row × rows). */
  bytes: number;
  cutoff: string;
  /** Partitions or values the archiver would refuse, with the reason. */
  refused: string[];
  /** Set when the archiver would refuse the table as a whole. */
  error?: string;
  /** needsAppAssignsKeys only: rows and partitions that would move once `appAssignsKeys: true` is set. */
  withAppAssignsKeys?: { rows: number; partitions: number };
}

export interface TableSuggestion {
  table: string;
  facts: TableInspection;
  /** The entry to write; commented out (with `skip` as the reason) when the table cannot tier as it is. */
  entry?: SuggestedEntry;
  /** What init knows for a commented-out entry (time column, unit, key) so the user can finish it. */
  draft?: Partial<SuggestedEntry>;
  skip?: string;
  /** Comment lines to write above the entry. */
  notes: string[];
  dryRun?: InitDryRun;
  /** Hot bytes of the table now and after the archive (estimated from bytes per row). */
  hotBytes: number;
  hotBytesAfter: number;
}

export type ReclaimForecast =
  /** incremental auto-vacuum: the file shrinks after each run */
  | 'incremental'
  /** auto_vacuum=FULL: SQLite shrinks the file at each commit */
  | 'auto'
  /** auto_vacuum off and ≥20% of pages free after the move: the first run VACUUMs once (needs free disk about the file's size; writers wait) and switches to incremental */
  | 'vacuum'
  /** auto_vacuum off and little freed: the file keeps its size; new rows reuse the freed pages */
  | 'reuse'
  | 'nothing';

export interface InitPlan {
  hotPath: string;
  now: string;
  hotDays: number;
  bytesMethod: DatabaseInspection['bytesMethod'];
  fileBytes: number;
  /** The main file's expected size after the first archive run. */
  fileBytesAfter: number;
  reclaim: ReclaimForecast;
  journalMode: string;
  tables: TableSuggestion[];
}

export interface PlanInitOptions {
  hotDays?: number;
  now?: Date | number;
}

/**
 * Suggests a registry entry per table and runs the archiver's dry-run planner
 * on it. `raw` is the read-only handle the inspection came from.
 */
export async function planInit(raw: Database.Database, facts: DatabaseInspection, options: PlanInitOptions = {}): Promise<InitPlan> {
  const hotDays = options.hotDays ?? DEFAULT_INIT_HOT_DAYS;
  if (!Number.isInteger(hotDays) || hotDays < 0) throw new ArgumentError(`hotDays ${JSON.stringify(hotDays)} is invalid; expected a whole number >= 0`);
  const now = options.now === undefined ? Date.parse(facts.now) : typeof options.now === 'number' ? options.now : options.now.getTime();
  const tables: TableSuggestion[] = [];
  for (const t of facts.tables) tables.push(await suggest(raw, t, hotDays, now));
  const moved = tables.reduce((a, t) => a + (t.hotBytes - t.hotBytesAfter), 0);
  const movedPages = Math.floor(moved / facts.pageSize);
  const pages = Math.max(1, facts.fileBytes / facts.pageSize);
  const reclaim: ReclaimForecast =
    movedPages === 0
      ? 'nothing'
      : facts.autoVacuum === 'incremental'
        ? 'incremental'
        : facts.autoVacuum === 'full'
          ? 'auto'
          : (facts.freePages + movedPages) / pages >= VACUUM_FREE_RATIO
            ? 'vacuum'
            : 'reuse';
  const shrinks = reclaim === 'incremental' || reclaim === 'auto' || reclaim === 'vacuum';
  return {
    hotPath: facts.hotPath,
    now: new Date(now).toISOString(),
    hotDays,
    bytesMethod: facts.bytesMethod,
    fileBytes: facts.fileBytes,
    fileBytesAfter: shrinks ? Math.max(facts.pageSize, facts.fileBytes - (movedPages + facts.freePages) * facts.pageSize) : facts.fileBytes,
    reclaim,
    journalMode: facts.journalMode,
    tables,
  };
}

function partitionFor(t: TableInspection): Partition {
  const b = t.ageBuckets;
  if (!b?.oldest || !b.newest) return 'day';
  const span = Math.max(1, (Date.parse(b.newest) - Date.parse(b.oldest)) / DAY_MS);
  const timed = t.rows - b.noTime;
  return timed / span < MONTH_PARTITION_BELOW_ROWS_PER_DAY ? 'month' : 'day';
}

async function suggest(raw: Database.Database, t: TableInspection, hotDays: number, now: number): Promise<TableSuggestion> {
  const base = { table: t.table, facts: t, notes: [] as string[], hotBytes: t.bytes, hotBytesAfter: t.bytes };
  if (t.skip !== undefined || !t.timeColumn || !t.key) {
    const draft: Partial<SuggestedEntry> = { table: t.table, hotDays };
    const time = t.timeColumn ?? t.timeCandidates[0];
    if (time) {
      draft.timeColumn = time.column;
      draft.timeUnit = time.unit;
    }
    if (t.key && t.key.source !== 'primary key') draft.primaryKey = t.key.column;
    return { ...base, draft, skip: t.skip ?? 'no time column or key' };
  }
  const time = t.timeColumn;
  const entry: SuggestedEntry = { table: t.table, timeColumn: time.column, timeUnit: time.unit, hotDays };
  if (t.key.source !== 'primary key') entry.primaryKey = t.key.column;
  const partition = partitionFor(t);
  if (partition === 'month') entry.partition = 'month';
  const suggestion: TableSuggestion = { ...base, entry };
  const notes = suggestion.notes;
  notes.push(describe(t));
  if (partition === 'month') notes.push(`partition 'month': under ${MONTH_PARTITION_BELOW_ROWS_PER_DAY.toLocaleString('en-US')} rows a day, day files would be small and slow`);
  if (t.key.needsAppAssignsKeys) {
    notes.push(
      `${t.key.column} is an INTEGER PRIMARY KEY without AUTOINCREMENT: SQLite gives a new row max(${t.key.column})+1, so once the newest`,
      `rows are cold it would hand an archived ${t.key.column} out again. tierdb refuses to move this table until you decide:`,
      `uncomment appAssignsKeys only if the app sets every ${t.key.column} itself; otherwise rebuild the key as AUTOINCREMENT.`,
      t.key.dense === true
        ? `(Here the ids run 1..${t.rows} without a gap: they look assigned by SQLite.)`
        : `(Here the ids are not 1..${t.rows} without gaps: they may be set by the app.)`,
    );
  }
  for (const p of t.problems) notes.push(p);
  suggestion.dryRun = await dryRun(raw, entry, t, now);
  if (t.key.needsAppAssignsKeys) {
    const withFlag = await dryRun(raw, { ...entry, appAssignsKeys: true }, t, now);
    suggestion.dryRun.withAppAssignsKeys = { rows: withFlag.rows, partitions: withFlag.partitions };
  }
  const perRow = t.rows > 0 ? t.bytes / t.rows : 0;
  suggestion.hotBytesAfter = Math.max(0, Math.round(t.bytes - suggestion.dryRun.rows * perRow));
  return suggestion;
}

function describe(t: TableInspection): string {
  const c = t.timeColumn!;
  const pct = (n: number): string => `${Math.round((n / Math.max(c.sampled, 1)) * 1000) / 10}%`;
  const others = t.timeCandidates.filter((x) => x !== c).map((x) => `${x.column} (${x.unit}, ${pct(x.matched)})`);
  return (
    `${t.rows.toLocaleString('en-US')} rows; time column ${c.column}: ${c.unit}, ${pct(c.matched)} of ${c.sampled} sampled values (${c.confidence} confidence` +
    `${c.hints.length > 0 ? `; ${c.hints.join(', ')}` : ''}); key ${t.key!.column} (${t.key!.source})` +
    (others.length > 0 ? `; other candidates: ${others.join(', ')}` : '')
  );
}

async function dryRun(raw: Database.Database, entry: SuggestedEntry, t: TableInspection, now: number): Promise<InitDryRun> {
  const resolved = resolveEntry(raw, (defineRegistry([entry as RegistryEntryInput]) as Registry)[0]!);
  const report: TableReport = await planTable({ raw, logger: noopLogger }, resolved, now, undefined);
  const plan = report.plan ?? [];
  const rows = plan.reduce((a, p) => a + p.rows, 0);
  const result: InitDryRun = {
    rows,
    partitions: plan.length,
    bytes: t.rows > 0 ? Math.round((rows * t.bytes) / t.rows) : 0,
    cutoff: report.cutoff,
    refused: report.refused.map((r) => r.reason),
  };
  if (plan.length > 0) {
    result.first = plan[0]!.partition;
    result.last = plan[plan.length - 1]!.partition;
  }
  if (report.error !== undefined) result.error = report.error;
  return result;
}
