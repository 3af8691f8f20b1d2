/**
 * Which live files of a table compaction merges, and into how many files.
 *
 * Small files (below half the target size) are taken in time order and cut
 * into groups of at most the target size; a group never crosses a UTC year
 * (its file lives in `year=YYYY/`, or deeper when its range allows) nor mixes
 * files whose shared columns have different types. A group of one file is
 * left alone. Nothing happens until a table has `minFiles` small files.
 */
import type { ManifestFile } from '../manifest/manifestFiles.js';
import type { ColdType } from '../cold/columnTypes.js';

export interface CompactionPlanOptions {
  targetBytes: number;
  minFiles: number;
}

function yearOf(ms: number): number {
  return new Date(ms).getUTCFullYear();
}

const columnsOf = (f: ManifestFile) => JSON.parse(f.schema_json) as { name: string; type: ColdType }[];

/** Whether `f`'s columns have the types the group's (`types`, by name) have. */
function compatible(types: ReadonlyMap<string, ColdType>, f: ManifestFile): boolean {
  return columnsOf(f).every((c) => (types.get(c.name) ?? c.type) === c.type);
}

/** Groups of two or more files, each to become one file; empty when there is nothing worth doing. */
export function planCompaction(live: readonly ManifestFile[], o: CompactionPlanOptions): ManifestFile[][] {
  const small = live.filter((f) => f.bytes < o.targetBytes / 2).sort((a, b) => a.min_time_ms - b.min_time_ms || a.id - b.id);
  if (small.length < o.minFiles) return [];
  const groups: ManifestFile[][] = [];
  let group: ManifestFile[] = [];
  let types = new Map<string, ColdType>();
  let bytes = 0;
  for (const f of small) {
    const fits =
      group.length > 0 &&
      bytes + f.bytes <= o.targetBytes &&
      yearOf(f.max_time_ms) === yearOf(group[0]!.min_time_ms) &&
      yearOf(f.min_time_ms) === yearOf(group[0]!.min_time_ms) &&
      compatible(types, f);
    if (!fits && group.length > 0) {
      groups.push(group);
      group = [];
      types = new Map();
      bytes = 0;
    }
    group.push(f);
    for (const c of columnsOf(f)) types.set(c.name, c.type);
    bytes += f.bytes;
  }
  if (group.length > 0) groups.push(group);
  return groups.filter((g) => g.length > 1);
}
