/**
 * Where a table's Iceberg metadata lives in the cold tree, and the URLs its
 * metadata names. The table's location is `<base>/<table>/_iceberg`
 * (metadata/ and data/ below it, the layout path-based readers expect); its
 * data files are tierdb's own cold files, named by their absolute URL
 * `<base>/<manifest path>` — nothing is copied. `<base>` is ICEBERG_LOCATION,
 * else `file://<cold folder>` for a local tree, else the TIERDB_COLD_URL.
 * Cold-store listing skips every `_iceberg` folder (ICEBERG_DIR): its Parquet
 * delete files are not cold files.
 */
import { pathToFileURL } from 'node:url';
import type { ColdStore } from '../cold/ColdStore.js';
import { ICEBERG_DIR } from '../cold/coldLayout.js';
import type { TierConfig } from '../config.js';

export { ICEBERG_DIR };

/** The URL of the cold tree's root as Iceberg metadata names it (no trailing `/`). */
export function icebergBase(config: TierConfig, cold: ColdStore): string {
  if (config.icebergLocation !== undefined) return config.icebergLocation;
  if (cold.kind === 'local') return pathToFileURL(cold.location).href.replace(/\/+$/, '');
  return cold.location.replace(/\/+$/, '');
}

export class IcebergLayout {
  readonly base: string;
  readonly table: string;

  constructor(base: string, table: string) {
    this.base = base;
    this.table = table;
  }

  /** Cold-store path of the table's Iceberg folder. */
  get root(): string {
    return `${this.table}/${ICEBERG_DIR}`;
  }

  /** The table location in its metadata. */
  get location(): string {
    return this.url(this.root);
  }

  get hintPath(): string {
    return `${this.root}/metadata/version-hint.text`;
  }

  metadataPath(version: number): string {
    return `${this.root}/metadata/v${version}.metadata.json`;
  }

  manifestListPath(snapshotId: number, uuid: string): string {
    return `${this.root}/metadata/snap-${snapshotId}-1-${uuid}.avro`;
  }

  manifestPath(uuid: string, n: number): string {
    return `${this.root}/metadata/${uuid}-m${n}.avro`;
  }

  deleteFilePath(snapshotId: number, uuid: string): string {
    return `${this.root}/data/deletes-${snapshotId}-${uuid}.parquet`;
  }

  /** The absolute URL of a cold-store path. */
  url(path: string): string {
    return `${this.base}/${path}`;
  }
}
