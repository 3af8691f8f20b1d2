/**
 * Turns a DuckDB failure while reading cold files into a ColdFileError naming
 * the file (missing, or torn/corrupt) and pointing at `tierdb validate`.
 * Errors that concern no listed file pass through unchanged.
 */
import { existsSync } from 'node:fs';
import { ColdFileError } from '../errors.js';
import type { ColdFilesForRead } from './openColdFiles.js';

export function toColdFileError(error: unknown, cold: ColdFilesForRead): unknown {
  if (error instanceof ColdFileError || cold.files.length === 0) return error;
  const message = error instanceof Error ? error.message : String(error);
  const listed = cold.files.map((f, i) => ({ rel: f.path, local: cold.local[i]!, name: cold.describe(f.path) }));
  const named = listed.find((f) => message.includes(f.local));
  const missing = named ? undefined : listed.find((f) => !existsSync(f.local));
  const bad = named ?? missing;
  if (!bad) return error;
  const what = !existsSync(bad.local) ? 'is missing' : 'is unreadable (corrupt or torn)';
  return new ColdFileError(
    bad.name,
    `cold file ${bad.rel} (${bad.name}) ${what}: ${message.split('\n')[0]}. ` +
      'The manifest lists it as live; run `tierdb validate` to check the manifest against the cold files.',
    { cause: error },
  );
}
