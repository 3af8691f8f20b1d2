/**
 * Facts about an existing SQLite database, for `tierdb init`: per table its
 * rows, bytes, candidate time columns, key column and rows per age bucket.
 * The file is opened read-only and never changed (no migration, no WAL
 * switch, no `_tierdb_` tables).
 */
import { existsSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { timeColumnIndexed } from '../archive/partitionScan.js';
import { sqlIdent } from '../cold/DuckDbEngine.js';
import { ArgumentError, NotSqliteError } from '../errors.js';
import { readColumns, type ColumnInfo, type ResolvedTable } from '../registry/resolveRegistry.js';
import { countAgeBuckets, type AgeBuckets } from './countAgeBuckets.js';
import { findKeyColumn, type KeyFinding } from './findKeyColumn.js';
import { guessTimeColumns, timeNameRank, usableTimeColumn, type TimeCandidate } from './guessTimeColumn.js';

/** Rows sampled from each end of a table (oldest and newest by rowid) to judge its columns. */
export const DEFAULT_SAMPLE_ROWS = 500;

/** Table names the registry accepts. */
const REGISTRABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Tables SQLite's virtual-table modules keep behind a virtual table (FTS3/4/5, R*Tree). */
const SHADOW_SUFFIXES = ['_data', '_idx', '_content', '_docsize', '_config', '_segments', '_segdir', '_stat', '_node', '_rowid', '_parent'];

export type BytesMethod = 'dbstat' | 'estimate';

export interface TableInspection {
  table: string;
  rows: number;
  /** Table + its indexes (dbstat), or an estimate from the sampled rows' sizes (table only). */
  bytes: number;
  columns: ColumnInfo[];
  /** Every column that could age the rows, best first. */
  timeCandidates: TimeCandidate[];
  /** The suggested time column (the best usable candidate), if any. */
  timeColumn?: TimeCandidate;
  /** An index starts with the time column (otherwise each archive partition scans the table). */
  timeIndexed?: boolean;
  key?: KeyFinding;
  /** Rows per age bucket by the suggested time column. */
  ageBuckets?: AgeBuckets;
  /** Why the table cannot be tiered as it is; undefined when it can. */
  skip?: string;
  /** Things to know before tiering it (offsets, NULL times, no index…). */
  problems: string[];
}

export interface DatabaseInspection {
  hotPath: string;
  /** The clock the age buckets were counted against (ISO). */
  now: string;
  /** Main file bytes (page_count × page_size); the WAL is not counted. */
  fileBytes: number;
  pageSize: number;
  freePages: number;
  autoVacuum: 'none' | 'full' | 'incremental';
  journalMode: string;
  bytesMethod: BytesMethod;
  tables: TableInspection[];
}

export interface InspectOptions {
  now?: Date | number;
  /** Rows sampled from each end of a table; default DEFAULT_SAMPLE_ROWS. */
  sampleRows?: number;
  /** false: do not use dbstat even where it is built in (estimate bytes instead). */
  dbstat?: boolean;
}

/**
 * Opens an existing SQLite file for reading only. A file that does not exist
 * or is no SQLite database fails naming it.
 */
export function openReadOnly(hotPath: string): Database.Database {
  if (!existsSync(hotPath)) throw new ArgumentError(`${hotPath} does not exist: point --hot-path (or TIERDB_HOT_PATH) at the app's SQLite file`);
  if (!statSync(hotPath).isFile()) throw new ArgumentError(`${hotPath} is not a file`);
  let raw: Database.Database | undefined;
  try {
    raw = new Database(hotPath, { readonly: true, fileMustExist: true });
    raw.prepare('SELECT count(*) FROM sqlite_schema').get();
    return raw;
  } catch (cause) {
    raw?.close();
    throw new NotSqliteError(hotPath, `cannot read ${hotPath} as a SQLite database: ${(cause as Error).message}`, { cause });
  }
}

/**
 * Inspects every app table of the SQLite file at `hotPath` (read-only).
 *
 * @example
 * const facts = inspectDatabase('app.db');
 * for (const t of facts.tables) console.log(t.table, t.rows, t.timeColumn?.column, t.key?.column, t.skip);
 */
export function inspectDatabase(hotPath: string, options: InspectOptions = {}): DatabaseInspection {
  const raw = openReadOnly(hotPath);
  try {
    return inspectOpenDatabase(raw, hotPath, options);
  } finally {
    raw.close();
  }
}

/** `inspectDatabase` on a handle the caller opened (read-only) and closes. */
export function inspectOpenDatabase(raw: Database.Database, hotPath: string, options: InspectOptions = {}): DatabaseInspection {
  const now = options.now === undefined ? Date.now() : typeof options.now === 'number' ? options.now : options.now.getTime();
  const sampleRows = options.sampleRows ?? DEFAULT_SAMPLE_ROWS;
  const pageSize = raw.pragma('page_size', { simple: true }) as number;
  const pageCount = raw.pragma('page_count', { simple: true }) as number;
  const dbstat = options.dbstat === false ? undefined : readDbstat(raw);
  const schema = raw
    .prepare(`SELECT name, coalesce(sql, '') AS sql FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_tierdb\\_%' ESCAPE '\\' ORDER BY name`)
    .all() as { name: string; sql: string }[];
  const virtual = schema.filter((t) => /^CREATE\s+VIRTUAL\s+TABLE/i.test(t.sql)).map((t) => t.name);
  const tables = schema.map((t) => {
    const owner = virtual.find((v) => SHADOW_SUFFIXES.some((s) => t.name === `${v}${s}`));
    if (virtual.includes(t.name)) return bare(t.name, 'a virtual table (its rows live in its module, not in a plain table)');
    if (owner !== undefined) return bare(t.name, `a shadow table of the virtual table ${owner}`);
    return inspectTable(raw, t.name, /WITHOUT\s+ROWID/i.test(t.sql), now, sampleRows, dbstat);
  });
  const autoVacuum = raw.pragma('auto_vacuum', { simple: true }) as number;
  return {
    hotPath,
    now: new Date(now).toISOString(),
    fileBytes: pageSize * pageCount,
    pageSize,
    freePages: raw.pragma('freelist_count', { simple: true }) as number,
    autoVacuum: autoVacuum === 2 ? 'incremental' : autoVacuum === 1 ? 'full' : 'none',
    journalMode: String(raw.pragma('journal_mode', { simple: true })),
    bytesMethod: dbstat ? 'dbstat' : 'estimate',
    tables,
  };
}

function bare(table: string, skip: string): TableInspection {
  return { table, rows: 0, bytes: 0, columns: [], timeCandidates: [], skip, problems: [] };
}

/** Bytes per table, indexes included, from dbstat; undefined where dbstat is not built in. */
function readDbstat(raw: Database.Database): Map<string, number> | undefined {
  let pages: { name: string; bytes: number }[];
  try {
    pages = raw.prepare('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name').all() as { name: string; bytes: number }[];
  } catch {
    return undefined;
  }
  const owner = new Map((raw.prepare(`SELECT name, tbl_name FROM sqlite_schema WHERE type IN ('table', 'index')`).all() as { name: string; tbl_name: string }[]).map((r) => [r.name, r.tbl_name]));
  const bytes = new Map<string, number>();
  for (const p of pages) {
    const table = owner.get(p.name) ?? p.name;
    bytes.set(table, (bytes.get(table) ?? 0) + p.bytes);
  }
  return bytes;
}

/** Bytes a value takes in a SQLite record, roughly. */
function valueBytes(v: unknown): number {
  if (v === null || v === undefined) return 1;
  if (typeof v === 'string') return Buffer.byteLength(v) + 2;
  if (Buffer.isBuffer(v)) return v.length + 2;
  return 9;
}

function inspectTable(
  raw: Database.Database,
  table: string,
  withoutRowid: boolean,
  now: number,
  sampleRows: number,
  dbstat: Map<string, number> | undefined,
): TableInspection {
  const columns = readColumns(raw, table) ?? [];
  const from = sqlIdent(table);
  const rows = raw.prepare(`SELECT count(*) FROM ${from}`).pluck().get() as number;
  const list = columns.map((c) => sqlIdent(c.name)).join(', ');
  const sample = (sql: string, limit: number): unknown[][] => raw.prepare(sql).raw(true).safeIntegers(true).all(limit) as unknown[][];
  // The first and the last rows by rowid: usually the oldest and the newest, where a unit or format change would show.
  const head = sample(`SELECT ${list} FROM ${from} LIMIT ?`, sampleRows);
  const tailRows = Math.min(sampleRows, rows - sampleRows);
  const tail = withoutRowid || tailRows <= 0 ? [] : sample(`SELECT ${list} FROM ${from} ORDER BY _rowid_ DESC LIMIT ?`, tailRows);
  const sampled = [...head, ...tail];
  const samples = new Map(columns.map((c, i) => [c.name, sampled.map((r) => r[i]).filter((v) => v !== null)]));
  const estimate = sampled.length === 0 ? 0 : Math.round((sampled.reduce((a, r) => a + r.reduce((b: number, v) => b + valueBytes(v), 4), 0) / sampled.length) * rows);
  const facts: TableInspection = {
    table,
    rows,
    bytes: dbstat ? (dbstat.get(table) ?? 0) : estimate,
    columns,
    timeCandidates: guessTimeColumns(columns, samples),
    problems: [],
  };
  const skips: string[] = [];
  if (!REGISTRABLE_NAME.test(table)) skips.push(`its name ${JSON.stringify(table)} is not one the registry accepts (letters, digits, _)`);

  const best = facts.timeCandidates[0];
  if (best && usableTimeColumn(best)) {
    facts.timeColumn = best;
    describeTimeColumn(raw, facts, best, now);
  } else if (best && best.sampled === 0) {
    skips.push(`${best.column} has no values to sample (${facts.rows === 0 ? 'the table is empty' : 'all NULL'}), so its unit cannot be told; fill in timeUnit and enable it`);
  } else if (best) {
    const shares = facts.timeCandidates.map((c) => `${c.column} ${Math.round(((c.matched + c.offsets) / Math.max(c.sampled, 1)) * 100)}% ${c.unit}`);
    skips.push(`no usable time column: no column has ≥90% of sampled values as times in 2000–2100 (${shares.join(', ')})`);
  } else {
    skips.push('no time column: no column is named or typed like a time, and no sampled values are times in 2000–2100');
  }

  const key = columns.length > 0 ? findKeyColumn(raw, table, columns, rows) : { problem: 'no columns' };
  if ('key' in key) {
    facts.key = key.key;
    if (key.key.nullKeys > 0) facts.problems.push(`${key.key.nullKeys} rows have a NULL ${key.key.column}: they stay hot`);
  } else skips.push(`no key: ${key.problem}`);
  if (skips.length > 0) facts.skip = skips.join('; ');
  return facts;
}

function describeTimeColumn(raw: Database.Database, facts: TableInspection, c: TimeCandidate, now: number): void {
  const col = `${facts.table}.${c.column}`;
  if (c.offsets > 0) {
    facts.problems.push(
      `${c.offsets} of ${c.sampled} sampled ${col} values carry an offset other than UTC (e.g. ${JSON.stringify(c.offsetExample)}): ` +
        'tierdb keeps such rows hot (ISO times must be UTC: Z, +00:00 or no offset); store them in UTC',
    );
  }
  if (c.misses > 0) {
    facts.problems.push(`${c.misses} of ${c.sampled} sampled ${col} values are not ${c.unit} times in 2000–2100 (e.g. ${JSON.stringify(c.missExample)}): such rows stay hot`);
  }
  if (timeNameRank(c.column) === 1) facts.problems.push(`${col} looks like a time that changes after the row is made: rows would age by their last change`);
  facts.ageBuckets = countAgeBuckets(raw, facts.table, c.column, c.unit, now);
  if (facts.ageBuckets.noTime > 0) facts.problems.push(`${facts.ageBuckets.noTime} rows have no ${c.unit} time in ${col} (NULL or another type): they stay hot`);
  facts.timeIndexed = timeColumnIndexed(raw, { table: facts.table, timeColumn: c.column } as ResolvedTable);
  if (!facts.timeIndexed && facts.rows > 0) {
    facts.problems.push(
      `no index starts with ${c.column}: each archived partition scans the whole table (init changes nothing; consider ` +
        `CREATE INDEX ${sqlIdent(`${facts.table}_${c.column}_idx`)} ON ${sqlIdent(facts.table)} (${sqlIdent(c.column)}))`,
    );
  }
}
