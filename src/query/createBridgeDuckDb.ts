/**
 * The bridge's own DuckDB instance, locked down: it may read files only under
 * the cold folder (`allowed_directories`, then `enable_external_access=false`),
 * and `lock_configuration=true` keeps any query from undoing that. Bounded by
 * DUCKDB_MEMORY_LIMIT; NULLs sort as in SQLite (first ascending, last descending);
 * TimeZone is UTC; Parquet footers are cached between queries.
 */
import path from 'node:path';
import { DuckDBInstance } from '../cold/duckdbApi.js';
import { sqlString } from '../cold/DuckDbEngine.js';

export interface BridgeDuckDbOptions {
  /** The only folders DuckDB may read (the cold store's local folders). */
  readableDirs: readonly string[];
  /**
   * Where DuckDB spills when a query outgrows the memory limit (created only
   * then). Not under the cold folder: archiver recovery empties `cold/_tmp`.
   */
  spillDir: string;
  memoryLimit: string;
  threads: number;
}

export async function createBridgeDuckDb(options: BridgeDuckDbOptions): Promise<DuckDBInstance> {
  const instance = await DuckDBInstance.create(':memory:', {
    memory_limit: options.memoryLimit,
    threads: String(options.threads),
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    default_null_order: 'nulls_first_on_asc_last_on_desc',
    temp_directory: path.resolve(options.spillDir),
  });
  try {
    const con = await instance.connect();
    try {
      const dirs = options.readableDirs.map((d) => sqlString(`${path.resolve(d)}${path.sep}`)).join(', ');
      await con.run(`SET allowed_directories = [${dirs}]`);
      await con.run('SET enable_external_access = false');
      // Text without an offset is UTC, as in the rest of tierdb (ISO time columns are compared as instants).
      await con.run(`SET GLOBAL TimeZone = 'UTC'`);
      // Listed files never change under their name (every file a run writes has a new one), so
      // their footers can be kept between queries instead of parsed again for each.
      await con.run('SET GLOBAL parquet_metadata_cache = true');
      await con.run('SET lock_configuration = true');
    } finally {
      con.closeSync();
    }
    return instance;
  } catch (error) {
    instance.closeSync();
    throw error;
  }
}
