/**
 * What publishing needs from the maintenance run it happens in: the
 * archiver's connection, the config, the cold store, a DuckDB engine for
 * footers and delete positions, the lease check, and the run's id and token
 * (in the names of its staged files, so recovery knows them as its own).
 */
import type Database from 'better-sqlite3';
import type { ColdStore } from '../cold/ColdStore.js';
import type { DuckDbEngine } from '../cold/DuckDbEngine.js';
import type { TierConfig } from '../config.js';
import type { Logger } from '../logger.js';

/** Enough to finish or undo an interrupted publish (recovery has no engine). */
export interface IcebergRecoveryContext {
  readonly raw: Database.Database;
  readonly cold: ColdStore;
  assertLease(): void;
}

export interface IcebergPublishContext extends IcebergRecoveryContext {
  readonly config: TierConfig;
  readonly logger: Logger;
  readonly engine: DuckDbEngine;
  readonly runId: number;
  readonly runToken: string;
}
