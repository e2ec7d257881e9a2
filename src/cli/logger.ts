import { createWriteStream, mkdirSync } from "node:fs";
import { dirname } from "node:path";
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

/** A log written to a file, e.g. a rehearsal's, with a count of what it holds. */
export interface LogFile {
  logger: Logger;
  path: string;
  /** Lines written so far, and how many of them are warnings and errors (or worse). */
  counts(): { lines: number; warnings: number; errors: number };
  /** Ends the file; lines logged afterwards are dropped. */
  close(): Promise<void>;
}

/** JSON lines into `path` (appended; its folder made), through the same secret filter. */
export function createFileLogger(
  path: string,
  opts: { level?: string; secrets?: readonly string[] } = {},
): LogFile {
  mkdirSync(dirname(path), { recursive: true });
  const file = createWriteStream(path, { flags: "a" });
  const counts = { lines: 0, warnings: 0, errors: 0 };
  let closed = false;
  const logger = createLogger({
    ...(opts.level ? { level: opts.level } : {}),
    secrets: opts.secrets ?? [],
    pretty: false,
    destination: {
      write(line: string) {
        if (closed) return;
        counts.lines++;
        const level = Number(/"level":(\d+)/.exec(line)?.[1] ?? 0);
        if (level >= 50) counts.errors++;
        else if (level >= 40) counts.warnings++;
        file.write(line);
      },
    },
  });
  return {
    logger,
    path,
    counts: () => ({ ...counts }),
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise((resolve) => file.end(resolve));
    },
  };
}
