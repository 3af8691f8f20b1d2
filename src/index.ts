export { openTierStore, type OpenTierStoreOptions, type TierStore } from './store/openTierStore.js';
export { defineRegistry, type RegistryEntryInput, type RegistryEntry, type Registry, type TimeUnit, type Partition } from './registry/defineRegistry.js';
export type { ResolvedTable, ColumnInfo } from './registry/resolveRegistry.js';
export { loadConfig, ENV_VARS, type TierConfig } from './config.js';
export { HotStore } from './hot/HotStore.js';
export type { AppendResult, RejectedRow } from './hot/appendMessages.js';
export * from './errors.js';
export { noopLogger, type Logger } from './logger.js';
