/**
 * What a maintenance job (compaction, retention, restore) is handed: the
 * archiver's connection, the config, the cold store, the logger, and the
 * lease check every manifest-changing transaction makes.
 */
import type Database from 'better-sqlite3';
import type { ColdStore } from '../cold/ColdStore.js';
import type { TierConfig } from '../config.js';
import type { Logger } from '../logger.js';

export interface MaintenanceContext {
  raw: Database.Database;
  config: TierConfig;
  cold: ColdStore;
  logger: Logger;
  /** Inside every manifest-changing transaction: the job still holds the lease (renewed), or LeaseLostError. */
  assertLease(): void;
}
