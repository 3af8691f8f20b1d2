/**
 * The demo preset's retention, from its four variables (declared in ENV_VARS
 * with their defaults, so `.env.example` lists them): HOT_DAYS_TASK (task_queue),
 * HOT_DAYS_MESSAGES (messages), HOT_DAYS_LOG (rule_logs, audit_logs),
 * HOT_DAYS_SIGN (media_signatures). `HOT_DAYS_<TABLE>` still overrides any table.
 */
import { ENV_VARS, type TierConfig } from '../../config.js';

export interface WechatHotDays {
  readonly task: number;
  readonly messages: number;
  readonly log: number;
  readonly sign: number;
}

const days = (config: TierConfig, name: 'HOT_DAYS_TASK' | 'HOT_DAYS_MESSAGES' | 'HOT_DAYS_LOG' | 'HOT_DAYS_SIGN'): number =>
  config.tableHotDays[name] ?? Number(ENV_VARS[name].default);

export function wechatHotDays(config: TierConfig): WechatHotDays {
  return Object.freeze({
    task: days(config, 'HOT_DAYS_TASK'),
    messages: days(config, 'HOT_DAYS_MESSAGES'),
    log: days(config, 'HOT_DAYS_LOG'),
    sign: days(config, 'HOT_DAYS_SIGN'),
  });
}
