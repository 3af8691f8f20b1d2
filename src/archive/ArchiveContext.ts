/**
 * What the stages of an archive run share: the hot connection, the config, the
 * logger and the lease check. Each stage takes only the part it needs
 * (`Pick<ArchiveContext, 'raw' | 'logger'>`), never the archiver itself.
 */
import type Database from 'better-sqlite3';
import type { TierConfig } from '../config.js';
import type { ColdStore } from '../cold/ColdStore.js';
import type { Logger } from '../logger.js';

export interface ArchiveContext {
  raw: Database.Database;
  config: TierConfig;
  /** Where the cold files live (the only way a stage touches them). */
  cold: ColdStore;
  logger: Logger;
  /** Inside every manifest-changing transaction: this run still holds the lease (renewed), or LeaseLostError. */
  assertLease(): void;
  /** This run's files that were never committed and could not be removed (discardUncommitted); its report's `leftovers`. */
  uncommitted: Set<string>;
}
