/**
 * A tierdb table's columns as an Iceberg schema: every column of the live
 * cold files (the columns readers can get values of), each with a field id
 * that never changes while the column keeps its name and type. A column seen
 * for the first time gets the next id (`last-column-id` + 1); a column gone
 * from every file leaves the schema but keeps its id reserved. Types: BIGINT →
 * long, DOUBLE → double, VARCHAR → string, BLOB → binary. All fields are
 * optional (DuckDB writes every Parquet column optional). The name mapping
 * (`schema.name-mapping.default`) lets readers resolve the columns of files
 * written without Parquet field ids.
 */
import type { ColdType } from '../cold/columnTypes.js';
import { IcebergPublishError } from '../errors.js';

export type IcebergPrimitive = 'long' | 'double' | 'string' | 'binary';

export const ICEBERG_TYPE: Record<ColdType, IcebergPrimitive> = { BIGINT: 'long', DOUBLE: 'double', VARCHAR: 'string', BLOB: 'binary' };

/** A column with its field id, as persisted in `_tierdb_iceberg_tables.columns_json`. */
export interface IcebergColumn {
  readonly name: string;
  readonly id: number;
  readonly type: ColdType;
}

export interface IcebergField {
  readonly id: number;
  readonly name: string;
  readonly required: boolean;
  readonly type: IcebergPrimitive;
}

export interface IcebergSchemaJson {
  readonly type: 'struct';
  readonly 'schema-id': number;
  readonly fields: readonly IcebergField[];
}

/** The columns of the live files, in order of first appearance (files in time order, columns in file order); one type per column or an error naming both. */
export function liveColumns(table: string, files: readonly { path: string; schema_json: string }[]): { name: string; type: ColdType }[] {
  const seen = new Map<string, { type: ColdType; path: string }>();
  for (const f of files) {
    for (const c of JSON.parse(f.schema_json) as { name: string; type: ColdType }[]) {
      const before = seen.get(c.name);
      if (!before) seen.set(c.name, { type: c.type, path: f.path });
      else if (before.type !== c.type) {
        throw new IcebergPublishError(
          `${table}: column ${c.name} is ${before.type} in ${before.path} but ${c.type} in ${f.path}; an Iceberg column has one type. Nothing was published: rewrite the older files (tierdb compact, or restore and archive again) so that every file agrees`,
        );
      }
    }
  }
  return [...seen].map(([name, v]) => ({ name, type: v.type }));
}

/**
 * Field ids for `columns`: an earlier column of the same name and type keeps its
 * id; any other gets a new one above `lastColumnId`. Returns every column ever
 * assigned (for persisting) and the ones of this schema, in id order.
 */
export function assignFieldIds(
  known: readonly IcebergColumn[],
  lastColumnId: number,
  columns: readonly { name: string; type: ColdType }[],
): { all: IcebergColumn[]; current: IcebergColumn[]; lastColumnId: number } {
  const all = [...known];
  let last = lastColumnId;
  const current: IcebergColumn[] = [];
  for (const c of columns) {
    // The newest id of that name: a column retyped after a drop got a new id, and that one is current.
    const match = [...all].reverse().find((k) => k.name === c.name && k.type === c.type);
    if (match) current.push(match);
    else {
      const added = { name: c.name, id: ++last, type: c.type };
      all.push(added);
      current.push(added);
    }
  }
  current.sort((a, b) => a.id - b.id);
  return { all, current, lastColumnId: last };
}

export function schemaFields(current: readonly IcebergColumn[]): IcebergField[] {
  return current.map((c) => ({ id: c.id, name: c.name, required: false, type: ICEBERG_TYPE[c.type] }));
}

/** The schema of these fields: the last one when equal, else a new one with the next id. */
export function nextSchemas(schemas: readonly IcebergSchemaJson[], fields: readonly IcebergField[]): { schemas: IcebergSchemaJson[]; current: IcebergSchemaJson } {
  const last = schemas.at(-1);
  if (last && JSON.stringify(last.fields) === JSON.stringify(fields)) return { schemas: [...schemas], current: last };
  const current: IcebergSchemaJson = { type: 'struct', 'schema-id': last === undefined ? 0 : last['schema-id'] + 1, fields: [...fields] };
  return { schemas: [...schemas, current], current };
}

/** `schema.name-mapping.default`: each field id named by its column name (files without Parquet field ids resolve by it). */
export function nameMapping(current: readonly IcebergColumn[]): string {
  return JSON.stringify(current.map((c) => ({ 'field-id': c.id, names: [c.name] })));
}

/** `{ name: id }` for DuckDB's `COPY … (FIELD_IDS {…})`. */
export function fieldIdsClause(current: readonly IcebergColumn[], columns: readonly string[]): string | undefined {
  const byName = new Map(current.map((c) => [c.name, c.id]));
  const parts: string[] = [];
  for (const name of columns) {
    const id = byName.get(name);
    if (id === undefined) return undefined;
    parts.push(`"${name.replaceAll('"', '""')}": ${id}`);
  }
  return `{${parts.join(', ')}}`;
}
