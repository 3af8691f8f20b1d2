/**
 * The registry of this clone: which tables tier, by which time column, after
 * how many days. Here it is the demo's (src/demo/demoRegistry.ts: task_queue,
 * messages, rule_logs, audit_logs, media_signatures; hotDays from HOT_DAYS_*).
 *
 * An app lists its own tables in `tierdb.config.mjs` (or .ts/.js), e.g.
 *   export default [{ table: 'events', timeColumn: 'ts', timeUnit: 'unix_ms', hotDays: 14 }];
 * `tierdb init --hot-path app.db` writes one from the database itself.
 */
export { demoRegistry as default } from './src/demo/demoRegistry.js';
