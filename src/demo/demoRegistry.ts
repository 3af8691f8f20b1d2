/**
 * The demo's registry: the five WeChat-style tables of the demo schema, with
 * `hotDays` from HOT_DAYS_TASK / _MESSAGES / _LOG / _SIGN. `tierdb demo` uses it
 * when no registry module is found, so the demo runs in an empty folder.
 */
import { APP_SCHEMA, defineRegistry, type RegistryDefinition } from '../registry/defineRegistry.js';
import { auditLogs, mediaSignatures, messages, ruleLogs, taskQueue } from '../presets/wechat/schema.js';

export const demoRegistry: RegistryDefinition & { [APP_SCHEMA]?: string } = defineRegistry(({ hotDays }) => [
  { table: taskQueue, timeColumn: 'created_at', timeUnit: 'unix_s', hotDays: hotDays.task, priority: 1 },
  { table: messages, timeColumn: 'create_time', timeUnit: 'unix_s', hotDays: hotDays.messages, priority: 2, appAssignsKeys: true },
  { table: ruleLogs, timeColumn: 'created_at', timeUnit: 'unix_s', hotDays: hotDays.log, priority: 3, partition: 'month' },
  { table: auditLogs, timeColumn: 'created_at', timeUnit: 'iso', hotDays: hotDays.log, priority: 4, partition: 'month' },
  { table: mediaSignatures, timeColumn: 'created_at', timeUnit: 'unix_ms', hotDays: hotDays.sign, priority: 5, partition: 'month' },
]);
// The demo's tables come with the demo schema (migrations/app): opening a store with this registry applies it.
Object.defineProperty(demoRegistry, APP_SCHEMA, { value: 'wechat-demo' });
