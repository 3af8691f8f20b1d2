/**
 * The public shapes of `store.bridge.query` / `explain`.
 *
 * Value contract (the same for hot and cold rows, in `query` and `sql`):
 *   INTEGER → bigint (always, also small values: exact for 64-bit ids, one type per column)
 *   REAL    → number
 *   TEXT    → string
 *   BLOB    → Buffer
 *   NULL    → null
 * Aggregates in `bridge.sql` follow DuckDB's types: count/sum of integers → bigint, avg → number.
 */

/** A value a `where` compares with: bigint/number for INTEGER and REAL columns, string for TEXT, Buffer for BLOB. */
export type WhereScalar = bigint | number | string | Buffer | Uint8Array | Date | null;

/** Operators of one column's condition; several in one object mean AND. */
export interface WhereOperators {
  /** Equality; `eq: null` means IS NULL. */
  eq?: WhereScalar;
  /** Inequality (rows where the column is NULL never match); `ne: null` means IS NOT NULL. */
  ne?: WhereScalar;
  gt?: WhereScalar;
  gte?: WhereScalar;
  lt?: WhereScalar;
  lte?: WhereScalar;
  /** One of the values; an empty list matches nothing. */
  in?: readonly WhereScalar[];
  /**
   * SQLite LIKE on both tiers (TEXT columns only): `%` any run of characters, `_` one
   * character (a whole code point: é, 😀), no escape character. Case-insensitive for
   * the ASCII letters A–Z only; every other character matches only itself, so
   * `'é%'` finds "éclair" but not "Éclair", `'ß'` not "ẞ", `'i%'` not "İstanbul".
   */
  like?: string;
  /** true: IS NULL, false: IS NOT NULL. */
  isNull?: boolean;
}

export const WHERE_OPERATORS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'like', 'isNull'] as const;
export type WhereOperator = (typeof WHERE_OPERATORS)[number];

/** `{ col: value }` (equality) or `{ col: { gt: 1, lt: 5 } }`; several columns mean AND. */
export type Where = Readonly<Record<string, WhereScalar | WhereOperators>>;

export type SortDirection = 'asc' | 'desc';

/** `[{ create_time: 'desc' }, { msg_id: 'asc' }]` (or one object with several keys, in order). */
export type OrderBy = readonly Readonly<Record<string, SortDirection>>[] | Readonly<Record<string, SortDirection>>;

export interface QueryOptions {
  where?: Where;
  /**
   * Sort order. Rows that tie on every listed column come in key order (the key
   * column is always the last tie-breaker), so a result is deterministic. Default: key order.
   */
  orderBy?: OrderBy;
  limit?: number;
  offset?: number;
  /** Columns to return (default: every column of the table, in table order). */
  columns?: readonly string[];
}

/** One result row: plain object keyed by column name. */
export type Row = Record<string, unknown>;

/** What a query would read (see `bridge.explain`). */
export interface ExplainResult {
  /** True when hot (SQLite) rows are part of the answer. */
  hot: boolean;
  /** The manifest paths (relative to the cold folder) DuckDB would read, after pruning. */
  coldFiles: string[];
  /** True when the cold part would be served from the cold result cache. */
  cache: boolean;
}
