/**
 * The registry of this clone: which tables tier, by which time column, after
 * how many days. Here it is the demo's (the WeChat preset's, src/presets/wechat/wechatPreset.ts: task_queue,
 * messages, rule_logs, audit_logs, media_signatures; hotDays from HOT_DAYS_*).
 *
 * An app lists its own tables in `tierdb.config.mjs` (or .ts/.js), e.g.
 *   export default [{ table: 'events', timeColumn: 'ts', timeUnit: 'unix_ms', hotDays: 14 }];
 * `tierdb init --hot-path app.db` writes one from the database itself.
 */
export { wechatRegistry as default } from './src/presets/wechat/wechatPreset.js';
