/**
 * The demo as a list of steps over one context: prepare a fresh data folder,
 * open the store, fill it with generated data, collect stats, archive old rows
 * and collect stats again, then ask the query bridge a few questions (hot,
 * cold, straddling the cutoff, all history). Later steps slot into DEMO_STEPS.
 */
import { existsSync } from 'node:fs';
import type { TierConfig } from '../config.js';
import { TierError } from '../errors.js';
import { noopLogger, type Logger } from '../logger.js';
import type { RegistryDefinition } from '../registry/defineRegistry.js';
import type { ArchiveReport } from '../archive/ArchiveReport.js';
import { DAY_MS } from '../registry/timeUnit.js';
import { wechatRegistry } from '../presets/wechat/wechatPreset.js';
import { manifestFileCount } from '../manifest/manifestFiles.js';
import type { ExplainResult, QueryOptions, Row } from '../query/QueryOptions.js';
import { collectStats, type TierStats } from '../stats/collectStats.js';
import { openTierStore, type TierStore } from '../store/openTierStore.js';
import { DEMO_TABLES, demoRowCounts, resolveDemoOptions, writeDemoData, type DemoDataOptions, type DemoTable, type ResolvedDemoOptions } from './generateDemoData.js';
import { assertDemoHotFile, prepareDemoDataDir } from './prepareDemoDataDir.js';

/** What the demo reports on its progress; the CLI passes a cli-progress bar. */
export interface DemoProgressSink {
  start(total: number, label: string): void;
  update(done: number, label?: string): void;
  stop(): void;
}

export interface RunDemoOptions extends DemoDataOptions {
  config: TierConfig;
  /** Keep the data already in the folder: nothing is removed, and nothing is generated when a demo table already holds rows. */
  keep?: boolean;
  /** Default: the demo's own registry (the WeChat preset's, wechatRegistry). */
  registry?: RegistryDefinition;
  logger?: Logger;
  progress?: DemoProgressSink;
}

export interface DemoStepReport {
  readonly name: string;
  readonly ms: number;
}

export interface DemoReport {
  readonly dataDir: string;
  readonly hotPath: string;
  readonly options: ResolvedDemoOptions;
  /** Files and folders the prepare step removed. */
  removed: string[];
  /** Rows generated per table; null when `keep` found the tables already filled. */
  generated: Record<DemoTable, number> | null;
  steps: DemoStepReport[];
  /** Stats right after generating, before the archive step. */
  statsBeforeArchive?: TierStats;
  /** The archive step's report. */
  archive?: ArchiveReport;
  /** The latest stats (after archiving when that step ran). */
  stats?: TierStats;
  /** The query step's bridge queries, in order. */
  queries?: DemoQueryReport[];
  ms: number;
}

/** One query of the demo's query step. */
export interface DemoQueryReport {
  readonly name: string;
  /** The library call, as code. */
  readonly call: string;
  /** Which tier answered, from bridge.explain: hot, cold, hot+cold, or none (no row can match). */
  readonly tier: 'hot' | 'cold' | 'hot+cold' | 'none';
  /** Cold files read after pruning. */
  readonly coldFiles: number;
  /** Wall time of the query itself (not the explain), ms. */
  readonly ms: number;
  readonly rows: Row[];
}

export interface DemoContext {
  readonly config: TierConfig;
  readonly options: ResolvedDemoOptions;
  readonly keep: boolean;
  readonly registry: RegistryDefinition | undefined;
  readonly logger: Logger;
  readonly progress: DemoProgressSink;
  /** Opened by the `open` step, closed by runDemo. */
  store?: TierStore;
  readonly report: DemoReport;
}

export interface DemoStep {
  readonly name: string;
  run(ctx: DemoContext): Promise<void>;
}

function requireStore(ctx: DemoContext): TierStore {
  if (!ctx.store) throw new TierError('TIERDB_DEMO', 'the demo store is not open (the open step must run first)');
  return ctx.store;
}

const silentProgress: DemoProgressSink = { start() {}, update() {}, stop() {} };

export const prepareStep: DemoStep = {
  name: 'prepare',
  async run(ctx) {
    if (!ctx.keep) ctx.report.removed = prepareDemoDataDir(ctx.config);
    // Even when keeping, never write the demo schema into someone else's database.
    else if (existsSync(ctx.config.hotPath)) assertDemoHotFile(ctx.config.hotPath);
  },
};

export const openStep: DemoStep = {
  name: 'open',
  async run(ctx) {
    ctx.store = await openTierStore({
      config: ctx.config,
      logger: ctx.logger,
      registry: ctx.registry ?? wechatRegistry,
    });
  },
};

export const generateStep: DemoStep = {
  name: 'generate',
  async run(ctx) {
    const raw = requireStore(ctx).hot.raw;
    if (ctx.keep) {
      const filled = DEMO_TABLES.filter(
        (t) =>
          raw.prepare(`SELECT 1 FROM "${t}" LIMIT 1`).get() !== undefined ||
          manifestFileCount(raw, t) > 0,
      );
      if (filled.length > 0) {
        ctx.logger.info({ tables: filled }, 'demo tables already hold rows; kept them, generated nothing');
        ctx.report.generated = null;
        return;
      }
    }
    const counts = demoRowCounts(ctx.options.rows);
    ctx.progress.start(DEMO_TABLES.reduce((sum, t) => sum + counts[t], 0), DEMO_TABLES[0]);
    try {
      const summary = writeDemoData(raw, {
        ...ctx.options,
        now: ctx.options.nowMs,
        onProgress: ({ table, done }) => ctx.progress.update(done, table),
      });
      ctx.report.generated = summary.rows;
    } finally {
      ctx.progress.stop();
    }
    raw.pragma('wal_checkpoint(TRUNCATE)');
    raw.pragma('optimize');
  },
};

export const statsStep: DemoStep = {
  name: 'stats',
  async run(ctx) {
    ctx.report.stats = await collectStats(requireStore(ctx));
  },
};

/** Moves everything older than each table's hot_days to cold Parquet, with stats before and after. */
export const archiveStep: DemoStep = {
  name: 'archive',
  async run(ctx) {
    const store = requireStore(ctx);
    ctx.report.statsBeforeArchive = ctx.report.stats ?? (await collectStats(store));
    let current = '';
    try {
      ctx.report.archive = await store.archiver.run({
        // The data was generated relative to this clock; archive by the same one.
        now: ctx.options.nowMs,
        onProgress: (p) => {
          if (p.table !== current) {
            current = p.table;
            ctx.progress.start(p.rowsTotal, `archive ${p.table}`);
          }
          ctx.progress.update(p.rowsDone, `archive ${p.table} ${p.partition}`);
        },
      });
    } finally {
      ctx.progress.stop();
    }
    ctx.report.stats = await collectStats(store);
  },
};

function tierOf(plan: ExplainResult): DemoQueryReport['tier'] {
  if (plan.hot) return plan.coldFiles.length > 0 ? 'hot+cold' : 'hot';
  return plan.coldFiles.length > 0 ? 'cold' : 'none';
}

/** Code text of a value for `call`: bigints with n, strings quoted. */
function code(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)).replace(/"(-?\d+n)"/g, '$1');
}

/**
 * Asks the bridge four questions about `messages` and reports rows, latency
 * and which tier answered: the last hour of the busiest chatroom (hot), one
 * archived day's count (cold), the two days around the archive cutoff (both),
 * and message types over all history (bridge.sql).
 */
export const queryStep: DemoStep = {
  name: 'query',
  async run(ctx) {
    const store = requireStore(ctx);
    const queries: DemoQueryReport[] = [];
    ctx.report.queries = queries;
    const t = store.tables.find((x) => x.table === 'messages');
    if (!t) return;
    const bridge = store.bridge;
    const timed = async (name: string, call: string, explainOptions: QueryOptions, run: () => Promise<Row[]>) => {
      const plan = await bridge.explain('messages', explainOptions);
      const t0 = performance.now();
      const rows = await run();
      queries.push({ name, call, tier: tierOf(plan), coldFiles: plan.coldFiles.length, ms: performance.now() - t0, rows });
    };
    const nowS = Math.floor(ctx.options.nowMs / 1000);
    const cutoffIso = ctx.report.archive?.tables.find((x) => x.table === 'messages')?.cutoff;
    const cutoffMs = cutoffIso ? Date.parse(cutoffIso) : Math.floor((ctx.options.nowMs - t.hotDays * DAY_MS) / DAY_MS) * DAY_MS;
    const cutoffS = Math.floor(cutoffMs / 1000);

    // The chatroom with the most messages in the last hour (hot rows only, so this is quick).
    const perRoom = new Map<string, number>();
    for (const r of await bridge.query('messages', { where: { chatroom: { isNull: false }, create_time: { gte: nowS - 3600 } }, columns: ['chatroom'] })) {
      perRoom.set(r.chatroom as string, (perRoom.get(r.chatroom as string) ?? 0) + 1);
    }
    const busiest = [...perRoom].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
    if (busiest !== undefined) {
      const q: QueryOptions = {
        where: { chatroom: busiest, create_time: { gte: nowS - 3600 } },
        orderBy: [{ create_time: 'desc' }],
        limit: 5,
        columns: ['msg_id', 'create_time', 'chatroom_sender', 'msg_type', 'content'],
      };
      await timed(`last hour of ${busiest}, newest 5`, `bridge.query('messages', ${code(q)})`, q, () => bridge.query('messages', q));
    }

    // Counts through bridge.query (pruned by the manifest, so explain's tier is what ran); bridge.sql reads every file.
    const countRows = async (q: QueryOptions): Promise<Row[]> => {
      const times = (await bridge.query('messages', q)).map((r) => r.create_time as bigint);
      const first = times.reduce<bigint | null>((a, b) => (a === null || b < a ? b : a), null);
      const last = times.reduce<bigint | null>((a, b) => (a === null || b > a ? b : a), null);
      return [{ messages: BigInt(times.length), first, last }];
    };
    const isoDay = (s: number) => new Date(s * 1000).toISOString().slice(0, 10);
    const dayStart = cutoffS - 86_400;
    const day: QueryOptions = { where: { create_time: { gte: dayStart, lt: cutoffS } }, columns: ['create_time'] };
    await timed(`messages on ${isoDay(dayStart)} (archived)`, `bridge.query('messages', ${code(day)}) and count`, day, () => countRows(day));

    const span: QueryOptions = { where: { create_time: { gte: dayStart, lt: cutoffS + 86_400 } }, columns: ['create_time'] };
    await timed(`messages from ${isoDay(dayStart)} to ${isoDay(cutoffS + 86_400)} (across the cutoff)`, `bridge.query('messages', ${code(span)}) and count`, span, () =>
      countRows(span),
    );

    const typesSql = 'SELECT msg_type, count(*) AS messages FROM messages GROUP BY msg_type ORDER BY messages DESC, msg_type';
    await timed('message types over all history', `bridge.sql(${code(typesSql)})`, {}, () => bridge.sql(typesSql));
  },
};

/** The demo's steps, in order. */
export const DEMO_STEPS: readonly DemoStep[] = [prepareStep, openStep, generateStep, statsStep, archiveStep, queryStep];

/**
 * Runs the demo: a fresh data folder (see prepareDemoDataDir), the five demo
 * tables filled with seeded data, then stats.
 *
 * @example
 * const report = await runDemo({ config: loadConfig(), rows: 100_000, days: 90 });
 * console.log(report.stats?.tables);
 */
export async function runDemo(options: RunDemoOptions, steps: readonly DemoStep[] = DEMO_STEPS): Promise<DemoReport> {
  const started = performance.now();
  const resolved = resolveDemoOptions(options);
  const ctx: DemoContext = {
    config: options.config,
    options: resolved,
    keep: options.keep ?? false,
    registry: options.registry,
    logger: options.logger ?? noopLogger,
    progress: options.progress ?? silentProgress,
    report: {
      dataDir: options.config.dataDir,
      hotPath: options.config.hotPath,
      options: resolved,
      removed: [],
      generated: null,
      steps: [],
      ms: 0,
    },
  };
  try {
    for (const step of steps) {
      const t0 = performance.now();
      await step.run(ctx);
      const ms = performance.now() - t0;
      ctx.report.steps.push({ name: step.name, ms });
      ctx.logger.debug({ step: step.name, ms: Math.round(ms) }, 'demo step done');
    }
  } finally {
    await ctx.store?.close();
  }
  ctx.report.ms = performance.now() - started;
  return ctx.report;
}
