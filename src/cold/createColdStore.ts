/** The ColdStore a config names: today the local folder `<dataDir>/cold` (object storage comes behind the same interface). */
import type { TierConfig } from '../config.js';
import type { ColdStore } from './ColdStore.js';
import { LocalColdStore } from './LocalColdStore.js';

export function createColdStore(config: Pick<TierConfig, 'coldDir'>): ColdStore {
  return new LocalColdStore(config.coldDir);
}
