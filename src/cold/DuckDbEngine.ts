/**
 * One in-process DuckDB instance, bounded by DUCKDB_MEMORY_LIMIT and
 * ARCHIVE_MAX_WORKERS threads. Only the built-in extensions (parquet, json)
 * are used: nothing is downloaded at run time.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { DuckDBInstance } from './duckdbApi.js';

export interface DuckDbEngineOptions {
  memoryLimit: string;
  threads: number;
  /** Folder for DuckDB's spill files. */
  tempDirectory?: string;
}

export class DuckDbEngine {
  readonly instance: DuckDBInstance;
  readonly connection: DuckDBConnection;

  private constructor(instance: DuckDBInstance, connection: DuckDBConnection) {
    this.instance = instance;
    this.connection = connection;
  }

  static async create(options: DuckDbEngineOptions): Promise<DuckDbEngine> {
    const config: Record<string, string> = {
      memory_limit: options.memoryLimit,
      threads: String(options.threads),
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    };
    if (options.tempDirectory) config.temp_directory = options.tempDirectory;
    const instance = await DuckDBInstance.create(':memory:', config);
    try {
      return new DuckDbEngine(instance, await instance.connect());
    } catch (error) {
      instance.closeSync();
      throw error;
    }
  }

  close(): void {
    try {
      this.connection.closeSync();
    } finally {
      this.instance.closeSync();
    }
  }
}

/** A SQL string literal. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * `read_parquet(…)` of cold files (local paths, quoted here), always with `hive_partitioning = false`:
 * DuckDB would otherwise add `year`, `month` and `day` columns from the Hive folders, and they would
 * replace a table's own columns of those names (`test/hiveColumns.test.ts`). `options`: more named
 * parameters (`file_row_number = true`, …); `false` entries are left out.
 */
export function readColdParquet(paths: string | readonly string[], ...options: (string | false)[]): string {
  const files = typeof paths === 'string' ? sqlString(paths) : `[${paths.map(sqlString).join(', ')}]`;
  return `read_parquet(${[files, 'hive_partitioning = false', ...options.filter((o): o is string => o !== false)].join(', ')})`;
}

/** A quoted SQL identifier. */
export function sqlIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
