/**
 * The WeChat message preset (the demo's application): five tables (schema.ts,
 * created by `migrations/app`), their registry, and the validated message append
 * behind `store.hot.appendMessages`. Applied by `tierdb demo`, `tierdb ingest`,
 * `tierdb migrate --preset wechat`, `openTierStore({ preset: wechatPreset })`,
 * and by any store opened with `wechatRegistry` (this clone's archive-registry.ts).
 *
 * @example
 * await using store = await openTierStore({ dataDir: 'data', preset: wechatPreset });
 * await store.hot.appendMessages(rows);
 * await store.hot.db.select().from(messages); // msg_id: exact bigint
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppendRowsTarget } from '../../hot/appendToTable.js';
import { defineRegistry, type RegistryDefinition } from '../../registry/defineRegistry.js';
import { REGISTRY_PRESET, type TierPreset } from '../TierPreset.js';
import { appendMessagesChecked } from './appendMessages.js';
import * as wechatSchema from './schema.js';
import { wechatHotDays } from './wechatHotDays.js';

/** The folder of the preset's drizzle-kit migrations (the demo schema). */
export const APP_MIGRATIONS = path.join(fileURLToPath(new URL('../../../migrations/', import.meta.url)), 'app');

const { auditLogs, mediaSignatures, messages, ruleLogs, taskQueue } = wechatSchema;

/** The preset's registry: hotDays from HOT_DAYS_TASK / _MESSAGES / _LOG / _SIGN (see wechatHotDays). */
export const wechatRegistry: RegistryDefinition = defineRegistry((config) => {
  const hotDays = wechatHotDays(config);
  return [
    { table: taskQueue, timeColumn: 'created_at', timeUnit: 'unix_s', hotDays: hotDays.task, priority: 1 },
    { table: messages, timeColumn: 'create_time', timeUnit: 'unix_s', hotDays: hotDays.messages, priority: 2, appAssignsKeys: true },
    { table: ruleLogs, timeColumn: 'created_at', timeUnit: 'unix_s', hotDays: hotDays.log, priority: 3, partition: 'month' },
    { table: auditLogs, timeColumn: 'created_at', timeUnit: 'iso', hotDays: hotDays.log, priority: 4, partition: 'month' },
    { table: mediaSignatures, timeColumn: 'created_at', timeUnit: 'unix_ms', hotDays: hotDays.sign, priority: 5, partition: 'month' },
  ];
});

export const wechatPreset: TierPreset<typeof wechatSchema> = Object.freeze({
  name: 'wechat',
  migrations: APP_MIGRATIONS,
  schema: wechatSchema,
  registry: wechatRegistry,
  appendMessages: (target: AppendRowsTarget, rows: readonly unknown[]) => appendMessagesChecked(target.raw, rows, target.coldKeys),
});

// A store opened with this registry gets the preset's tables (and appendMessages).
Object.defineProperty(wechatRegistry, REGISTRY_PRESET, { value: wechatPreset });

