import type { LogLevel } from "../config.ts";

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

// Field names whose values are never written, whatever a caller passes in.
const SECRET_FIELD = /key|token|secret|password|authorization|cookie|signature/i;

function scrub(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = SECRET_FIELD.test(k) ? "[redacted]" : v;
  return out;
}

/**
 * Structured JSON logs, one object per line, to stderr (stdout stays free for protocol traffic wherever the
 * app is embedded). Field names that look like secrets are redacted at the sink, as a last line of defence.
 */
export function createLogger(level: LogLevel, write: (line: string) => void = (l) => console.error(l)): Logger {
  const min = ORDER[level];
  const emit =
    (lvl: Exclude<LogLevel, "silent">) =>
    (msg: string, fields: Record<string, unknown> = {}) => {
      if (ORDER[lvl] < min) return;
      write(JSON.stringify({ ts: new Date().toISOString(), level: lvl, msg, ...scrub(fields) }));
    };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}
