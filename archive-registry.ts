/**
 * Which tables tier, by which time column, after how many days.
 * `hotDays` come from env (HOT_DAYS_*, see .env.example).
 * An app adopting tierdb lists its own tables here (drizzle tables or plain names).
 */
import { defineRegistry } from './src/index.js';
import { auditLogs, mediaSignatures, messages, ruleLogs, taskQueue } from './src/hot/schema.js';

export default defineRegistry(({ hotDays }) => [
  { table: taskQueue, timeColumn: 'created_at', timeUnit: 'unix_s', hotDays: hotDays.task, priority: 1 },
  { table: messages, timeColumn: 'create_time', timeUnit: 'unix_s', hotDays: hotDays.messages, priority: 2, appAssignsKeys: true },
  { table: ruleLogs, timeColumn: 'created_at', timeUnit: 'unix_s', hotDays: hotDays.log, priority: 3, partition: 'month' },
  { table: auditLogs, timeColumn: 'created_at', timeUnit: 'iso', hotDays: hotDays.log, priority: 4, partition: 'month' },
  { table: mediaSignatures, timeColumn: 'created_at', timeUnit: 'unix_ms', hotDays: hotDays.sign, priority: 5, partition: 'month' },
]);
