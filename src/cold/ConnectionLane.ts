/**
 * One DuckDB connection that runs one operation at a time, in call order. A
 * connection is not safe to use from two queries at once; the archiver's
 * side work (reading a written file back, a drain's comparison rows) shares
 * one such lane beside the engine's main connection, which writes.
 */
import type { DuckDBConnection } from '@duckdb/node-api';

export class ConnectionLane {
  readonly #connect: () => Promise<DuckDBConnection>;
  #con: Promise<DuckDBConnection> | undefined;
  #tail: Promise<unknown> = Promise.resolve();

  /** `connect` opens the connection, at the first `run`. */
  constructor(connect: () => Promise<DuckDBConnection>) {
    this.#connect = connect;
  }

  /** Runs `f` once every earlier `run` has settled. */
  run<T>(f: (con: DuckDBConnection) => Promise<T>): Promise<T> {
    const next = this.#tail.then(async () => f(await (this.#con ??= this.#connect())));
    this.#tail = next.catch(() => undefined);
    return next;
  }

  /** Closes the connection (if it was opened) once every `run` has settled. */
  async close(): Promise<void> {
    await this.#tail;
    if (this.#con) (await this.#con).closeSync();
    this.#con = undefined;
  }
}
