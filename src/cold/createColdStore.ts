/**
 * The ColdStore a config names: the local folder `<dataDir>/cold`, or object
 * storage when TIERDB_COLD_URL is `s3://bucket/prefix` (settings checked here,
 * before anything is read).
 */
import type { TierConfig } from '../config.js';
import type { ColdStore } from './ColdStore.js';
import { LocalColdStore } from './LocalColdStore.js';
import { S3ColdStore } from './S3ColdStore.js';

export type ColdStoreConfig = Pick<TierConfig, 'coldDir' | 'coldUrl' | 's3' | 'coldCacheDir' | 'coldCacheBytes' | 'coldOrphanAgeMs' | 'coldStagingDir'>;

export async function createColdStore(config: ColdStoreConfig): Promise<ColdStore> {
  if (config.coldUrl === undefined) return new LocalColdStore(config.coldDir);
  return S3ColdStore.open({
    url: config.coldUrl,
    s3: config.s3,
    stagingDir: config.coldStagingDir,
    cacheDir: config.coldCacheDir,
    cacheBytes: config.coldCacheBytes,
    orphanSafetyAgeMs: config.coldOrphanAgeMs,
  });
}
