/**
 * Validates `bridge.query` options against a table and turns them into plain
 * conditions and sort keys. Unknown columns, operators or directions are
 * ArgumentErrors naming them.
 */
import { ArgumentError } from '../errors.js';
import { coerceWhereValue } from './coerceWhereValue.js';
import { WHERE_OPERATORS, type QueryOptions, type WhereOperator } from './QueryOptions.js';
import type { ShapeColumn, TableShape } from './tableShape.js';

export type ConditionOp = 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'like' | 'isNull' | 'notNull';

export interface Condition {
  readonly column: string;
  readonly op: ConditionOp;
  /** One value (eq…lte, like), the list (in), none (isNull, notNull). */
  readonly values: readonly unknown[];
  /** The `iso` time column compared as instants (see isoInstantMs); the values are UTC ISO text. */
  readonly instant?: boolean;
}

export interface SortKey {
  readonly column: string;
  readonly desc: boolean;
}

export interface NormalizedQuery {
  readonly conditions: readonly Condition[];
  /** The requested order, then the key column as the last tie-breaker. */
  readonly order: readonly SortKey[];
  readonly limit: number | undefined;
  readonly offset: number;
  /** Columns returned, in order. */
  readonly columns: readonly string[];
}

const OPTION_NAMES = new Set(['where', 'orderBy', 'limit', 'offset', 'columns']);
const OPERATORS: ReadonlySet<string> = new Set(WHERE_OPERATORS);
const INSTANT_OPS = new Set<ConditionOp>(['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof Date);
}

function columnOf(shape: TableShape, name: string, where: string): ShapeColumn {
  const column = shape.byName.get(name);
  if (!column) {
    throw new ArgumentError(`${where}: unknown column ${JSON.stringify(name)} in table ${shape.table} (columns: ${shape.names.join(', ')})`);
  }
  return column;
}

function wholeNumber(value: unknown, name: string): number {
  const n = typeof value === 'bigint' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new ArgumentError(`${name} must be a whole number >= 0; got ${String(value)}`);
  }
  return n;
}

function conditionsFor(shape: TableShape, column: ShapeColumn, spec: unknown): Condition[] {
  const at = `where.${column.name}`;
  if (!isPlainObject(spec)) {
    if (spec === null || spec === undefined) return [{ column: column.name, op: 'isNull', values: [] }];
    return [{ column: column.name, op: 'eq', values: [coerceWhereValue(shape, column, spec, at)] }];
  }
  const entries = Object.entries(spec).filter(([, v]) => v !== undefined);
  if (entries.length === 0) throw new ArgumentError(`${at}: no operator given (use one of ${WHERE_OPERATORS.join(', ')})`);
  const out: Condition[] = [];
  for (const [op, value] of entries) {
    const label = `${at}.${op}`;
    if (!OPERATORS.has(op)) {
      throw new ArgumentError(`${at}: unknown operator ${JSON.stringify(op)} (operators: ${WHERE_OPERATORS.join(', ')})`);
    }
    switch (op as WhereOperator) {
      case 'eq':
      case 'ne':
        if (value === null) out.push({ column: column.name, op: op === 'eq' ? 'isNull' : 'notNull', values: [] });
        else out.push({ column: column.name, op: op as ConditionOp, values: [coerceWhereValue(shape, column, value, label)] });
        break;
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte':
        if (value === null) throw new ArgumentError(`${label}: cannot compare with null (use isNull)`);
        out.push({ column: column.name, op: op as ConditionOp, values: [coerceWhereValue(shape, column, value, label)] });
        break;
      case 'in':
        if (!Array.isArray(value)) throw new ArgumentError(`${label}: expected an array of values`);
        out.push({
          column: column.name,
          op: 'in',
          values: value.filter((v) => v !== null && v !== undefined).map((v, i) => coerceWhereValue(shape, column, v, `${label}[${i}]`)),
        });
        break;
      case 'like':
        if (typeof value !== 'string') throw new ArgumentError(`${label}: expected a string pattern`);
        if (column.type !== 'VARCHAR' && column.type !== undefined) {
          throw new ArgumentError(`${label}: like applies to TEXT columns; ${column.name} is ${column.type}`);
        }
        out.push({ column: column.name, op: 'like', values: [value] });
        break;
      case 'isNull':
        if (typeof value !== 'boolean') throw new ArgumentError(`${label}: expected true or false`);
        out.push({ column: column.name, op: value ? 'isNull' : 'notNull', values: [] });
        break;
    }
  }
  return out;
}

function orderEntries(orderBy: unknown): [string, unknown][] {
  if (orderBy === undefined) return [];
  if (Array.isArray(orderBy)) {
    // A loop, not flatMap: this runs on every query (flatMap was half of normalizeQuery's time).
    const out: [string, unknown][] = [];
    for (let i = 0; i < orderBy.length; i++) {
      const item: unknown = orderBy[i];
      if (!isPlainObject(item)) throw new ArgumentError(`orderBy[${i}] must be an object like { create_time: 'desc' }`);
      for (const key in item) if (Object.hasOwn(item, key)) out.push([key, item[key]]);
    }
    return out;
  }
  if (isPlainObject(orderBy)) return Object.entries(orderBy);
  throw new ArgumentError(`orderBy must be an array like [{ create_time: 'desc' }, { msg_id: 'asc' }]`);
}

export function normalizeQuery(shape: TableShape, options: QueryOptions): NormalizedQuery {
  if (!isPlainObject(options)) throw new ArgumentError('query options must be an object');
  for (const name of Object.keys(options)) {
    if (!OPTION_NAMES.has(name)) throw new ArgumentError(`unknown query option ${JSON.stringify(name)} (options: ${[...OPTION_NAMES].join(', ')})`);
  }
  const conditions: Condition[] = [];
  if (options.where !== undefined) {
    if (!isPlainObject(options.where)) throw new ArgumentError('where must be an object like { status: "done" }');
    for (const [name, spec] of Object.entries(options.where)) {
      if (spec === undefined) continue;
      const instants = shape.timeUnit === 'iso' && name === shape.timeColumn;
      for (const c of conditionsFor(shape, columnOf(shape, name, 'where'), spec)) {
        conditions.push(instants && INSTANT_OPS.has(c.op) ? { ...c, instant: true } : c);
      }
    }
  }
  const order: SortKey[] = [];
  const seen = new Set<string>();
  for (const [name, direction] of orderEntries(options.orderBy)) {
    columnOf(shape, name, 'orderBy');
    const dir = typeof direction === 'string' ? direction.toLowerCase() : direction;
    if (dir !== 'asc' && dir !== 'desc') throw new ArgumentError(`orderBy.${name}: direction must be 'asc' or 'desc'; got ${JSON.stringify(direction)}`);
    if (seen.has(name)) continue;
    seen.add(name);
    order.push({ column: name, desc: dir === 'desc' });
  }
  if (!seen.has(shape.keyColumn)) order.push({ column: shape.keyColumn, desc: false });
  let columns: readonly string[] = shape.names;
  if (options.columns !== undefined) {
    if (!Array.isArray(options.columns) || options.columns.length === 0) throw new ArgumentError('columns must be a non-empty array of column names');
    columns = options.columns.map((c) => {
      if (typeof c !== 'string') throw new ArgumentError(`columns: ${String(c)} is not a column name`);
      return columnOf(shape, c, 'columns').name;
    });
  }
  return {
    conditions,
    order,
    limit: options.limit === undefined ? undefined : wholeNumber(options.limit, 'limit'),
    offset: options.offset === undefined ? 0 : wholeNumber(options.offset, 'offset'),
    columns,
  };
}
