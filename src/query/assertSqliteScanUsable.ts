/**
 * `TIERDB_SQLITE_SCAN=isolated` would let DuckDB read the hot file itself
 * (`sqlite_scan`), in a process that opens no better-sqlite3 handle on it
 * (two SQLite copies in one process break each other's POSIX locks; DESIGN.md).
 * It needs DuckDB's sqlite extension, which is downloaded at run time and so
 * cannot be had on a machine without internet. This check runs before such a
 * process touches the hot file, and fails naming the variable.
 */
import { DuckDBInstance } from '../cold/duckdbApi.js';
import { ConfigError, NotBuiltError } from '../errors.js';

export async function assertSqliteScanUsable(): Promise<never> {
  const instance = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' });
  try {
    const con = await instance.connect();
    try {
      await con.run('LOAD sqlite');
    } catch (cause) {
      throw new ConfigError(
        `TIERDB_SQLITE_SCAN=isolated needs DuckDB's sqlite extension, which cannot be loaded here (${(cause as Error).message.split('\n')[0]}); ` +
          'unset TIERDB_SQLITE_SCAN (or set it to off) to read hot rows through better-sqlite3',
        { cause },
      );
    } finally {
      con.closeSync();
    }
  } finally {
    instance.closeSync();
  }
  throw new NotBuiltError('the TIERDB_SQLITE_SCAN=isolated query path (the sqlite extension loads, but tierdb does not use it yet)');
}
