/**
 * A preset: an application schema that ships with tierdb (its drizzle tables,
 * its drizzle-kit migrations, a registry for them), applied only where asked
 * for: `openTierStore({ preset })`, `tierdb migrate --preset <name>`, or a
 * registry that names its preset (the demo's). The core knows no preset's
 * tables; `src/presets/wechat/` is the one tierdb ships.
 */
import type { AppendResult } from '../hot/AppendResult.js';
import type { AppendRowsTarget } from '../hot/appendToTable.js';
import type { RegistryDefinition } from '../registry/defineRegistry.js';

export interface TierPreset<TSchema extends Record<string, unknown> = Record<string, unknown>> {
  readonly name: string;
  /** The drizzle-kit migrations folder that creates the preset's tables. */
  readonly migrations: string;
  /** The drizzle schema: types `store.hot.db`. */
  readonly schema: TSchema;
  /** Used when no registry is given or found. */
  readonly registry: RegistryDefinition;
  /** What `store.hot.appendMessages(rows)` runs (the message preset's validated append). */
  readonly appendMessages?: (target: AppendRowsTarget, rows: readonly unknown[]) => Promise<AppendResult>;
}

/**
 * Marks a registry definition with the preset whose tables it lists:
 * openTierStore then applies that preset unless told otherwise. A global
 * symbol, so it survives a registry module loaded through another module
 * instance (jiti).
 */
export const REGISTRY_PRESET = Symbol.for('tierdb.registryPreset');

/** The preset a registry definition names, if any. */
export function presetOfRegistry(definition: RegistryDefinition): TierPreset | undefined {
  const preset = (definition as { [REGISTRY_PRESET]?: unknown })[REGISTRY_PRESET];
  return preset !== null && typeof preset === 'object' && typeof (preset as TierPreset).migrations === 'string' ? (preset as TierPreset) : undefined;
}
