/**
 * tierdb's error tree. Every error carries a stable `code` and, where a driver
 * error caused it, that error as `cause`.
 */
/** Every error code tierdb throws, declared once, with what it means. */
export const ERROR_CODES = {
  TIERDB_ABORTED: 'a long job stopped by its AbortSignal',
  TIERDB_ARGUMENT: 'a bad argument to a public function (ArgumentError)',
  TIERDB_CHUNK_CHANGED: 'rows changed between read and commit; the chunk is retried next run (ChunkChangedError)',
  TIERDB_CLOSED: 'the store (or its bridge) is closed',
  TIERDB_COLD_CHECK_NEEDED: 'an append without a cold-key lookup met a key inside a cold file range',
  TIERDB_COLD_FILE: 'a cold file missing, torn or unlike its manifest row (ColdFileError)',
  TIERDB_COLD_STORE: 'the cold tree\'s storage (folder or bucket) failed or is unreachable (ColdStoreError)',
  TIERDB_CONFIG: 'a bad environment variable or option (ConfigError)',
  TIERDB_DEMO: 'the demo could not run',
  TIERDB_DEMO_REFUSED: 'the demo refused a data folder that is not its own',
  TIERDB_DISK_FULL: 'SQLite or the file system reported a full disk',
  TIERDB_FILE_EXISTS: 'an output file exists and --force was not given',
  TIERDB_HOT_OPEN: 'the hot SQLite file cannot be opened or created',
  TIERDB_ICEBERG: 'publishing a table as Apache Iceberg failed: a schema Iceberg cannot express, or its metadata could not be written (IcebergPublishError)',
  TIERDB_INGEST_CHECKPOINT: 'a JSONL ingest checkpoint does not match its input',
  TIERDB_INGEST_INPUT: 'a JSONL ingest input that cannot be read',
  TIERDB_INT64_LOSSY: 'a 64-bit integer reached JS already rounded',
  TIERDB_LEASE_HELD: 'another archiver holds the lease (LeaseHeldError)',
  TIERDB_LEASE_LOST: 'this archiver lost its lease and commits nothing more (LeaseLostError)',
  TIERDB_MANIFEST_CHANGED: 'the manifest changed under a maintenance job: a swap found its input files no longer live, or the hot keys a manifest rebuild resolved against changed before its commit; nothing was committed (ManifestChangedError)',
  TIERDB_METRICS_SERVER: 'the /healthz and /metrics server could not listen on its port (TIERDB_METRICS_PORT)',
  TIERDB_MIXED_TYPE: 'a column holds a value of another storage class (MixedTypeError)',
  TIERDB_NOT_A_STORE: 'a read-only open of a file without tierdb tables',
  TIERDB_NOT_BUILT: 'a feature not built yet (NotBuiltError)',
  TIERDB_NOT_SQLITE: 'a file that is not a SQLite database',
  TIERDB_PRESET_MISSING: 'a preset feature (store.hot.appendMessages) on a store opened without that preset',
  TIERDB_READ_ONLY: 'a write through the read-only bridge (ReadOnlyError)',
  TIERDB_READ_ONLY_STORE: 'a write through a store opened read-only (ReadOnlyStoreError)',
  TIERDB_REGISTRY: 'a registry entry that is malformed or names a missing table or column (RegistryError)',
  TIERDB_ROW_INVALID: 'a row that failed validation (RowValidationError)',
  TIERDB_SCHEMA_DRIFT: 'a cold file whose column was renamed or retyped in the hot table',
  TIERDB_SCHEMA_OUTDATED: 'a read-only open of a store whose tierdb migrations are behind',
  TIERDB_SQL: 'a statement the bridge failed to run',
  TIERDB_STORE_IDENTITY: 'a hot database and a cold tree that do not belong together (StoreIdentityError)',
} as const;

export type TierErrorCode = keyof typeof ERROR_CODES;

export class TierError extends Error {
  readonly code: TierErrorCode;
  constructor(code: TierErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A bad environment variable or option; names the variable, the value and what was expected. */
export class ConfigError extends TierError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TIERDB_CONFIG', message, options);
  }
}

/** A registry entry that names a missing table or column, or is malformed. */
export class RegistryError extends TierError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TIERDB_REGISTRY', message, options);
  }
}

/** A row that failed validation; `index` is its position in the input. */
export class RowValidationError extends TierError {
  readonly index: number;
  constructor(index: number, message: string) {
    super('TIERDB_ROW_INVALID', message);
    this.index = index;
  }
}

/** Publishing a table as Apache Iceberg failed (names the table and what to do); the last published snapshot stays current. */
export class IcebergPublishError extends TierError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TIERDB_ICEBERG', message, options);
  }
}

/** A feature whose issue has not landed yet. Never pretends to work. */
export class NotBuiltError extends TierError {
  constructor(feature: string) {
    super('TIERDB_NOT_BUILT', `${feature} is not built yet`);
  }
}

/** A write or schema change attempted through the read-only bridge. */
export class ReadOnlyError extends TierError {
  constructor(message: string) {
    super('TIERDB_READ_ONLY', message);
  }
}

/** A cold file that is missing, torn or does not match its manifest row. */
export class ColdFileError extends TierError {
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('TIERDB_COLD_FILE', message, options);
    this.path = path;
  }
}

/**
 * The manifest changed under a maintenance job: a swap found an input file no longer live (another change
 * retired it), or the hot keys a manifest rebuild resolved its conflicts against changed before its commit.
 * Nothing was committed.
 */
export class ManifestChangedError extends TierError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TIERDB_MANIFEST_CHANGED', message, options);
  }
}

/** The cold tree's storage failed: a folder that cannot be written, an endpoint that does not answer. Names the place. */
export class ColdStoreError extends TierError {
  readonly location: string;
  constructor(location: string, message: string, options?: { cause?: unknown }) {
    super('TIERDB_COLD_STORE', message, options);
    this.location = location;
  }
}

/** A statement the bridge failed to run; keeps the SQL text and the parameters it was given. */
export class SqlError extends TierError {
  readonly sql: string;
  readonly params: readonly unknown[];
  constructor(message: string, sql: string, params: readonly unknown[], options?: { cause?: unknown }) {
    super('TIERDB_SQL', message, options);
    this.sql = sql;
    this.params = params;
  }
}

/** Another archiver holds the lease. */
export class LeaseHeldError extends TierError {
  constructor(message: string) {
    super('TIERDB_LEASE_HELD', message);
  }
}

/** This instance's lease was taken over (it lapsed): it must not change the manifest any more. */
export class LeaseLostError extends TierError {
  constructor(message: string) {
    super('TIERDB_LEASE_LOST', message);
  }
}

/** A hot database and a cold tree that do not belong together (a wrong path, or two stores sharing a folder). */
export class StoreIdentityError extends TierError {
  constructor(message: string) {
    super('TIERDB_STORE_IDENTITY', message);
  }
}

/** A write attempted through a store opened read-only. */
export class ReadOnlyStoreError extends TierError {
  constructor(message: string) {
    super('TIERDB_READ_ONLY_STORE', message);
  }
}

/** A column holding a value of another storage class than the rest of the column. */
export class MixedTypeError extends TierError {
  constructor(message: string) {
    super('TIERDB_MIXED_TYPE', message);
  }
}

/** Rows changed between an archive chunk's read and its commit: the chunk is dropped and retried next run. */
export class ChunkChangedError extends TierError {
  constructor(message: string) {
    super('TIERDB_CHUNK_CHANGED', message);
  }
}

/** Cold files whose columns no longer match the hot table (a column renamed, or dropped and added again with another type). */
export class SchemaDriftError extends TierError {
  constructor(message: string) {
    super('TIERDB_SCHEMA_DRIFT', message);
  }
}

/** A bad argument to a public function (a bad `where`, an unknown table...). */
export class ArgumentError extends TierError {
  constructor(message: string) {
    super('TIERDB_ARGUMENT', message);
  }
}

/** A file that a command would create already exists (a registry `tierdb init` would write); pass `--force` to replace it. */
export class FileExistsError extends TierError {
  readonly path: string;
  constructor(path: string, message: string) {
    super('TIERDB_FILE_EXISTS', message);
    this.path = path;
  }
}

/** A file that should be a SQLite database cannot be read as one. */
export class NotSqliteError extends TierError {
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('TIERDB_NOT_SQLITE', message, options);
    this.path = path;
  }
}
