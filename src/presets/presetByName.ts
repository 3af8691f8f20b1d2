/** The presets tierdb ships, by the name `tierdb migrate --preset <name>` takes. */
import { ArgumentError } from '../errors.js';
import type { TierPreset } from './TierPreset.js';
import { wechatPreset } from './wechat/wechatPreset.js';

export const PRESETS: Readonly<Record<string, TierPreset>> = Object.freeze({ wechat: wechatPreset });

export function presetByName(name: string): TierPreset {
  const preset = Object.hasOwn(PRESETS, name) ? PRESETS[name] : undefined;
  if (!preset) throw new ArgumentError(`unknown preset ${JSON.stringify(name)}; tierdb ships ${Object.keys(PRESETS).join(', ')}`);
  return preset;
}
