/** A log line reduced to what the template miner should see, and its severity. */
export interface ParsedLogLine {
  /** The text to mine: the message, with the structured fields that name what happened. */
  content: string;
  level: LogLevel;
  /** Whether the line was structured (JSON): its content then repeats exactly, worth caching. */
  structured: boolean;
}

/** Severity, normalised from pino numbers, level words and Redis' level marks. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'unknown';

// Fields that vary per line (times, ids, hosts) or repeat the message: left out of the mined text
// so that one kind of event is one template.
const SKIP = new Set([
  'time',
  'timestamp',
  'ts',
  '@timestamp',
  'msg',
  'message',
  'level',
  'severity',
  'pid',
  'hostname',
  'host',
  'pod',
  'reqId',
  'requestId',
  'req_id',
  'traceId',
  'trace_id',
  'spanId',
  'span_id',
  'session',
  'sessionId',
  'stack',
  'v',
  'msec',
  'time_iso8601',
  'time_local',
]);

const PINO: Record<number, LogLevel> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

function levelOf(v: unknown): LogLevel {
  if (typeof v === 'number') return PINO[v] ?? 'unknown';
  if (typeof v !== 'string') return 'unknown';
  const s = v.toLowerCase();
  if (s.startsWith('warn')) return 'warn';
  if (s === 'err' || s.startsWith('error')) return 'error';
  if (s === 'fatal' || s === 'critical' || s === 'crit' || s === 'panic' || s === 'emerg' || s === 'alert')
    return 'fatal';
  if (s === 'info' || s === 'notice' || s === 'information') return 'info';
  if (s === 'debug' || s === 'verbose') return 'debug';
  if (s === 'trace') return 'trace';
  return 'unknown';
}

const TEXT_LEVEL = /\b(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|FATAL|CRITICAL|PANIC)\b/i;
// Redis: `1:M 01 Jan 2026 10:00:00.000 # message`: . debug, - verbose, * notice, # warning.
const REDIS = /^\d+:[MSCX] \d{1,2} \w{3} \d{4} [\d:.]+ ([.\-*#]) /;
const REDIS_LEVEL: Record<string, LogLevel> = { '.': 'debug', '-': 'debug', '*': 'info', '#': 'warn' };
// Nginx error log: `2026/01/01 10:00:00 [error] 12#12: ...`.
const NGINX_ERROR = /^\d{4}\/\d{2}\/\d{2} [\d:]+ \[(\w+)\] /;

// Fields of a structured line whose value names a kind of event rather than an instance of one.
const CATEGORICAL = new Set([
  'event',
  'type',
  'kind',
  'op',
  'role',
  'store',
  'code',
  'reason',
  'component',
  'method',
]);

/**
 * Parses one log line. A JSON object (pino, bunyan, nginx JSON access logs) becomes its message,
 * the values of its categorical fields (`event=missing`) and the names of its other fields
 * (`session=<*>`): in a structured line the message is the template and the fields are its
 * variables, so equal lines of one call site give equal text, which the caller may cache.
 * Plain text is kept whole, with its level recognised.
 */
export function parseLogLine(text: string): ParsedLogLine {
  if (text.charCodeAt(0) === 123 /* { */) {
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch {
      obj = undefined;
    }
    if (obj !== null && typeof obj === 'object' && !Array.isArray(obj)) {
      const rec = obj as Record<string, unknown>;
      const level = levelOf(rec['level'] ?? rec['severity']);
      const msg = rec['msg'] ?? rec['message'];
      let content = typeof msg === 'string' ? msg : '';
      for (const k in rec) {
        if (SKIP.has(k)) continue;
        const v = rec[k];
        if (CATEGORICAL.has(k) && typeof v === 'string' && v.length <= 48) {
          content += ` ${k}=${v.includes(' ') ? v.replace(/\s+/g, '_') : v}`;
        } else content += ` ${k}=<*>`;
      }
      return { content, level, structured: true };
    }
  }
  const redis = REDIS.exec(text);
  if (redis) {
    return {
      content: text.slice(redis[0].length),
      level: REDIS_LEVEL[redis[1] as string] ?? 'unknown',
      structured: false,
    };
  }
  const ng = NGINX_ERROR.exec(text);
  if (ng) return { content: text.slice(ng[0].length), level: levelOf(ng[1]), structured: false };
  const m = TEXT_LEVEL.exec(text.slice(0, 120));
  return { content: keepSourceLines(text), level: m ? levelOf(m[1]) : 'unknown', structured: false };
}

// A source location written by the logger (logback's `%C{1}#%L`: `t.s.TravelServiceImpl#451`)
// names the log statement, not a variable: the number masks would make every statement of a class
// one template, and a fault that swaps one statement for another (Nezha's code defects:
// VerifyCodeServiceImpl#132 replaced by #129) would not show.
const SOURCE_LINE = /\b([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)#(\d{1,5})\b/g;

/** The text with source locations rewritten so that the template miner keeps their line numbers. */
function keepSourceLines(text: string): string {
  return text.includes('#') ? text.replace(SOURCE_LINE, '$1@line$2') : text;
}

/** How much a template at this level weighs as a symptom: debug chatter barely, warnings fully. */
export function levelWeight(level: LogLevel): number {
  switch (level) {
    case 'trace':
    case 'debug':
      return 0.15;
    case 'info':
      return 0.6;
    case 'unknown':
      return 0.6;
    case 'warn':
    case 'error':
    case 'fatal':
      return 1;
  }
}
