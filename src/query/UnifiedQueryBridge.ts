/**
 * One query surface over hot SQLite rows and the manifest-listed cold Parquet
 * files (DESIGN.md, "The query plan"):
 *
 * - the manifest and the hot rows are read under one SQLite read snapshot, on
 *   the bridge's own read-only connection (the bridge never writes);
 * - files are pruned by time and key range before DuckDB sees them, and only
 *   listed files are read (never a glob);
 * - hot rows reach DuckDB through better-sqlite3 and the appender (never
 *   sqlite_scan); on a key both hot and cold, the hot row wins;
 * - answers that need no cold file come straight from SQLite.
 *
 * See QueryOptions.ts for the value contract (INTEGER → bigint, …).
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import type { DuckDBConnection, DuckDBInstance, DuckDBPreparedStatement } from '@duckdb/node-api';
import { JSDuckDBValueConverter } from '../cold/duckdbApi.js';
import type { TierConfig } from '../config.js';
import type { ColdStore } from '../cold/ColdStore.js';
import { sqlIdent } from '../cold/DuckDbEngine.js';
import { ArgumentError, SqlError, TierError } from '../errors.js';
import { configureConnection } from '../hot/HotStore.js';
import { noopLogger, type Logger } from '../logger.js';
import type { ResolvedTable } from '../registry/resolveRegistry.js';
import { appendChunks, appendRows, createTempTable } from './appendRows.js';
import { assertColdSchema } from './assertColdSchema.js';
import { assertReadOnlyText, assertReadOnlyType } from './assertReadOnlySql.js';
import { ColdResultCache } from './ColdResultCache.js';
import { loadColdMarks } from './coldMarks.js';
import { coldRelation } from './coldRelation.js';
import { createBridgeDuckDb } from './createBridgeDuckDb.js';
import { decideColumnTypes } from './decideColumnTypes.js';
import { planQuery, readPlanMarks, readShape, type QueryPlan } from './planQuery.js';
import type { ExplainResult, QueryOptions, Row } from './QueryOptions.js';
import { joinColdFiles, openColdFiles, openColdFileSets, type ColdFilesForRead } from './openColdFiles.js';
import { readHotChunks, type HotChunks } from './readHotChunks.js';
import { readOverlapKeys } from './readOverlapKeys.js';
import { prepareCached } from '../hot/prepareCached.js';
import { readSqlReferences, type SqlReferences } from './readSqlReferences.js';
import { runHotOnlyQuery, type HotOnlyCache } from './runHotOnlyQuery.js';
import { runHotSql, type HotSqlCache } from './runHotSql.js';
import { yieldIfStarved } from './yieldIfStarved.js';
import { referencedColumns } from './referencedColumns.js';
import { coldCacheKey, runUnifiedQuery } from './runUnifiedQuery.js';
import { streamBatchSize, streamUnifiedQuery, type StreamOptions } from './streamUnifiedQuery.js';
import { toColdFileError } from './toColdFileError.js';
import { toDuckParams } from './toDuckParams.js';
import { arraysToObjects, readerToObjects } from './toRowObjects.js';
import { withReadSnapshot } from './withReadSnapshot.js';

/** A DuckDB error from user SQL as a SqlError keeping the SQL and params (code TIERDB_SQL); tierdb's own errors pass through. */
function sqlError(error: unknown, sql: string, params: readonly unknown[]): unknown {
  if (error instanceof TierError || !(error instanceof Error)) return error;
  const first = error.message.split('\n')[0] ?? error.message;
  if (/^Permission Error/.test(first)) {
    return new SqlError(`bridge.sql may read only the cold files the manifest lists: ${first}`, sql, params, { cause: error });
  }
  return new SqlError(`bridge.sql failed: ${error.message}`, sql, params, { cause: error });
}

/** The answer when no cold file survives pruning: the hot rows, offset and limit applied. */
function hotOnlyRows(plan: QueryPlan): unknown[][] {
  decideColumnTypes(plan.shape, plan.hotRows, false);
  const { offset, limit } = plan.query;
  return plan.hotRows.slice(offset, limit === undefined ? undefined : offset + limit);
}

const MAX_IDLE_CONNECTIONS = 2;

export interface UnifiedQueryBridgeDeps {
  config: TierConfig;
  /** Where the cold files live; the bridge reads the local paths it hands out. */
  cold: ColdStore;
  tables: readonly ResolvedTable[];
  logger?: Logger;
}

export class UnifiedQueryBridge {
  readonly #config: TierConfig;
  readonly #cold: ColdStore;
  readonly #tables: ReadonlyMap<string, ResolvedTable>;
  readonly #logger: Logger;
  readonly #cache: ColdResultCache;
  /** What each bridge.sql text reads (DuckDB's parse is a pure function of the text). */
  readonly #references = new Map<string, SqlReferences>();
  readonly #hotSql: HotSqlCache = new Map();
  readonly #hotOnly: HotOnlyCache = new Map();
  /** DuckDB connections kept for calls that leave nothing on them (see #withConnection). */
  readonly #idle: DuckDBConnection[] = [];
  #db: Database.Database | undefined;
  #duck: Promise<DuckDBInstance> | undefined;
  #closed = false;

  constructor(deps: UnifiedQueryBridgeDeps) {
    this.#config = deps.config;
    this.#cold = deps.cold;
    this.#tables = new Map(deps.tables.map((t) => [t.table, t]));
    this.#logger = deps.logger ?? noopLogger;
    this.#cache = new ColdResultCache({ enabled: deps.config.queryCacheEnabled, ttlSeconds: deps.config.queryCacheTtlSeconds });
  }

  /**
   * Rows of one registered table, hot and cold alike.
   *
   * @example
   * await store.bridge.query('messages', {
   *   where: { chatroom: 'room-1', create_time: { gte: 1767225600 } },
   *   orderBy: [{ create_time: 'desc' }], limit: 50,
   * });
   */
  async query(table: string, options: QueryOptions = {}): Promise<Row[]> {
    const t = this.#table(table);
    const db = this.#read();
    const hot = runHotOnlyQuery(db, t, options, this.#hotOnly);
    if (hot) {
      await yieldIfStarved();
      return hot;
    }
    const plan = planQuery(db, t, options);
    if (plan.coldFiles.length === 0) {
      await yieldIfStarved();
      return arraysToObjects(plan.shape.names, hotOnlyRows(plan), plan.query.columns);
    }
    const types = decideColumnTypes(plan.shape, plan.hotRows);
    const coldFiles = await openColdFiles(this.#cold, plan.coldFiles);
    try {
      // Cold rows alone, no delete markers: the query creates no temp table, so its connection can be reused.
      const reuse = plan.hotRows.length === 0 && plan.overlapKeys.length === 0 && plan.marks.count === 0;
      return await this.#withConnection((con) => runUnifiedQuery(con, plan, types, coldFiles, this.#cache), reuse);
    } finally {
      coldFiles.release();
    }
  }

  /**
   * The rows `query` would return, with the same options and value contract,
   * as an async iterable: for results too large to hold in memory. The plan
   * (manifest + matching hot rows) is read under one snapshot when iteration
   * starts; the hot rows go into DuckDB, and the union is streamed out of it in
   * batches of `batchSize` rows, so the cold part never sits in JS memory. The
   * cold result cache is not used. Breaking out of the loop releases the
   * DuckDB connection. Retired cold files are unlinked TIERDB_RETIRED_GRACE_SECONDS (10 minutes) after they
   * leave the manifest, so consume a stream within that time.
   *
   * @example
   * for await (const row of store.bridge.stream('messages', { where: { chatroom: 'room-1' } }, { batchSize: 10_000 })) {
   *   out.write(`${row.msg_id}\n`);
   * }
   */
  async *stream(table: string, options: QueryOptions = {}, streamOptions: StreamOptions = {}): AsyncGenerator<Row, void, undefined> {
    const batchSize = streamBatchSize(streamOptions);
    const t = this.#table(table);
    const plan = planQuery(this.#read(), t, options);
    if (plan.coldFiles.length === 0) {
      const rows = hotOnlyRows(plan);
      streamOptions.onTotal?.(rows.length);
      for (let i = 0; i < rows.length; i += batchSize) {
        yield* arraysToObjects(plan.shape.names, rows.slice(i, i + batchSize), plan.query.columns);
      }
      return;
    }
    const types = decideColumnTypes(plan.shape, plan.hotRows);
    const coldFiles = await openColdFiles(this.#cold, plan.coldFiles);
    let con: DuckDBConnection;
    try {
      con = await this.#connect();
    } catch (error) {
      coldFiles.release();
      throw error;
    }
    const started = Date.now();
    try {
      for await (const batch of streamUnifiedQuery(con, plan, types, coldFiles, streamOptions)) yield* batch;
    } finally {
      con.closeSync();
      coldFiles.release();
      this.#logger.debug({ ms: Date.now() - started }, 'bridge stream ran in DuckDB');
    }
  }

  /**
   * What `query` would read: whether hot rows are part of the answer, the cold
   * files left after pruning, and whether the cold part is cached.
   */
  async explain(table: string, options: QueryOptions = {}): Promise<ExplainResult> {
    const t = this.#table(table);
    const plan = planQuery(this.#read(), t, options);
    const cache = plan.coldFiles.length > 0 && this.#cache.has(coldCacheKey(plan, decideColumnTypes(plan.shape, plan.hotRows, false)));
    return { hot: plan.hotRows.length > 0, coldFiles: plan.coldFiles.map((f) => f.path), cache };
  }

  /**
   * One read-only SQL statement in DuckDB, where every registered table name
   * means the unified table. Parameters (`?` or `$1`) are bound, never spliced.
   *
   * @example
   * await store.bridge.sql('SELECT status, count(*) AS n FROM task_queue WHERE created_at >= ? GROUP BY 1', [1767225600]);
   */
  async sql(text: string, params: readonly unknown[] = []): Promise<Row[]> {
    const verb = assertReadOnlyText(text);
    if (!Array.isArray(params)) throw new ArgumentError('bridge.sql: params must be an array (bound to ? or $1, $2, …)');
    // Bad params fail before anything is read.
    const bound = toDuckParams(params, true);
    const refs = await this.#readReferences(text);
    const started = Date.now();
    const hot = this.#config.hotSql === 'sqlite' ? runHotSql(this.#read(), this.#tables, refs, params, this.#hotSql, text) : undefined;
    if (hot) {
      this.#logger.debug({ ms: Date.now() - started }, 'bridge sql ran on SQLite');
      await yieldIfStarved();
      return hot;
    }
    return this.#withConnection(async (con) => {
      const { statement, coldFiles } = await this.#prepareSql(con, text, params, verb, refs, bound);
      try {
        return readerToObjects(await statement.runAndReadAll());
      } catch (error) {
        throw sqlError(toColdFileError(error, coldFiles), text, params);
      } finally {
        statement.destroySync();
        coldFiles.release();
      }
    });
  }

  /**
   * The rows `sql` would return, with the same checks and value contract, as
   * an async iterable: DuckDB streams the result chunk by chunk, so a result
   * larger than memory never sits in JS (tables the statement reads are still
   * set up as in `sql`: their hot rows go into DuckDB first). Breaking out of
   * the loop releases the DuckDB connection; consume it within TIERDB_RETIRED_GRACE_SECONDS (10 minutes)
   * (retired cold files are unlinked then).
   *
   * @example
   * for await (const row of store.bridge.sqlStream('SELECT * FROM messages WHERE chatroom = ?', ['room-1'])) out.write(`${row.msg_id}\n`);
   */
  async *sqlStream(text: string, params: readonly unknown[] = [], options: Pick<StreamOptions, 'batchSize'> = {}): AsyncGenerator<Row, void, undefined> {
    const verb = assertReadOnlyText(text);
    if (!Array.isArray(params)) throw new ArgumentError('bridge.sqlStream: params must be an array (bound to ? or $1, $2, …)');
    const batchSize = streamBatchSize(options);
    const bound = toDuckParams(params, true);
    const refs = await this.#readReferences(text);
    const con = await this.#connect();
    const started = Date.now();
    try {
      const { statement, coldFiles } = await this.#prepareSql(con, text, params, verb, refs, bound);
      const failed = (error: unknown) => sqlError(toColdFileError(error, coldFiles), text, params);
      try {
        const result = await statement.stream().catch((error: unknown) => {
          throw failed(error);
        });
        const columns = result.deduplicatedColumnNames();
        for (;;) {
          const chunk = await result.fetchChunk().catch((error: unknown) => {
            throw failed(error);
          });
          if (!chunk || chunk.rowCount === 0) break;
          const rows = chunk.convertRows(JSDuckDBValueConverter);
          for (let i = 0; i < rows.length; i += batchSize) yield* arraysToObjects(columns, rows.slice(i, i + batchSize));
        }
      } finally {
        statement.destroySync();
        coldFiles.release();
      }
    } finally {
      con.closeSync();
      this.#logger.debug({ ms: Date.now() - started }, 'bridge sql stream ran in DuckDB');
    }
  }

  /**
   * What `sql` and `sqlStream` share: a temp view per registered table the
   * statement reads (hot ∪ listed cold files, read under one snapshot), then
   * the statement, checked to be one read-only statement, prepared and bound.
   */
  async #prepareSql(
    con: DuckDBConnection,
    text: string,
    params: readonly unknown[],
    verb: string,
    refs: SqlReferences,
    bound: ReturnType<typeof toDuckParams>,
  ): Promise<{ statement: DuckDBPreparedStatement; coldFiles: ColdFilesForRead }> {
    const db = this.#read();
    const snapshot = withReadSnapshot(db, () =>
      refs.tables.map((name) => {
        const read = readShape(db, this.#tables.get(name)!);
        const { files } = read;
        assertColdSchema(read.shape, files);
        const overlapKeys = readOverlapKeys(db, read.shape, files);
        // The key is read only where a hot key shadows cold rows, or the statement names it.
        const shape = referencedColumns(refs, read.shape, overlapKeys.length > 0);
        const hot = readHotChunks(prepareCached(db, `SELECT ${shape.names.map(sqlIdent).join(', ')} FROM ${sqlIdent(shape.table)}`), shape);
        return { shape, files, hot, overlapKeys, marks: readPlanMarks(db, files) };
      }),
    );
    const sets = await openColdFileSets(this.#cold, snapshot.map((s) => s.files));
    const coldFiles = joinColdFiles(sets);
    try {
      const statement = await this.#prepareViews(con, text, params, bound, verb, snapshot, sets);
      return { statement, coldFiles };
    } catch (error) {
      coldFiles.release();
      throw error;
    }
  }

  async #prepareViews(
    con: DuckDBConnection,
    text: string,
    params: readonly unknown[],
    bound: ReturnType<typeof toDuckParams>,
    verb: string,
    snapshot: readonly { shape: QueryPlan['shape']; files: QueryPlan['coldFiles']; hot: HotChunks; overlapKeys: unknown[]; marks: QueryPlan['marks'] }[],
    sets: readonly ColdFilesForRead[],
  ): Promise<DuckDBPreparedStatement> {
    for (const [i, s] of snapshot.entries()) {
      const types = s.hot.types;
      const hot = `__hot_${i}`;
      await createTempTable(con, hot, s.shape.names, types);
      await appendChunks(con, hot, s.hot.chunks);
      let view = `SELECT * FROM ${hot}`;
      if (s.files.length > 0) {
        let shadow = '';
        if (s.overlapKeys.length > 0) {
          const keyType = types[s.shape.keyIndex]!;
          await createTempTable(con, `__shadow_${i}`, ['k'], [keyType]);
          await appendRows(con, `__shadow_${i}`, [keyType], s.overlapKeys.map((k) => [k]));
          shadow = ` WHERE ${sqlIdent(s.shape.keyColumn)} NOT IN (SELECT k FROM __shadow_${i})`;
        }
        const marks = await loadColdMarks(con, `__marks_${i}`, sets[i]!, s.marks, s.shape.keyColumn);
        view += ` UNION ALL SELECT * FROM ${coldRelation(sets[i]!, s.shape.names, types, marks)} AS c${shadow}`;
      }
      try {
        await con.run(`CREATE TEMP VIEW ${sqlIdent(s.shape.table)} AS ${view}`);
      } catch (error) {
        throw sqlError(toColdFileError(error, sets[i]!), text, params);
      }
    }
    const extracted = await con.extractStatements(text).catch((error: unknown) => {
      throw sqlError(error, text, params);
    });
    if (extracted.count > 1 && (verb === 'PIVOT' || /\bpivot\b/i.test(text))) {
      throw new ArgumentError(
        'bridge.sql: a PIVOT without an IN list makes DuckDB create a type before it reads, which the read-only bridge does not run; ' +
          "name the values: PIVOT t ON col IN ('a', 'b') USING count(*)",
      );
    }
    if (extracted.count !== 1) throw new ArgumentError(`bridge.sql runs one statement at a time; got ${extracted.count}`);
    const statement = await extracted.prepare(0).catch((error: unknown) => {
      throw sqlError(error, text, params);
    });
    try {
      assertReadOnlyType(statement.statementType);
      if (statement.parameterCount !== bound.values.length) {
        throw new ArgumentError(`bridge.sql: the statement has ${statement.parameterCount} parameters; ${bound.values.length} given`);
      }
      if (bound.values.length > 0) statement.bind(bound.values, bound.types);
    } catch (error) {
      statement.destroySync();
      throw error;
    }
    return statement;
  }

  /** What a bridge.sql text reads, from DuckDB's parse; cached per text (the registered tables never change). */
  async #readReferences(text: string): Promise<SqlReferences> {
    const hit = this.#references.get(text);
    if (hit) return hit;
    const refs = await this.#withConnection((con) => readSqlReferences(con, text, [...this.#tables.keys()]), true);
    if (this.#references.size >= 256) this.#references.clear();
    this.#references.set(text, refs);
    return refs;
  }

  /** Drops every cached cold result (after an erase: the cache must not keep erased values in memory). */
  forgetCachedResults(): void {
    this.#cache.clear();
  }

  /** Closes the read connection and the DuckDB instance. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#cache.clear();
    const duck = this.#duck;
    this.#duck = undefined;
    try {
      for (const con of this.#idle.splice(0)) con.closeSync();
      if (duck) (await duck.catch(() => undefined))?.closeSync();
    } finally {
      if (this.#db?.open) this.#db.close();
      this.#db = undefined;
    }
  }

  #table(name: string): ResolvedTable {
    this.#assertOpen();
    const t = typeof name === 'string' ? this.#tables.get(name) : undefined;
    if (!t) {
      throw new ArgumentError(`table ${JSON.stringify(name)} is not registered (registered: ${[...this.#tables.keys()].join(', ')})`);
    }
    return t;
  }

  #assertOpen(): void {
    if (this.#closed) throw new TierError('TIERDB_CLOSED', 'the store is closed');
  }

  /** The bridge's own read-only connection to the hot file. */
  #read(): Database.Database {
    this.#assertOpen();
    if (!this.#db) {
      const db = new Database(this.#config.hotPath, { readonly: true, fileMustExist: true });
      configureConnection(db, true);
      // SQLite's own default page cache (2 MiB) instead of better-sqlite3's 16 MiB: full scans of a
      // large hot table (bridge.sql on SQLite, the hot rows copied into DuckDB) run ~10% faster with it.
      db.pragma('cache_size = -2000');
      db.defaultSafeIntegers(true);
      this.#db = db;
    }
    return this.#db;
  }

  /** A new connection to the bridge's DuckDB instance (created on first use); the caller closes it. */
  async #connect(): Promise<DuckDBConnection> {
    this.#assertOpen();
    if (!this.#duck) {
      this.#duck = createBridgeDuckDb({
        readableDirs: this.#cold.readableDirs,
        spillDir: path.join(this.#config.dataDir, '.bridge-spill'),
        memoryLimit: this.#config.duckdbMemoryLimit,
        threads: this.#config.archiveMaxWorkers,
      });
      this.#duck.catch(() => {
        this.#duck = undefined;
      });
    }
    const instance = await this.#duck;
    return instance.connect();
  }

  /**
   * Runs `fn` on a DuckDB connection. `reuse`: `fn` creates nothing on the
   * connection (no temp table or view), so after a success it is kept for the
   * next such call (a few idle at most): a connection costs ~0.3 ms, a
   * one-day cold query a few ms. Any other call gets a connection of its own,
   * closed after.
   */
  async #withConnection<T>(fn: (con: DuckDBConnection) => Promise<T>, reuse = false): Promise<T> {
    const con = (reuse ? this.#idle.pop() : undefined) ?? (await this.#connect());
    const started = Date.now();
    let keep = false;
    try {
      const result = await fn(con);
      keep = reuse && !this.#closed && this.#idle.length < MAX_IDLE_CONNECTIONS;
      return result;
    } finally {
      if (keep) this.#idle.push(con);
      else con.closeSync();
      this.#logger.debug({ ms: Date.now() - started }, 'bridge query ran in DuckDB');
    }
  }
}
