/** The Parquet files of a local cold tree, read straight from disk (what tests check the tree against, apart from the ColdStore under test). */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { TMP_DIR } from '../src/cold/coldLayout.js';

function walkParquet(dir: string, rel: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
    if (entry.isDirectory()) {
      if (rel === '' && entry.name === TMP_DIR) continue;
      walkParquet(path.join(dir, entry.name), childRel, out);
    } else if (entry.name.endsWith('.parquet')) out.push(childRel);
  }
}

/** Every `.parquet` file under the cold folder (outside `_tmp`), relative and `/`-separated. */
export function listTreeFiles(coldDir: string): string[] {
  const out: string[] = [];
  if (existsSync(coldDir)) walkParquet(coldDir, '', out);
  return out;
}
