/**
 * The filter options `query`, `explain` and `export` share, and their
 * translation into bridge query options: CLI syntax only, no I/O.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { affinityType } from '../cold/columnTypes.js';
import { ArgumentError } from '../errors.js';
import type { OrderBy, QueryOptions, SortDirection, WhereOperators, WhereScalar } from '../query/QueryOptions.js';
import type { ResolvedTable } from '../registry/resolveRegistry.js';
import { valueToMs } from '../registry/timeUnit.js';

/** The filter options `query`, `explain` and `export` share. */
export interface FilterOptions {
  where: string[];
  since?: string;
  until?: string;
  order: string[];
  limit?: number;
  offset?: number;
  columns?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Parses `100` (also `1_000`) as a whole number >= 0. */
export function wholeNumberOption(value: string): number {
  const digits = value.replaceAll('_', '');
  if (!/^\d+$/.test(digits) || !Number.isSafeInteger(Number(digits))) throw new InvalidArgumentError(`expected a whole number, got ${JSON.stringify(value)}`);
  return Number(digits);
}

/** Adds --where/--since/--until, and with `paging` also --order/--limit/--offset/--columns. */
export function addFilterOptions(cmd: Command, paging = true): Command {
  cmd
    .option(
      '--where <cond>',
      'a condition, repeatable (AND): col=val, col!=val, col>val, col>=val, col<val, col<=val, col~pattern (LIKE: % and _, ASCII case-insensitive)',
      collect,
      [],
    )
    .option('--since <iso>', "rows at or after this time (ISO-8601) on the table's registered time column")
    .option('--until <iso>', "rows before this time (ISO-8601, exclusive) on the table's registered time column");
  if (paging) {
    cmd
      .option('--order <col[:dir]>', 'sort by a column, asc (default) or desc; repeatable; ties are broken by the key', collect, [])
      .option('--limit <n>', 'at most n rows', wholeNumberOption)
      .option('--offset <n>', 'skip the first n rows', wholeNumberOption)
      .option('--columns <a,b>', 'only these columns, in this order');
  }
  return cmd;
}

const OPERATORS: [string, keyof WhereOperators][] = [
  ['>=', 'gte'],
  ['<=', 'lte'],
  ['!=', 'ne'],
  ['<>', 'ne'],
  ['=', 'eq'],
  ['>', 'gt'],
  ['<', 'lt'],
  ['~', 'like'],
];

/**
 * The value a `--where` text stands for, by the column's declared type:
 * INTEGER columns take an integer as a bigint (exact to 64 bits) and a decimal
 * as a number; REAL columns a number; BLOB columns hex (optionally `\x` or `0x`
 * first); everything else, and text that does not parse, stays a string.
 */
export function whereValue(text: string, declaredType: string | undefined): WhereScalar {
  const declared = (declaredType ?? '').toUpperCase();
  const type = affinityType(declared);
  const isInteger = /^[+-]?\d+$/.test(text);
  const isNumber = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text);
  if (type === 'BIGINT') {
    if (isInteger) return BigInt(text);
    if (isNumber) return Number(text);
  }
  if (type === 'DOUBLE' && isNumber) return Number(text);
  if (declared.includes('BLOB')) {
    const hex = text.replace(/^(\\x|0x)/i, '');
    if (/^([0-9a-fA-F]{2})*$/.test(hex)) return Buffer.from(hex, 'hex');
  }
  return text;
}

/** An ISO-8601 time; without an offset it is UTC (as everywhere in tierdb), never local time. */
function isoTime(text: string, flag: string): Date {
  const ms = valueToMs(text.trim(), 'iso');
  if (Number.isNaN(ms)) throw new ArgumentError(`${flag} ${JSON.stringify(text)} is not an ISO-8601 time (e.g. 2026-01-05 or 2026-01-05T12:00:00Z)`);
  return new Date(ms);
}

/** Turns the CLI filter options into bridge query options for one table. */
export function buildQueryOptions(t: ResolvedTable, opts: Partial<FilterOptions>): QueryOptions {
  const where: Record<string, WhereOperators> = {};
  const declared = new Map(t.columns.map((c) => [c.name, c.declaredType]));
  const put = (column: string, op: keyof WhereOperators, value: unknown, source: string) => {
    const ops = (where[column] ??= {});
    if (ops[op] !== undefined) throw new ArgumentError(`${source}: ${column} already has a ${op} condition; give each operator once per column`);
    (ops as Record<string, unknown>)[op] = value;
  };
  for (const cond of opts.where ?? []) {
    const match = /^(.+?)(>=|<=|!=|<>|=|>|<|~)(.*)$/s.exec(cond);
    if (!match) throw new ArgumentError(`--where ${JSON.stringify(cond)}: expected col=val, col!=val, col>val, col>=val, col<val, col<=val or col~pattern`);
    const column = match[1]!.trim();
    const op = OPERATORS.find(([symbol]) => symbol === match[2])![1];
    const text = match[3]!;
    put(column, op, op === 'like' ? text : whereValue(text, declared.get(column)), `--where ${cond}`);
  }
  if (opts.since !== undefined) put(t.timeColumn, 'gte', isoTime(opts.since, '--since'), '--since');
  if (opts.until !== undefined) put(t.timeColumn, 'lt', isoTime(opts.until, '--until'), '--until');

  const orderBy: Record<string, SortDirection>[] = (opts.order ?? []).map((spec) => {
    const match = /^(.+?)(?::(asc|desc))?$/i.exec(spec.trim());
    if (!match || match[1]!.includes(':')) throw new ArgumentError(`--order ${JSON.stringify(spec)}: expected col, col:asc or col:desc`);
    return { [match[1]!]: (match[2]?.toLowerCase() ?? 'asc') as SortDirection };
  });
  const options: QueryOptions = {
    ...(Object.keys(where).length > 0 ? { where } : {}),
    ...(orderBy.length > 0 ? { orderBy: orderBy as OrderBy } : {}),
    ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
    ...(opts.offset !== undefined ? { offset: opts.offset } : {}),
  };
  if (opts.columns !== undefined) {
    const columns = opts.columns.split(',').map((c) => c.trim()).filter((c) => c !== '');
    if (columns.length === 0) throw new ArgumentError('--columns: give at least one column name');
    options.columns = columns;
  }
  return options;
}
