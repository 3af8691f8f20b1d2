/**
 * Turns a DuckDB failure while reading cold files into a ColdFileError naming
 * the file (missing, or torn/corrupt) and pointing at `tierdb validate`.
 * Errors that concern no listed file pass through unchanged.
 */
import { existsSync } from 'node:fs';
import { absoluteColdPath } from '../cold/coldLayout.js';
import { ColdFileError } from '../errors.js';

export function toColdFileError(error: unknown, coldDir: string, files: readonly { path: string }[]): unknown {
  if (error instanceof ColdFileError || files.length === 0) return error;
  const message = error instanceof Error ? error.message : String(error);
  const listed = files.map((f) => ({ rel: f.path, abs: absoluteColdPath(coldDir, f.path) }));
  const named = listed.find((f) => message.includes(f.abs));
  const missing = named ? undefined : listed.find((f) => !existsSync(f.abs));
  const bad = named ?? missing;
  if (!bad) return error;
  const what = !existsSync(bad.abs) ? 'is missing' : 'is unreadable (corrupt or torn)';
  return new ColdFileError(
    bad.abs,
    `cold file ${bad.rel} (${bad.abs}) ${what}: ${message.split('\n')[0]}. ` +
      'The manifest lists it as live; run `tierdb validate` to check the manifest against the cold files.',
    { cause: error },
  );
}
