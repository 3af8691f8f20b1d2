/**
 * A file this run wrote (or began to upload) but will not commit: removed,
 * best effort — an error is already on its way out and a failed removal must
 * not replace it (an endpoint that went away fails both). A file that could
 * not be removed is remembered in `ctx.uncommitted`; the run's end records
 * it in its report (`leftovers`), which is recovery's proof that the file was
 * never committed, so the next run removes it.
 */
import type { ArchiveContext } from './ArchiveContext.js';

export async function discardUncommitted(ctx: Pick<ArchiveContext, 'cold' | 'uncommitted'>, rel: string): Promise<void> {
  await ctx.cold.delete(rel).catch(() => {
    ctx.uncommitted.add(rel);
  });
}
