/**
 * The ColdStore a config names: the local folder `<dataDir>/cold`, or object
 * storage when TIERDB_COLD_URL is `s3://bucket/prefix` (settings checked here,
 * before anything is read). The S3 store's module (and the AWS SDK) loads
 * only when a bucket is named.
 */
import type { TierConfig } from '../config.js';
import type { ColdStore } from './ColdStore.js';
import { LocalColdStore } from './LocalColdStore.js';

export type ColdStoreConfig = Pick<TierConfig, 'coldDir' | 'coldUrl' | 's3' | 'coldCacheDir' | 'coldCacheBytes' | 'coldOrphanAgeMs' | 'coldStagingDir'>;

export async function createColdStore(config: ColdStoreConfig): Promise<ColdStore> {
  if (config.coldUrl === undefined) return new LocalColdStore(config.coldDir);
  // Loaded only for a bucket: the AWS SDK costs ~0.3 s at every start of a process that never uses it.
  const { S3ColdStore } = await import('./S3ColdStore.js');
  return S3ColdStore.open({
    url: config.coldUrl,
    s3: config.s3,
    stagingDir: config.coldStagingDir,
    cacheDir: config.coldCacheDir,
    cacheBytes: config.coldCacheBytes,
    orphanSafetyAgeMs: config.coldOrphanAgeMs,
  });
}
