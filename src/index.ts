export { openTierStore, type OpenTierStoreOptions, type TierStore } from './store/openTierStore.js';
export { exportTable, EXPORT_FORMATS, type ExportFormat, type ExportReport, type ExportProgress } from './export/exportTable.js';
export { findRegistryModule, loadRegistryModule, REGISTRY_FILE_NAMES } from './registry/loadRegistryModule.js';
export { materializeRegistry, type RegistryDefinition } from './registry/defineRegistry.js';
export { defineRegistry, type RegistryEntryInput, type RegistryEntry, type Registry, type TimeUnit, type Partition } from './registry/defineRegistry.js';
export type { ResolvedTable, ColumnInfo } from './registry/resolveRegistry.js';
export { loadConfig, ENV_VARS, parseColdUrl, type TierConfig, type ColdUrl, type S3Settings } from './config.js';
export { HotStore, type DrizzleSchema } from './hot/HotStore.js';
export type { AppendResult, RejectedRow, AppendOptions, OnConflict } from './hot/AppendResult.js';
export { int64 } from './hot/int64.js';
export type { TierPreset } from './presets/TierPreset.js';
export { wechatPreset, wechatRegistry, APP_MIGRATIONS } from './presets/wechat/wechatPreset.js';
export * as wechatSchema from './presets/wechat/schema.js';
export * from './errors.js';
export { noopLogger, type Logger } from './logger.js';
export { UnifiedQueryBridge } from './query/UnifiedQueryBridge.js';
export type { QueryOptions, Where, WhereOperators, WhereScalar, OrderBy, SortDirection, Row, ExplainResult } from './query/QueryOptions.js';
export { UniversalArchiver } from './archive/UniversalArchiver.js';
export type { ArchiveReport, ArchiveRunOptions, ArchiveProgress, TableReport } from './archive/ArchiveReport.js';
export { Maintenance } from './maintenance/Maintenance.js';
export type { CompactOptions, CompactReport, CompactTableReport, CompactGroupReport, RetentionOptions, RetentionReport, RetentionTableReport, RestoreOptions, RestoreReport, MaintenanceReport, MigrateColdCall, MigrateColdReport, IcebergPublishReport, IcebergTableReport, PublishIcebergOptions } from './maintenance/Maintenance.js';
export type { RunSummary, RunKind, RunStatus, TableRunSummary } from './notify/RunSummary.js';
export { summarizeArchiveReport, type SummarizeArchiveOptions } from './notify/summarizeArchiveReport.js';
export { RunNotifier, type RunNotifierOptions, type RunEndListener, type WebhookDeliveryListener } from './notify/RunNotifier.js';
export { WebhookNotifier, SIGNATURE_HEADER, DELIVERY_HEADER, WEBHOOK_BACKOFF_MS, type WebhookNotifierOptions, type WebhookDelivery, type WebhookAttempt } from './notify/WebhookNotifier.js';
export { startMetricsServer, type StartMetricsServerOptions, type WatchedMetricsServer } from './serve/startMetricsServer.js';
export { MetricsServer, METRICS_HOST, type MetricsServerOptions } from './serve/MetricsServer.js';
export { RunMetrics, type RunMetricsOptions, type ColdTableTotals } from './serve/RunMetrics.js';
export { RunHealth, healthRunOf, type HealthRun, type HealthBody, type HealthReport } from './serve/RunHealth.js';
export { ingestJsonl } from './presets/wechat/ingestJsonl.js';
export type { StreamOptions } from './query/streamUnifiedQuery.js';
export { inspectDatabase, type DatabaseInspection, type TableInspection, type InspectOptions } from './init/inspectDatabase.js';
export { runInit, type InitReport, type RunInitOptions } from './init/runInit.js';
export type { InitPlan, TableSuggestion } from './init/planInit.js';
export type { TimeCandidate } from './init/guessTimeColumn.js';
export type { KeyFinding } from './init/findKeyColumn.js';
export { rebuildManifest, type RebuildDeps } from './maintenance/rebuildManifest.js';
export type {
  RebuildManifestOptions,
  RebuildReport,
  RebuildProgress,
  RebuildProblem,
  RebuildProblemKind,
  RebuildConflict,
  RebuildRewrite,
  RebuildTableReport,
  UnverifiedManifestFile,
} from './maintenance/RebuildReport.js';
export type { ColdStore, ColdObjectInfo, ColdFileRef, ColdReadHandle } from './cold/ColdStore.js';
export { LocalColdStore } from './cold/LocalColdStore.js';
export type { ChangeOptions, UpdateOptions, ChangeResult } from './change/changeRows.js';
export type { EraseOptions, EraseReceipt } from './change/eraseRows.js';
export type { ErasedFile, ScrubbedBackup } from './manifest/erasureReceipts.js';
export { hashValue } from './change/hashPredicate.js';
export { S3ColdStore, SHA256_METADATA, DEFAULT_PART_SIZE, type S3ColdStoreOptions } from './cold/S3ColdStore.js';
export { createColdStore, type ColdStoreConfig } from './cold/createColdStore.js';
export type { ColdFileCacheStats } from './cold/ColdFileCache.js';
