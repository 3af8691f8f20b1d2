/**
 * A bridge.sql statement, as DuckDB parsed it (`json_serialize_sql`), printed
 * again as SQLite SQL — only when it is in a small subset where both engines
 * give the same answer. Then a statement that reads hot rows alone runs on
 * SQLite where the rows are, instead of copying them into DuckDB.
 *
 * The subset: one SELECT over one registered table (an optional alias), no
 * CTE, join, subquery or set operation; select items that are columns, `*`, or
 * aliased aggregates (`count(*)`, `count([DISTINCT] col)`, `min`/`max` of a
 * column, `sum`/`avg` of an INTEGER column); WHERE and HAVING built from
 * AND/OR/NOT, comparisons, IN lists, BETWEEN and IS [NOT] NULL between a
 * column (or aggregate) and a constant or parameter of the same type; GROUP BY
 * columns or positions; ORDER BY positions, aliases, columns or aggregates
 * (NULLS FIRST/LAST as given; the defaults agree, see createBridgeDuckDb);
 * LIMIT/OFFSET constants; DISTINCT. Anything else — a function, arithmetic
 * (DuckDB's `/` divides as a float), LIKE (case-sensitive in DuckDB), a cast,
 * a float literal, a comparison across types — is not translated, and the
 * statement runs in DuckDB as before. When in doubt: undefined.
 *
 * Every column is printed qualified (so an ORDER BY alias never captures it),
 * every result column gets the name DuckDB would give it, and `columns` says
 * which JS type each value must have, as DuckDB would return it.
 */
import type { ColdType } from '../cold/columnTypes.js';
import { sqlIdent, sqlString } from '../cold/DuckDbEngine.js';
import type { SqlJson } from './readSqlReferences.js';
import type { TableShape } from './tableShape.js';

/**
 * How a result column's values come back: bigint, number, string or Buffer
 * (or null). `UNTYPED`: a column whose type the DuckDB copy takes from its
 * first hot value (no declared affinity, no cold file): only text and BLOB
 * values are certain to come back alike (DuckDB may turn integers into reals).
 */
export type ResultKind = ColdType | 'UNTYPED';

export interface ResultColumn {
  readonly name: string;
  readonly kind: ResultKind;
}

/** A lower bound on the table's time column from the WHERE clause's top-level AND: rows older than it cannot match. */
export type TimeLowerBound = { readonly param: number } | { readonly value: number };

export interface SqliteTranslation {
  /** The registered table the statement reads. */
  readonly table: string;
  /** The statement for SQLite, with `?` placeholders. */
  readonly sql: string;
  /** For each `?` of `sql` in order, the index (0-based) of the bridge.sql parameter it binds. */
  readonly paramOrder: readonly number[];
  /** The type each parameter is compared with (index 0-based); every index below the statement's parameter count is present. */
  readonly paramTypes: readonly ColdType[];
  readonly columns: readonly ResultColumn[];
  readonly timeLowerBounds: readonly TimeLowerBound[];
}

class Unsupported extends Error {}

function no(): never {
  throw new Unsupported();
}

type Obj = { [key: string]: SqlJson };

function obj(v: SqlJson | undefined): Obj {
  return v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v) ? v : no();
}

function list(v: SqlJson | undefined): SqlJson[] {
  return Array.isArray(v) ? v : no();
}

function str(v: SqlJson | undefined): string {
  return typeof v === 'string' ? v : no();
}

const COMPARISONS: Record<string, string> = {
  COMPARE_EQUAL: '=',
  COMPARE_NOTEQUAL: '<>',
  COMPARE_LESSTHAN: '<',
  COMPARE_GREATERTHAN: '>',
  COMPARE_LESSTHANOREQUALTO: '<=',
  COMPARE_GREATERTHANOREQUALTO: '>=',
};
const INTEGER_CONSTANTS = new Set(['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT']);
const SELECT_KEYS = new Set(['type', 'modifiers', 'cte_map', 'select_list', 'from_table', 'where_clause', 'group_expressions', 'group_sets', 'aggregate_handling', 'having', 'sample', 'qualify']);

/** A value expression: its SQL and type; a parameter has no type until compared (`param`). */
interface Value {
  sql: string;
  /** undefined: a parameter, or an untyped column (`column` set). */
  type: ColdType | undefined;
  param?: number;
  column?: string;
  constant?: boolean;
}

class Translator {
  readonly paramOrder: number[] = [];
  readonly paramTypes = new Map<number, ColdType>();
  readonly #shape: TableShape;
  readonly #qualifier: string;
  readonly #printed: string;
  /** Actual column names grouped on; undefined when the statement does not aggregate. */
  groupColumns: Set<string> | undefined;

  constructor(shape: TableShape, qualifier: string) {
    this.#shape = shape;
    this.#qualifier = qualifier.toLowerCase();
    this.#printed = sqlIdent(qualifier);
  }

  /** A COLUMN_REF of the table: its actual name and type (known before reading data; undefined: untyped). */
  column(node: Obj): { name: string; type: ColdType | undefined; sql: string } {
    const parts = list(node.column_names).map(str);
    if (parts.length === 2 && parts[0]!.toLowerCase() !== this.#qualifier) no();
    if (parts.length !== 1 && parts.length !== 2) no();
    const wanted = parts[parts.length - 1]!.toLowerCase();
    const matches = this.#shape.columns.filter((c) => c.name.toLowerCase() === wanted);
    if (matches.length !== 1) no();
    const c = matches[0]!;
    return { name: c.name, type: c.type, sql: `${this.#printed}.${sqlIdent(c.name)}` };
  }

  value(node: Obj, aggregates: boolean): Value {
    switch (node.class) {
      case 'COLUMN_REF': {
        const c = this.column(node);
        if (this.groupColumns && !this.groupColumns.has(c.name)) no();
        return { sql: c.sql, type: c.type, column: c.name };
      }
      case 'CONSTANT': {
        const v = obj(node.value);
        const id = str(obj(v.type).id);
        if (v.is_null !== false) no();
        if (INTEGER_CONSTANTS.has(id) && typeof v.value === 'number' && Number.isSafeInteger(v.value)) return { sql: String(v.value), type: 'BIGINT', constant: true };
        if (id === 'VARCHAR' && typeof v.value === 'string' && !v.value.includes('\0')) return { sql: sqlString(v.value), type: 'VARCHAR', constant: true };
        return no();
      }
      case 'PARAMETER': {
        const id = str(node.identifier);
        if (!/^[1-9]\d{0,4}$/.test(id)) no();
        const index = Number(id) - 1;
        this.paramOrder.push(index);
        return { sql: '?', type: undefined, param: index };
      }
      case 'FUNCTION':
        if (!aggregates || !this.groupColumns) no();
        return this.aggregate(node);
      default:
        return no();
    }
  }

  aggregate(node: Obj): Value {
    const name = str(node.function_name);
    if (node.schema !== '' || node.catalog !== '' || node.filter !== null || node.export_state !== false || node.is_operator !== false) no();
    if (list(obj(node.order_bys).orders).length > 0) no();
    const children = list(node.children).map(obj);
    const distinct = node.distinct === true;
    if (name === 'count_star') return children.length === 0 && !distinct ? { sql: 'count(*)', type: 'BIGINT' } : no();
    if (children.length !== 1 || children[0]!.class !== 'COLUMN_REF') no();
    // The argument is any column of the table, grouped or not.
    const c = this.column(children[0]!);
    const arg = c.sql;
    switch (name) {
      case 'count':
        return { sql: `count(${distinct ? 'DISTINCT ' : ''}${arg})`, type: 'BIGINT' };
      case 'min':
      case 'max':
        if (distinct || c.type === undefined || c.type === 'BLOB') no();
        return { sql: `${name}(${arg})`, type: c.type };
      case 'sum':
        // An exact integer sum (DuckDB: HUGEINT; SQLite fails on overflow, and DuckDB answers instead).
        if (distinct || c.type !== 'BIGINT') no();
        return { sql: `sum(${arg})`, type: 'BIGINT' };
      case 'avg':
        if (distinct || c.type !== 'BIGINT') no();
        return { sql: `avg(${arg})`, type: 'DOUBLE' };
      default:
        return no();
    }
  }

  /** Two operands that compare alike in both engines; a parameter takes the other side's type. */
  comparable(a: Value, b: Value): void {
    if (a.param !== undefined && b.param !== undefined) no();
    if (a.param !== undefined) return this.#typeParam(a.param, b.type);
    if (b.param !== undefined) return this.#typeParam(b.param, a.type);
    if (a.type === undefined || b.type === undefined || a.type === 'BLOB' || b.type === 'BLOB') no();
    if (a.type === b.type) return;
    // An integer literal against a REAL column: both compare numerically.
    if ((a.type === 'DOUBLE' && b.type === 'BIGINT' && b.constant) || (b.type === 'DOUBLE' && a.type === 'BIGINT' && a.constant)) return;
    no();
  }

  #typeParam(index: number, type: ColdType | undefined): void {
    if (type === undefined || type === 'BLOB') no();
    const seen = this.paramTypes.get(index);
    if (seen !== undefined && seen !== type) no();
    this.paramTypes.set(index, type);
  }

  predicate(node: Obj, aggregates: boolean): string {
    const type = str(node.type);
    switch (node.class) {
      case 'CONJUNCTION': {
        const parts = list(node.children).map((c) => this.predicate(obj(c), aggregates));
        if (parts.length < 2) no();
        if (type === 'CONJUNCTION_AND') return `(${parts.join(' AND ')})`;
        if (type === 'CONJUNCTION_OR') return `(${parts.join(' OR ')})`;
        return no();
      }
      case 'COMPARISON': {
        const op = COMPARISONS[type] ?? no();
        const left = this.value(obj(node.left), aggregates);
        const right = this.value(obj(node.right), aggregates);
        this.comparable(left, right);
        return `(${left.sql} ${op} ${right.sql})`;
      }
      case 'BETWEEN': {
        if (type !== 'COMPARE_BETWEEN') no();
        const input = this.value(obj(node.input), aggregates);
        if (input.param !== undefined) no();
        const lower = this.value(obj(node.lower), aggregates);
        const upper = this.value(obj(node.upper), aggregates);
        this.comparable(input, lower);
        this.comparable(input, upper);
        return `(${input.sql} BETWEEN ${lower.sql} AND ${upper.sql})`;
      }
      case 'OPERATOR': {
        const children = list(node.children).map(obj);
        if (type === 'OPERATOR_NOT' && children.length === 1) return `(NOT ${this.predicate(children[0]!, aggregates)})`;
        if ((type === 'OPERATOR_IS_NULL' || type === 'OPERATOR_IS_NOT_NULL') && children.length === 1) {
          const v = this.value(children[0]!, aggregates);
          if (v.param !== undefined || v.constant) no();
          return `(${v.sql} IS ${type === 'OPERATOR_IS_NULL' ? '' : 'NOT '}NULL)`;
        }
        if ((type === 'COMPARE_IN' || type === 'COMPARE_NOT_IN') && children.length >= 2) {
          const input = this.value(children[0]!, aggregates);
          if (input.param !== undefined || input.constant) no();
          const items = children.slice(1).map((c) => {
            const item = this.value(c, aggregates);
            if (item.param === undefined && !item.constant) no();
            this.comparable(input, item);
            return item.sql;
          });
          return `(${input.sql} ${type === 'COMPARE_IN' ? 'IN' : 'NOT IN'} (${items.join(', ')}))`;
        }
        return no();
      }
      default:
        return no();
    }
  }
}

function isAggregate(node: SqlJson): boolean {
  if (Array.isArray(node)) return node.some(isAggregate);
  if (node === null || typeof node !== 'object') return false;
  if (node.class === 'FUNCTION') return true;
  return Object.values(node).some(isAggregate);
}

function positional(node: Obj, count: number): number | undefined {
  if (node.class !== 'CONSTANT') return undefined;
  const v = obj(node.value);
  const n = v.value;
  if (!INTEGER_CONSTANTS.has(str(obj(v.type).id)) || typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > count) no();
  return n;
}

function limitValue(node: SqlJson | undefined): number | undefined {
  if (node === null || node === undefined) return undefined;
  const o = obj(node);
  if (o.class !== 'CONSTANT') no();
  const v = obj(o.value);
  if (!INTEGER_CONSTANTS.has(str(obj(v.type).id)) || typeof v.value !== 'number' || !Number.isSafeInteger(v.value) || v.value < 0) no();
  return v.value;
}

function timeBound(t: Translator, conjunct: Obj, shape: TableShape): TimeLowerBound | undefined {
  const isTime = (n: SqlJson | undefined): boolean => {
    try {
      return obj(n).class === 'COLUMN_REF' && t.column(obj(n)).name === shape.timeColumn;
    } catch {
      return false;
    }
  };
  const bound = (n: SqlJson | undefined): TimeLowerBound | undefined => {
    const o = obj(n);
    if (o.class === 'PARAMETER') return { param: Number(str(o.identifier)) - 1 };
    if (o.class === 'CONSTANT') {
      const v = obj(o.value).value;
      return typeof v === 'number' ? { value: v } : undefined;
    }
    return undefined;
  };
  const type = conjunct.type;
  if (conjunct.class === 'BETWEEN' && isTime(conjunct.input)) return bound(conjunct.lower);
  if (conjunct.class !== 'COMPARISON') return undefined;
  const lowerWhenLeft = type === 'COMPARE_GREATERTHAN' || type === 'COMPARE_GREATERTHANOREQUALTO' || type === 'COMPARE_EQUAL';
  const lowerWhenRight = type === 'COMPARE_LESSTHAN' || type === 'COMPARE_LESSTHANOREQUALTO' || type === 'COMPARE_EQUAL';
  if (lowerWhenLeft && isTime(conjunct.left)) return bound(conjunct.right);
  if (lowerWhenRight && isTime(conjunct.right)) return bound(conjunct.left);
  return undefined;
}

/**
 * The statement (one element of `json_serialize_sql`'s `statements`) as
 * SQLite SQL over `shapes` (the registered tables by lower-cased name), or
 * undefined when it is outside the subset.
 */
export function translateForSqlite(statement: SqlJson | undefined, shapes: ReadonlyMap<string, TableShape>): SqliteTranslation | undefined {
  try {
    return translate(obj(statement), shapes);
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
}

function translate(statement: Obj, shapes: ReadonlyMap<string, TableShape>): SqliteTranslation {
  const node = obj(statement.node);
  if (node.type !== 'SELECT_NODE') no();
  for (const key of Object.keys(node)) if (!SELECT_KEYS.has(key)) no();
  if (list(obj(node.cte_map).map).length > 0 || node.sample !== null || node.qualify !== null) no();
  if (node.aggregate_handling !== 'STANDARD_HANDLING') no();

  const from = obj(node.from_table);
  if (from.type !== 'BASE_TABLE' || from.schema_name !== '' || from.catalog_name !== '' || from.sample !== null || from.at_clause !== null) no();
  if (list(from.column_name_alias).length > 0) no();
  const shape = shapes.get(str(from.table_name).toLowerCase()) ?? no();
  const alias = str(from.alias);
  const t = new Translator(shape, alias === '' ? shape.table : alias);

  // Grouping first: column references elsewhere are checked against it.
  const selectList = list(node.select_list).map(obj);
  const groupExprs = list(node.group_expressions).map(obj);
  const having = node.having === null ? undefined : obj(node.having);
  const grouped = groupExprs.length > 0 || having !== undefined || selectList.some(isAggregate);
  const groupSql: string[] = [];
  if (grouped) {
    const sets = list(node.group_sets);
    const expected = groupExprs.length === 0 ? [] : [groupExprs.map((_, i) => i)];
    if (JSON.stringify(sets) !== JSON.stringify(expected)) no();
    const columns = new Set<string>();
    for (const g of groupExprs) {
      const pos = positional(g, selectList.length);
      const ref = pos === undefined ? g : selectList[pos - 1]!;
      if (ref.class !== 'COLUMN_REF') no();
      const c = t.column(ref);
      columns.add(c.name);
      groupSql.push(c.sql);
    }
    t.groupColumns = columns;
  } else if (list(node.group_sets).length > 0) no();

  // Select list: names as DuckDB gives them (a column's own name, or the alias).
  const items: string[] = [];
  const columns: ResultColumn[] = [];
  const aliasOf = new Map<string, { column: string | undefined }>();
  for (const item of selectList) {
    const itemAlias = str(item.alias);
    if (item.class === 'STAR') {
      if (grouped || itemAlias !== '' || item.columns !== false || item.expr !== null) no();
      for (const key of ['exclude_list', 'replace_list', 'qualified_exclude_list', 'rename_list']) if (item[key] !== undefined && list(item[key]).length > 0) no();
      const rel = str(item.relation_name);
      if (rel !== '' && rel.toLowerCase() !== (alias === '' ? shape.table : alias).toLowerCase()) no();
      for (const c of shape.columns) {
        items.push(t.column({ column_names: [c.name] }).sql);
        columns.push({ name: c.name, kind: c.type ?? 'UNTYPED' });
      }
      continue;
    }
    const v = t.value(item, true);
    if (v.param !== undefined || v.constant) no();
    // Unaliased aggregates get DuckDB's generated names (`count_star()`): not reproduced here.
    if (itemAlias === '' && v.column === undefined) no();
    const name = itemAlias === '' ? v.column! : itemAlias;
    items.push(`${v.sql} AS ${sqlIdent(name)}`);
    columns.push({ name, kind: v.type ?? 'UNTYPED' });
    if (itemAlias !== '') aliasOf.set(itemAlias.toLowerCase(), { column: v.column });
  }
  if (new Set(columns.map((c) => c.name)).size !== columns.length) no();

  let sql = `SELECT ${items.join(', ')} FROM ${sqlIdent(shape.table)} AS ${sqlIdent(alias === '' ? shape.table : alias)}`;
  const timeLowerBounds: TimeLowerBound[] = [];
  if (node.where_clause !== null) {
    const where = obj(node.where_clause);
    const saved = t.groupColumns;
    t.groupColumns = undefined;
    sql += ` WHERE ${t.predicate(where, false)}`;
    t.groupColumns = saved;
    const conjuncts = where.class === 'CONJUNCTION' && where.type === 'CONJUNCTION_AND' ? list(where.children).map(obj) : [where];
    for (const c of conjuncts) {
      const b = timeBound(t, c, shape);
      if (b) timeLowerBounds.push(b);
    }
  }
  if (grouped && groupSql.length > 0) sql += ` GROUP BY ${groupSql.join(', ')}`;
  if (having) sql += ` HAVING ${t.predicate(having, true)}`;

  const modifiers = list(node.modifiers).map(obj);
  const distinct = modifiers.some((m) => m.type === 'DISTINCT_MODIFIER');
  let orderSql = '';
  let limitSql = '';
  const seen = new Set<string>();
  for (const m of modifiers) {
    const type = str(m.type);
    if (seen.has(type)) no();
    seen.add(type);
    if (type === 'DISTINCT_MODIFIER') {
      if (list(m.distinct_on_targets).length > 0) no();
    } else if (type === 'ORDER_MODIFIER') {
      const parts = list(m.orders).map((o) => {
        const order = obj(o);
        const dir = order.type === 'DESCENDING' ? ' DESC' : order.type === 'ASCENDING' || order.type === 'ORDER_DEFAULT' ? '' : no();
        const nulls = order.null_order === 'NULLS FIRST' ? ' NULLS FIRST' : order.null_order === 'NULLS LAST' ? ' NULLS LAST' : order.null_order === 'ORDER_DEFAULT' ? '' : no();
        return `${orderTerm(t, obj(order.expression), columns.length, aliasOf, distinct || grouped)}${dir}${nulls}`;
      });
      orderSql = ` ORDER BY ${parts.join(', ')}`;
    } else if (type === 'LIMIT_MODIFIER') {
      const limit = limitValue(m.limit);
      const offset = limitValue(m.offset);
      limitSql = ` LIMIT ${limit ?? -1}${offset === undefined ? '' : ` OFFSET ${offset}`}`;
    } else no();
  }
  if (distinct) sql = `SELECT DISTINCT ${sql.slice('SELECT '.length)}`;
  sql += orderSql + limitSql;

  // Parameters must be $1..$n (or ?), each compared with a typed operand.
  const count = t.paramTypes.size;
  const paramTypes: ColdType[] = [];
  for (let i = 0; i < count; i++) paramTypes.push(t.paramTypes.get(i) ?? no());
  if (t.paramOrder.some((i) => i >= count)) no();
  return { table: shape.table, sql, paramOrder: t.paramOrder, paramTypes, columns, timeLowerBounds };
}

/**
 * One ORDER BY term: a position, a select alias (DuckDB and SQLite both look
 * there first), or an expression. `restricted` (DISTINCT or grouped): only
 * what the select list or the grouping holds.
 */
function orderTerm(t: Translator, node: Obj, count: number, aliasOf: ReadonlyMap<string, { column: string | undefined }>, restricted: boolean): string {
  const pos = positional(node, count);
  if (pos !== undefined) return String(pos);
  if (node.class === 'COLUMN_REF') {
    const parts = list(node.column_names).map(str);
    const aliased = parts.length === 1 ? aliasOf.get(parts[0]!.toLowerCase()) : undefined;
    if (aliased) {
      // An alias that is also a column name must mean that column, or the engines might disagree.
      let column: string | undefined;
      try {
        column = t.column(node).name;
      } catch {
        column = undefined;
      }
      if (column !== undefined && column !== aliased.column) no();
      return sqlIdent(parts[0]!);
    }
  }
  if (restricted && t.groupColumns === undefined) no();
  return t.value(node, true).sql;
}
