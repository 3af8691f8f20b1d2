/**
 * Seeded, realistic synthetic data for the five demo tables: WeChat-like
 * messages and the task, rule, audit and media tables around them, spread over
 * `days` days ending at `now`, denser in recent days and in the daytime (UTC+8).
 *
 * Everything is generated row by row (one day of timestamps at a time), so a
 * million messages never sit in memory at once. Same options, same rows.
 */
import type Database from 'better-sqlite3';
import { ArgumentError } from '../errors.js';
import * as words from './demoVocabulary.js';
import { Rng, hash32, weighted } from './random.js';
import { MESSAGE_COLUMNS } from '../presets/wechat/messageRow.js';
import { DAY_MS } from '../registry/timeUnit.js';

export const DEMO_TABLES = ['messages', 'task_queue', 'rule_logs', 'audit_logs', 'media_signatures'] as const;
export type DemoTable = (typeof DEMO_TABLES)[number];

export const DEMO_DEFAULTS = Object.freeze({ rows: 1_000_000, days: 400, seed: 42 });

export interface DemoDataOptions {
  /** How many messages; the other tables are sized from it (see demoRowCounts). Default 1,000,000. */
  rows?: number;
  /** How many days the data spans, ending at `now`. Default 400. */
  days?: number;
  /** Same seed (and same `now`), same data. Default 42. */
  seed?: number;
  /** The end of the time range. Default: the current time. */
  now?: Date | number;
}

export interface ResolvedDemoOptions {
  readonly rows: number;
  readonly days: number;
  readonly seed: number;
  readonly nowMs: number;
}


/** Columns each generated row fills, in order (ids are left to SQLite). */
export const DEMO_COLUMNS: Readonly<Record<DemoTable, readonly string[]>> = Object.freeze({
  messages: MESSAGE_COLUMNS,
  task_queue: ['task_type', 'status', 'priority', 'msg_id', 'payload', 'attempts', 'last_error', 'created_at', 'updated_at'],
  rule_logs: ['rule_id', 'rule_name', 'msg_id', 'matched', 'action', 'duration_ms', 'detail', 'created_at'],
  audit_logs: ['actor', 'action', 'target', 'detail', 'ip', 'created_at'],
  media_signatures: ['msg_id', 'media_type', 'sha256', 'phash', 'size_bytes', 'width', 'height', 'created_at'],
});

/** One generated message, shaped for `appendMessages`. */
export interface DemoMessage {
  msg_id: bigint;
  from_username: string;
  to_username: string;
  content: string | null;
  create_time: number;
  msg_type: number;
  is_chatroom_msg: 0 | 1;
  chatroom: string | null;
  chatroom_sender: string | null;
  desc: string | null;
  source: string | null;
  guid: string | null;
  notify_type: number | null;
  extra_fields: string | null;
}

const HOUR_MS = 3_600_000;
/** Users live in UTC+8: the daily rhythm follows China time. */
const TZ_OFFSET_MS = 8 * HOUR_MS;
/** Relative activity per local hour, midnight first. */
const HOUR_WEIGHTS = [3, 2, 1, 1, 1, 1, 2, 5, 9, 12, 13, 12, 10, 9, 11, 12, 12, 11, 10, 11, 13, 13, 10, 6];
/** WeChat msg_ids are 64-bit and far above 2^53; ours start at 7e18 and climb with jitter. */
export const DEMO_MSG_ID_BASE = 7_000_000_000_000_000_000n;
const MSG_ID_STEP_BITS = 20;

const HOUR_CUMULATIVE = (() => {
  const total = HOUR_WEIGHTS.reduce((a, b) => a + b, 0);
  const cum = [0];
  for (const w of HOUR_WEIGHTS) cum.push(cum[cum.length - 1]! + w / total);
  cum[24] = 1;
  return cum;
})();

/** Validates options and fills in defaults. */
export function resolveDemoOptions(options: DemoDataOptions = {}): ResolvedDemoOptions {
  const rows = options.rows ?? DEMO_DEFAULTS.rows;
  const days = options.days ?? DEMO_DEFAULTS.days;
  const seed = options.seed ?? DEMO_DEFAULTS.seed;
  const now = options.now ?? Date.now();
  if (!Number.isSafeInteger(rows) || rows < 1 || rows > 1_000_000_000) {
    throw new ArgumentError(`demo rows ${JSON.stringify(rows)} is invalid: expected a whole number from 1 to 1000000000`);
  }
  if (!Number.isSafeInteger(days) || days < 1 || days > 36_500) {
    throw new ArgumentError(`demo days ${JSON.stringify(days)} is invalid: expected a whole number from 1 to 36500`);
  }
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new ArgumentError(`demo seed ${JSON.stringify(seed)} is invalid: expected a whole number from 0 to 4294967295`);
  }
  const nowMs = now instanceof Date ? now.getTime() : now;
  if (!Number.isFinite(nowMs)) throw new ArgumentError(`demo now ${String(now)} is not a valid time`);
  return Object.freeze({ rows, days, seed, nowMs: Math.floor(nowMs) });
}

/** Rows per table for a given number of messages. */
export function demoRowCounts(rows: number): Record<DemoTable, number> {
  return {
    messages: rows,
    task_queue: Math.round(rows / 4),
    rule_logs: Math.round(rows / 2),
    audit_logs: Math.round(rows / 20),
    media_signatures: Math.round(rows / 10),
  };
}

/** Splits `total` over the days in proportion to `weights`, summing exactly to `total`. */
function apportion(total: number, weights: Float64Array): Uint32Array {
  const sum = weights.reduce((a, b) => a + b, 0);
  const counts = new Uint32Array(weights.length);
  const remainders: [number, number][] = [];
  let given = 0;
  weights.forEach((w, d) => {
    const exact = (total * w) / sum;
    counts[d] = Math.floor(exact);
    given += counts[d]!;
    remainders.push([exact - counts[d]!, d]);
  });
  remainders.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let i = 0; i < total - given; i++) counts[remainders[i]![1]]!++;
  return counts;
}

interface Person {
  readonly id: string;
  readonly nick: string;
}

/**
 * The fixed cast and calendar of one demo data set: accounts, chatrooms,
 * per-day volumes, and where each day's messages start (so other tables can
 * reference a real message from about the same time).
 */
class DemoWorld {
  readonly options: ResolvedDemoOptions;
  readonly counts: Record<DemoTable, number>;
  readonly startMs: number;
  readonly self: Person;
  readonly users: readonly Person[];
  readonly chatrooms: readonly Person[];
  readonly #dayWeights: Float64Array;
  readonly #messagesPerDay: Uint32Array;
  readonly #firstMessageOfDay: Float64Array;

  constructor(options: ResolvedDemoOptions) {
    this.options = options;
    this.counts = demoRowCounts(options.rows);
    this.startMs = options.nowMs - options.days * DAY_MS;
    const rng = new Rng(options.seed, 0);
    this.self = { id: `wxid_${rng.alnum(14)}`, nick: 'tierdb-bot' };
    const customPrefixes = ['zhangwei', 'lina', 'kevin', 'momo', 'tony', 'xiaoli', 'wangfang', 'chenjing', 'eric', 'vivian'];
    this.users = Array.from({ length: 1500 }, () => ({
      id: rng.chance(0.75) ? `wxid_${rng.alnum(14)}` : `${rng.pick(customPrefixes)}_${rng.int(1, 9999)}`,
      nick: rng.pick(words.NICKNAMES),
    }));
    this.chatrooms = Array.from({ length: 180 }, () => ({
      id: rng.chance(0.7) ? `${rng.int(10_000_000, 99_999_999)}${rng.int(100, 999)}@chatroom` : `${rng.int(100_000, 999_999)}@chatroom`,
      nick: rng.pick(words.CHATROOM_TOPICS),
    }));
    // Volume grows towards `now` (about 10x from the first day to the last), with
    // quieter weekends, day-to-day noise and the odd busy day.
    this.#dayWeights = new Float64Array(options.days);
    for (let d = 0; d < options.days; d++) {
      const recency = (d + 0.5) / options.days;
      const weekday = new Date(this.startMs + d * DAY_MS + DAY_MS / 2 + TZ_OFFSET_MS).getUTCDay();
      const weekend = weekday === 0 || weekday === 6 ? 0.75 : 1;
      const spike = rng.chance(0.02) ? 2.5 : 1;
      this.#dayWeights[d] = (0.2 + 1.8 * recency * recency) * weekend * spike * (0.8 + 0.4 * rng.next());
    }
    this.#messagesPerDay = this.perDay(this.counts.messages);
    this.#firstMessageOfDay = new Float64Array(options.days);
    let first = 0;
    for (let d = 0; d < options.days; d++) {
      this.#firstMessageOfDay[d] = first;
      first += this.#messagesPerDay[d]!;
    }
  }

  perDay(total: number): Uint32Array {
    return apportion(total, this.#dayWeights);
  }

  /** The msg_id of the i-th message: increasing, unique, above 2^53. */
  msgIdAt(i: number): bigint {
    const jitter = hash32(this.options.seed, i) & ((1 << MSG_ID_STEP_BITS) - 1);
    return DEMO_MSG_ID_BASE + (BigInt(i) << BigInt(MSG_ID_STEP_BITS)) + BigInt(jitter);
  }

  /** `count` sorted timestamps (ms) in day window `d`, following the daily rhythm. */
  dayTimes(rng: Rng, count: number, d: number): Float64Array {
    const windowStart = this.startMs + d * DAY_MS;
    const windowLocal = localMsOfDay(windowStart);
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const local = sampleLocalMs(rng.next());
      out[i] = windowStart + ((local - windowLocal + DAY_MS) % DAY_MS);
    }
    return out.sort();
  }

  /** A message sent a little before time `t` on day `d`, or null when that day has none. */
  messageNear(rng: Rng, t: number, d: number): bigint | null {
    const count = this.#messagesPerDay[d]!;
    if (count === 0) return null;
    const windowStart = this.startMs + d * DAY_MS;
    // The share of the day's messages sent before t (same daily rhythm for every table).
    const share = (localCdf(localMsOfDay(t)) - localCdf(localMsOfDay(windowStart)) + 1) % 1;
    const k = Math.min(count - 1, Math.max(0, Math.floor(share * count) - rng.int(0, 3)));
    return this.msgIdAt(this.#firstMessageOfDay[d]! + k);
  }
}

function localMsOfDay(t: number): number {
  return (((t + TZ_OFFSET_MS) % DAY_MS) + DAY_MS) % DAY_MS;
}

/** Inverse of localCdf: a uniform number in [0, 1) to a local time of day (ms). */
function sampleLocalMs(u: number): number {
  let h = 0;
  while (h < 23 && u >= HOUR_CUMULATIVE[h + 1]!) h++;
  const lo = HOUR_CUMULATIVE[h]!;
  const hi = HOUR_CUMULATIVE[h + 1]!;
  return Math.min(DAY_MS - 1, Math.floor(h * HOUR_MS + ((u - lo) / (hi - lo)) * HOUR_MS));
}

/** The share of a day's activity before local time `ms`. */
function localCdf(ms: number): number {
  const h = Math.floor(ms / HOUR_MS);
  const lo = HOUR_CUMULATIVE[h]!;
  return lo + (HOUR_CUMULATIVE[h + 1]! - lo) * ((ms - h * HOUR_MS) / HOUR_MS);
}

type RowMaker = (rng: Rng, t: number, d: number) => unknown[];

const pickMsgType = weighted([
  [1, 62],
  [3, 14],
  [34, 6],
  [49, 12],
  [10000, 6],
] as const);
const pickNotifyType = weighted<number | null>([
  [100, 50],
  [2, 10],
  [0, 10],
  [null, 30],
]);
const pickTaskType = weighted(words.TASK_TYPES);
const pickAuditAction = weighted(words.AUDIT_ACTIONS);
const pickMediaType = weighted([
  ['image', 70],
  ['video', 12],
  ['file', 10],
  ['emoji', 8],
] as const);

function chatText(rng: Rng, world: DemoWorld, inRoom: boolean): string {
  const parts: string[] = [];
  if (inRoom && rng.chance(0.08)) parts.push(`@${rng.pick(world.users).nick}\u2005`);
  const n = rng.int(1, 3);
  for (let i = 0; i < n; i++) parts.push(rng.chance(0.65) ? rng.pick(words.CHINESE_PHRASES) : rng.pick(words.ENGLISH_PHRASES));
  if (rng.chance(0.2)) parts.push(rng.pick(words.WECHAT_EMOJI));
  return parts.join(rng.chance(0.5) ? ' ' : '');
}

function guid(rng: Rng): string {
  return `${rng.hex(8)}-${rng.hex(4)}-${rng.hex(4)}-${rng.hex(4)}-${rng.hex(12)}`;
}

function messageMaker(world: DemoWorld): RowMaker {
  let index = 0;
  return (rng, t) => {
    const msgId = world.msgIdAt(index++);
    const type = pickMsgType(rng);
    const inRoom = rng.chance(0.55);
    const room = inRoom ? rng.pickSkewed(world.chatrooms, 1.8) : null;
    const peer = rng.pickSkewed(world.users, 2);
    const outgoing = rng.chance(inRoom ? 0.08 : 0.3);
    const self = world.self.id;
    const from = outgoing ? self : (room?.id ?? peer.id);
    const to = outgoing ? (room?.id ?? peer.id) : self;
    const sender = room && type !== 10000 ? (outgoing ? self : peer.id) : null;

    let content: string;
    let preview: string;
    switch (type) {
      case 1:
        content = chatText(rng, world, inRoom);
        // Never half an emoji: a lone surrogate is not text, and appendMessages refuses it.
        preview = content.slice(0, 30).replace(/[\uD800-\uDBFF]$/, '');
        break;
      case 3:
        content =
          `<?xml version="1.0"?>\n<msg>\n\t<img aeskey="${rng.hex(32)}" encryver="1" cdnthumbaeskey="${rng.hex(32)}" ` +
          `cdnthumburl="3057020100044b30490201000204${rng.hex(24)}" cdnthumblength="${rng.int(2000, 9000)}" cdnthumbheight="120" ` +
          `cdnthumbwidth="90" length="${rng.int(20_000, 3_000_000)}" md5="${rng.hex(32)}" />\n</msg>`;
        preview = '[图片]';
        break;
      case 34: {
        const ms = rng.int(1000, 60_000);
        content =
          `<msg><voicemsg endflag="1" cancelflag="0" forwardflag="0" voiceformat="4" voicelength="${ms}" ` +
          `length="${Math.round(ms * 1.6)}" bufid="0" aeskey="${rng.hex(32)}" voiceurl="3052020100043e303c${rng.hex(24)}" /></msg>`;
        preview = '[语音]';
        break;
      }
      case 49: {
        const [title, host] = rng.pick(words.APP_TITLES);
        const appType = host === 'file' ? 6 : host === 'weapp' ? 33 : 5;
        const url = host === 'file' || host === 'weapp' ? '' : `https://${host}/${rng.alnum(22)}`;
        content =
          `<msg><appmsg appid="" sdkver="0"><title>${title}</title><des>${rng.pick(words.CHINESE_PHRASES)}</des>` +
          `<type>${appType}</type><url>${url}</url></appmsg><fromusername>${from}</fromusername></msg>`;
        preview = `[链接] ${title}`;
        break;
      }
      default: {
        const a = rng.pick(world.users).nick;
        const b = rng.pick(world.users).nick;
        content = inRoom
          ? rng.pick([`"${a}"邀请"${b}"加入了群聊`, `"${a}"撤回了一条消息`, `"${a}" recalled a message`, `群名已修改为“${room!.nick}”`])
          : rng.pick([`你已添加了${a}，现在可以开始聊天了。`, `"${a}"撤回了一条消息`, `${a} has accepted your friend request`]);
        preview = '';
      }
    }

    const desc = !outgoing && type !== 10000 && rng.chance(0.35) ? `${peer.nick} : ${preview}` : null;
    const sourceKind = rng.next();
    const source =
      sourceKind < 0.45
        ? `<msgsource>${room ? `<silence>${rng.int(0, 1)}</silence><membercount>${rng.int(3, 500)}</membercount>` : ''}` +
          `<signature>v1_${rng.alnum(8)}</signature><tmp_node><publisher-id></publisher-id></tmp_node></msgsource>`
        : sourceKind < 0.75
          ? rng.pick(['0', '1', '2', String(rng.int(1_000_000_000, 2_000_000_000))])
          : null;
    let extra: Record<string, unknown> | null = null;
    if (rng.chance(0.12)) {
      extra = { device: rng.pick(words.DEVICES) };
      if (outgoing) extra.client_msg_id = rng.hex(16);
      if (room && rng.chance(0.4)) extra.at_user_list = [rng.pick(world.users).id];
      if (type === 3) extra.img_size = { w: rng.int(320, 4032), h: rng.int(320, 4032) };
      if (rng.chance(0.05)) extra.revoked = true;
    }
    return [
      msgId,
      from,
      to,
      content,
      Math.floor(t / 1000),
      type,
      room ? 1 : 0,
      room?.id ?? null,
      sender,
      desc,
      source,
      rng.chance(0.5) ? guid(rng) : null,
      pickNotifyType(rng),
      extra && JSON.stringify(extra),
    ];
  };
}

function taskMaker(world: DemoWorld): RowMaker {
  const recentMs = world.options.nowMs - DAY_MS;
  return (rng, t, d) => {
    const type = pickTaskType(rng);
    const recent = t >= recentMs;
    const r = rng.next();
    const status = recent
      ? r < 0.3 ? 'pending' : r < 0.4 ? 'running' : r < 0.95 ? 'done' : 'failed'
      : r < 0.93 ? 'done' : r < 0.98 ? 'failed' : 'cancelled';
    const msgId = type === 'sync_contacts' || type === 'webhook' ? null : world.messageNear(rng, t, d);
    const peer = rng.pickSkewed(world.users, 2);
    let payload: Record<string, unknown>;
    switch (type) {
      case 'send_reply':
        payload = { to: peer.id, text: rng.pick(words.CHINESE_PHRASES) };
        break;
      case 'download_media':
      case 'ocr_image':
        payload = { msg_id: msgId?.toString() ?? null, cdn: `https://wxapp.tc.qq.com/${rng.alnum(16)}` };
        break;
      case 'forward_message':
        payload = { msg_id: msgId?.toString() ?? null, to: rng.pick(world.chatrooms).id };
        break;
      case 'webhook':
        payload = { url: 'https://crm.example.com/hooks/wechat', event: rng.pick(['message.new', 'contact.added', 'room.joined']) };
        break;
      default:
        payload = { reason: rng.pick(['scheduled', 'manual', 'login']) };
    }
    const failed = status === 'failed';
    const createdAt = Math.floor(t / 1000);
    return [
      type,
      status,
      Math.floor(rng.next() ** 2 * 10),
      msgId,
      JSON.stringify(payload),
      failed ? rng.int(3, 5) : status === 'pending' ? 0 : rng.chance(0.9) ? 1 : 2,
      failed ? rng.pick(words.TASK_ERRORS) : null,
      createdAt,
      status === 'pending' ? null : createdAt + rng.int(0, 600),
    ];
  };
}

function ruleLogMaker(world: DemoWorld): RowMaker {
  return (rng, t, d) => {
    const ruleIndex = Math.floor(rng.next() ** 1.5 * words.RULE_NAMES.length);
    const matched = rng.chance(0.25);
    return [
      ruleIndex + 1,
      words.RULE_NAMES[ruleIndex]!,
      world.messageNear(rng, t, d),
      matched ? 1 : 0,
      matched ? rng.pick(words.RULE_ACTIONS) : null,
      Math.round(Math.exp(rng.next() * 7 - 3) * 1000) / 1000,
      matched ? JSON.stringify({ keyword: rng.pick(words.CHINESE_PHRASES).slice(0, 4), score: Math.round(rng.next() * 1000) / 1000 }) : null,
      Math.floor(t / 1000),
    ];
  };
}

function auditLogMaker(world: DemoWorld): RowMaker {
  return (rng, t) => {
    const actor = rng.chance(0.1) ? world.self.id : rng.pick(words.AUDIT_ACTORS);
    const action = pickAuditAction(rng);
    const target =
      action === 'update_rule' || action === 'create_rule'
        ? `rule:${rng.int(1, words.RULE_NAMES.length)}`
        : action === 'kick_member' || action === 'export_chat'
          ? `chatroom:${rng.pick(world.chatrooms).id}`
          : action === 'add_contact' || action === 'delete_message'
            ? `contact:${rng.pick(world.users).id}`
            : action === 'config_change'
              ? `config:${rng.pick(['HOT_DAYS_TASK', 'ARCHIVE_CRON', 'reply_template', 'webhook_url'])}`
              : null;
    const machine = actor === 'system' || actor === 'cron' || actor.startsWith('api:');
    const ip = machine
      ? null
      : rng.chance(0.8)
        ? rng.pick([`10.${rng.int(0, 20)}.${rng.int(0, 255)}.${rng.int(1, 254)}`, `192.168.${rng.int(0, 3)}.${rng.int(2, 254)}`])
        : `2408:8207:${rng.hex(4)}:${rng.hex(4)}::${rng.hex(3)}`;
    return [
      actor,
      action,
      target,
      JSON.stringify({ ok: rng.chance(0.97), ua: machine ? 'tierdb-worker' : rng.pick(['Chrome 131', 'Safari 18', 'WeChat 8.0.54']) }),
      ip,
      new Date(t).toISOString(),
    ];
  };
}

function mediaSignatureMaker(world: DemoWorld): RowMaker {
  return (rng, t, d) => {
    const type = pickMediaType(rng);
    const visual = type === 'image' || type === 'video';
    const size =
      type === 'video' ? rng.int(500_000, 50_000_000) : type === 'file' ? rng.int(10_000, 20_000_000) : type === 'emoji' ? rng.int(2_000, 500_000) : rng.int(20_000, 3_000_000);
    return [
      world.messageNear(rng, t, d),
      type,
      rng.hex(64),
      type === 'file' ? null : rng.bytes(8),
      size,
      visual ? rng.pick([640, 720, 1080, 1170, 1284, 3024]) : null,
      visual ? rng.pick([480, 960, 1280, 1920, 2532, 4032]) : null,
      Math.floor(t),
    ];
  };
}

const MAKERS: Record<DemoTable, (world: DemoWorld) => RowMaker> = {
  messages: messageMaker,
  task_queue: taskMaker,
  rule_logs: ruleLogMaker,
  audit_logs: auditLogMaker,
  media_signatures: mediaSignatureMaker,
};

function* rowsOf(world: DemoWorld, table: DemoTable): Generator<unknown[]> {
  // Each table draws from its own stream, so generating one never shifts another.
  const rng = new Rng(world.options.seed, DEMO_TABLES.indexOf(table) + 1);
  const perDay = world.perDay(world.counts[table]);
  const make = MAKERS[table](world);
  for (let d = 0; d < world.options.days; d++) {
    for (const t of world.dayTimes(rng, perDay[d]!, d)) yield make(rng, t, d);
  }
}

/**
 * The rows of one demo table, oldest first, as value arrays in DEMO_COLUMNS order.
 *
 * @example
 * for (const values of generateDemoRows('audit_logs', { rows: 1000, seed: 1 })) insert.run(values);
 */
export function* generateDemoRows(table: DemoTable, options: DemoDataOptions = {}): Generator<unknown[]> {
  if (!DEMO_TABLES.includes(table)) throw new ArgumentError(`unknown demo table ${JSON.stringify(table)}; expected one of ${DEMO_TABLES.join(', ')}`);
  yield* rowsOf(new DemoWorld(resolveDemoOptions(options)), table);
}

/**
 * Demo messages as row objects, oldest first, ready for `appendMessages`.
 *
 * @example
 * const batch = [];
 * for (const m of generateMessages({ rows: 50_000, seed: 7 })) batch.push(m);
 * await store.hot.appendMessages(batch);
 */
export function* generateMessages(options: DemoDataOptions = {}): Generator<DemoMessage> {
  for (const values of generateDemoRows('messages', options)) {
    const row: Record<string, unknown> = {};
    MESSAGE_COLUMNS.forEach((c, i) => (row[c] = values[i]));
    yield row as unknown as DemoMessage;
  }
}

/** Groups any iterable into arrays of `size` (the last may be shorter). */
export function* inBatches<T>(items: Iterable<T>, size: number): Generator<T[]> {
  let batch: T[] = [];
  for (const item of items) {
    batch.push(item);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

export interface DemoProgress {
  table: DemoTable;
  /** Rows written so far, all tables together. */
  done: number;
  total: number;
}

export interface WriteDemoDataOptions extends DemoDataOptions {
  /** Rows per transaction. Default 10,000. */
  batchSize?: number;
  /** Called after every committed batch. */
  onProgress?: (progress: DemoProgress) => void;
}

export interface DemoDataSummary {
  readonly options: ResolvedDemoOptions;
  readonly rows: Record<DemoTable, number>;
  readonly ms: number;
}

/**
 * Fills the five demo tables through a raw better-sqlite3 handle: prepared
 * statements, one transaction per batch, rows generated as they are written.
 * The tables must exist (the demo schema) and are appended to.
 */
export function writeDemoData(raw: Database.Database, options: WriteDemoDataOptions = {}): DemoDataSummary {
  const started = performance.now();
  const resolved = resolveDemoOptions(options);
  const batchSize = options.batchSize ?? 10_000;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new ArgumentError(`batchSize ${batchSize} is invalid: expected a whole number >= 1`);
  const world = new DemoWorld(resolved);
  const total = DEMO_TABLES.reduce((s, t) => s + world.counts[t], 0);
  let done = 0;
  for (const table of DEMO_TABLES) {
    const columns = DEMO_COLUMNS[table];
    const insert = raw.prepare(
      `INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
    );
    const insertBatch = raw.transaction((batch: unknown[][]) => {
      for (const values of batch) insert.run(values);
    });
    for (const batch of inBatches(rowsOf(world, table), batchSize)) {
      insertBatch(batch);
      done += batch.length;
      options.onProgress?.({ table, done, total });
    }
  }
  return { options: resolved, rows: { ...world.counts }, ms: performance.now() - started };
}
