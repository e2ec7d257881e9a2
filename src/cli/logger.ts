import pino, { type DestinationStream, type Logger } from "pino";
import pretty from "pino-pretty";

export type { Logger };

/**
 * Any Bot API token, known or not: `<bot id>:<secret>`. Telegram puts it in
 * every API URL, so it turns up in error messages of HTTP clients.
 */
const TOKEN_SHAPE = /(?<!\d)\d{5,20}(?::|%3A)[A-Za-z0-9_-]{30,}/g;
/** Passwords inside URLs, e.g. redis://user:secret@host. */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/\s@"]*:)[^@\s"/]+@/gi;

/** Removes every secret from a line of text. Exported for other sinks (e.g. operator messages). */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join("[REDACTED]");
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret && out.includes(encoded)) out = out.split(encoded).join("[REDACTED]");
  }
  return out.replace(TOKEN_SHAPE, "[REDACTED]").replace(URL_PASSWORD, "$1[REDACTED]@");
}

export interface LoggerOptions {
  level?: string;
  /** Values that must never be written: bot token, Redis password, webhook secret. */
  secrets?: readonly string[];
  /** Where lines go; defaults to stdout, pretty-printed when stdout is a terminal. */
  destination?: { write(line: string): unknown };
  pretty?: boolean;
}

/**
 * pino, writing JSON lines (or pino-pretty on a terminal) through a filter that
 * scrubs secrets from the finished line. Filtering the serialised line, rather
 * than redacting known fields, also catches a token inside an error message or
 * a stack trace, wherever a library put it.
 */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const secrets = opts.secrets ?? [];
  const usePretty =
    opts.pretty ?? (opts.destination === undefined && process.stdout.isTTY === true);
  const sink: { write(line: string): unknown } = usePretty
    ? pretty({ colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" })
    : (opts.destination ?? process.stdout);
  const scrubbing: DestinationStream = {
    write(line: string) {
      sink.write(scrubSecrets(line, secrets));
    },
  };
  return pino({ level: opts.level ?? "info", base: { app: "warden" } }, scrubbing);
}
