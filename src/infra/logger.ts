/**
 * pino, JSON when stdout is not a terminal, readable lines when it is. Two layers keep secrets out:
 * path redaction for the fields we know, and a scrub of every known secret value (and anything that
 * looks like a bot token or bearer header) from the final line, because error texts carry secrets
 * in free text (a grammY HttpError has the bot token in its URL; an AxiosError has its headers).
 */
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

const REDACT_PATHS = [
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'access_token',
  '*.access_token',
  'apiSecret',
  '*.apiSecret',
  'api_secret',
  '*.api_secret',
  'botToken',
  '*.botToken',
  'headers.authorization',
  'headers.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
  'headers["access-token"]',
  '*.headers["access-token"]',
  'err.config',
  'err.request',
  'err.response',
];

/** Patterns that are secrets wherever they appear in a line. */
const SECRET_PATTERNS: RegExp[] = [
  /\bbot\d{5,}:[A-Za-z0-9_-]{20,}/g, // Telegram bot token inside a URL
  /\b\d{5,}:[A-Za-z0-9_-]{30,}\b/g, // bare Telegram bot token
  /(authorization["']?\s*[:=]\s*["']?token\s+)[^"'\s,}]+/gi, // Kite auth header
  /(access[-_]token["']?\s*[:=]\s*["']?)[^"'\s,}&]+/gi,
  /eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/g, // JWTs (Dhan tokens)
];

/** Remove secrets from free text: known values first, then anything shaped like one. */
export class SecretScrubber {
  private readonly values = new Set<string>();

  add(...secrets: (string | null | undefined)[]): void {
    for (const s of secrets) if (s && s.length >= 6) this.values.add(s);
  }

  scrub(text: string): string {
    let out = text;
    for (const v of this.values) if (out.includes(v)) out = out.split(v).join('[REDACTED]');
    for (const p of SECRET_PATTERNS) {
      out = out.replace(p, (m, prefix?: unknown) => (typeof prefix === 'string' ? `${prefix}[REDACTED]` : '[REDACTED]'));
    }
    return out;
  }
}

/** Process-wide scrubber: adapters add tokens they learn at run time (from /token, renewals). */
export const scrubber = new SecretScrubber();

export function createLogger(opts: { level: string; pretty?: boolean; destination?: NodeJS.WritableStream }): Logger {
  const options: pino.LoggerOptions = {
    level: opts.level,
    base: { service: 'tandem' },
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    hooks: { streamWrite: (s: string) => scrubber.scrub(s) },
  };
  const usePretty = opts.pretty ?? Boolean(process.stdout.isTTY);
  if (usePretty) {
    return pino(options, pretty({ colorize: Boolean(process.stdout.isTTY), sync: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,service', destination: opts.destination as never }));
  }
  return pino(options, opts.destination ?? pino.destination({ dest: 1, sync: false }));
}
