/**
 * tierdb's error tree. Every error carries a stable `code` and, where a driver
 * error caused it, that error as `cause`.
 */
export class TierError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
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
