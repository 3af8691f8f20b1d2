/**
 * Word lists for the demo data: WeChat-like chat text in Chinese and English,
 * nicknames, task and rule names. Only the generator reads them.
 */

export const CHINESE_PHRASES = [
  '好的，收到',
  '今天下午三点开会吗？',
  '哈哈哈哈',
  '晚上一起吃饭吧',
  '我到楼下了',
  '这个报价能再便宜点吗',
  '发票已经开好了，明天寄出',
  '周末有空吗',
  '文件我发你邮箱了',
  '刚才信号不好，再说一遍？',
  '辛苦了🙏',
  '明天上午十点，老地方见',
  '这个需求下周能上线吗',
  '收到，马上处理',
  '请大家按时提交周报',
  '群里的链接打不开',
  '谢谢老板',
  '已转账，请查收',
  '我看一下再回复你',
  '新年快乐！',
  '这个bug复现不了',
  '服务器又挂了',
  '快递到了吗',
  '图片太模糊了，重新拍一张',
  '下班了吗',
  '好久不见，最近怎么样',
  '会议纪要已上传共享盘',
  '价格没问题，先下单吧',
  '麻烦帮忙转发一下',
  '我在地铁上，晚点回你',
] as const;

export const ENGLISH_PHRASES = [
  'ok',
  'sounds good',
  'see you tomorrow',
  'Did you push the fix?',
  'thanks!',
  'LGTM',
  'can you share the slides',
  'running 5 min late',
  'the build is green again',
  'lol',
  'meeting moved to 4pm',
  'please check the invoice',
  'on my way',
  'happy birthday 🎉',
  'which version are you on?',
  'call me when free',
  'the API returns 502 again',
  'got it, will do',
  'any update on the order?',
  'good morning',
] as const;

export const WECHAT_EMOJI = ['[微笑]', '[捂脸]', '[强]', '[OK]', '[抱拳]', '[破涕为笑]', '[旺柴]', '[玫瑰]', '[耶]', '[裂开]'] as const;

export const NICKNAMES = [
  '张伟', '王芳', '李娜', '刘洋', '陈静', '杨磊', '赵敏', '黄强', '周杰', '吴婷',
  'Alice', 'Bob', 'Kevin', 'Lily', 'Tony', 'Cherry', 'Jason', 'Momo', '老王', '小李',
  '阿杰', '大白', 'Eric Chen', 'Vivian', '客服小美', '财务-刘', '运营-Amy', '技术-老周',
] as const;

export const CHATROOM_TOPICS = [
  '产品讨论群', '周末羽毛球', '家族群', '客户对接-华东', '技术交流', '2019级校友', '团购接龙', '值班群',
  'Project Phoenix', 'Shanghai Expats', '宝妈互助群', '跑步打卡', '前端小分队', '售后服务群',
] as const;

export const APP_TITLES = [
  ['一文读懂 SQLite WAL 模式', 'mp.weixin.qq.com/s'],
  ['2025 年度报告.pdf', 'file'],
  ['Parquet 与列式存储入门', 'mp.weixin.qq.com/s'],
  ['Q3 sales review.xlsx', 'file'],
  ['拼多多：帮我砍一刀', 'mobile.yangkeduo.com'],
  ['DuckDB 1.x release notes', 'duckdb.org'],
  ['小程序：美团外卖', 'weapp'],
  ['Meeting notes 11-04.docx', 'file'],
  ['周末去哪儿玩｜上海 10 个小众公园', 'mp.weixin.qq.com/s'],
] as const;

export const TASK_TYPES = [
  ['send_reply', 30],
  ['download_media', 22],
  ['ocr_image', 10],
  ['forward_message', 12],
  ['sync_contacts', 4],
  ['webhook', 14],
  ['summarize_chat', 8],
] as const;

export const TASK_ERRORS = [
  'ETIMEDOUT connect 10.0.3.17:443',
  'HTTP 502 Bad Gateway',
  '媒体下载失败: CDN 返回 404',
  'rate limited: retry after 60s',
  'ECONNRESET socket hang up',
  'OCR engine returned empty result',
  '消息已撤回，无法转发',
] as const;

export const RULE_NAMES = [
  'keyword:报价',
  'keyword:发票',
  'keyword:refund',
  'spam-filter',
  'ad-link-detector',
  'auto-reply:hello',
  'auto-reply:营业时间',
  'forward:boss-mentions',
  'mute:night-hours',
  'tag:vip-customer',
  'sensitive-words',
  'image-dedupe',
] as const;

export const RULE_ACTIONS = ['reply', 'forward', 'tag', 'mute', 'notify', 'delete'] as const;

export const AUDIT_ACTORS = ['admin', 'ops_li', 'ops_wang', 'system', 'cron', 'api:crm-sync'] as const;

export const AUDIT_ACTIONS = [
  ['login', 20],
  ['logout', 8],
  ['update_rule', 14],
  ['create_rule', 5],
  ['delete_message', 6],
  ['export_chat', 4],
  ['config_change', 5],
  ['add_contact', 10],
  ['kick_member', 3],
  ['archive_run', 10],
] as const;

export const DEVICES = ['iPhone', 'Android', 'Windows', 'Mac', 'iPad'] as const;
