/**
 * The demo's registry: the WeChat preset's (src/presets/wechat/wechatPreset.ts),
 * five tables with `hotDays` from HOT_DAYS_TASK / _MESSAGES / _LOG / _SIGN. It
 * names its preset, so opening a store with it creates the demo tables.
 * `tierdb demo` uses it when no registry module is found, so the demo runs in
 * an empty folder.
 */
export { wechatRegistry as demoRegistry } from '../presets/wechat/wechatPreset.js';
