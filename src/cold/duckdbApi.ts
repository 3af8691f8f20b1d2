/**
 * The values tierdb uses from `@duckdb/node-api`, loaded with `require`.
 * The package is CommonJS. An ESM `import` of it makes Node scan the entry and
 * every file it re-exports for export names (cjs-module-lexer). That costs
 * ~0.1 s wall and ~0.2 s CPU of every process start (0.30 s against 0.20 s for
 * the import alone, here). `require` returns the same module object, so a
 * class is the same class whichever way it was loaded. Types still come from
 * the package itself (`import type`, erased at build).
 */
import { createRequire } from 'node:module';
import type * as Api from '@duckdb/node-api';

const api = createRequire(import.meta.url)('@duckdb/node-api') as typeof Api;

export const { BIGINT, BLOB, BOOLEAN, DOUBLE, HUGEINT, SQLNULL, VARCHAR, DuckDBBlobValue, DuckDBDataChunk, DuckDBInstance, DuckDBTypeId, JSDuckDBValueConverter, StatementType } = api;
export type DuckDBBlobValue = Api.DuckDBBlobValue;
export type DuckDBDataChunk = Api.DuckDBDataChunk;
export type DuckDBInstance = Api.DuckDBInstance;
export type DuckDBTypeId = Api.DuckDBTypeId;
export type StatementType = Api.StatementType;
