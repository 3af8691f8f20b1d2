/**
 * The Parquet field ids a new cold file is written with (DuckDB `COPY …
 * (FIELD_IDS {…})`): the Iceberg field id of each of its columns, once the
 * table was published (ids are assigned at its first publish and never change,
 * icebergSchema.ts). Undefined — no field ids, readers resolve the file's
 * columns through `schema.name-mapping.default` — when the table was never
 * published or a column has no id yet (it gets one at the next publish).
 */
import type Database from 'better-sqlite3';
import type { ColdType } from '../cold/columnTypes.js';
import { prepareCached } from '../hot/prepareCached.js';
import { fieldIdsClause, type IcebergColumn } from './icebergSchema.js';

export function parquetFieldIds(raw: Database.Database, table: string, schema: readonly { name: string; type: ColdType }[]): string | undefined {
  return fieldIdsFor(publishedColumns(raw, table), schema);
}

/** The columns a published table's Iceberg schema knows (with their ids); undefined when it was never published. */
export function publishedColumns(raw: Database.Database, table: string): IcebergColumn[] | undefined {
  const json = prepareCached(raw, `SELECT columns_json FROM _tierdb_iceberg_tables WHERE table_name = ?`).pluck().get(table) as string | undefined;
  return json === undefined ? undefined : (JSON.parse(json) as IcebergColumn[]);
}

/** The FIELD_IDS clause of a file of `schema`, from the `known` columns (publishedColumns). */
export function fieldIdsFor(known: readonly IcebergColumn[] | undefined, schema: readonly { name: string; type: ColdType }[]): string | undefined {
  if (known === undefined) return undefined;
  const current: IcebergColumn[] = [];
  for (const c of schema) {
    // The newest id of that name and type, as assignFieldIds picks it.
    const match = [...known].reverse().find((k) => k.name === c.name && k.type === c.type);
    if (!match) return undefined;
    current.push(match);
  }
  return fieldIdsClause(current, schema.map((c) => c.name));
}
