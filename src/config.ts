/**
 * Environment → typed, validated configuration. A `.env` file in the working directory is read
 * when present; the real environment wins. Any bad value throws a ConfigError whose message is one
 * line naming the variable and what it accepts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { DEFAULT_RULES, RULE_NAMES, RULE_SPECS, parseRule, type FollowerRules } from './domain/rules.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export type TradingMode = 'paper' | 'live';
export type LeaderBrokerKind = 'dhan' | 'kite' | 'sim';
export type FollowerBrokerKind = 'dhan' | 'kite' | 'paper';
export type SizingKind = 'ratio' | 'capital' | 'fixed_lots';

export interface Credentials {
  clientId?: string;
  accessToken?: string;
  apiKey?: string;
  apiSecret?: string;
}

export interface LeaderConfig {
  id: 'leader';
  broker: LeaderBrokerKind;
  credentials: Credentials;
}

export interface FollowerConfig {
  id: string;
  broker: FollowerBrokerKind;
  credentials: Credentials;
  sizing: SizingKind;
  /** Copy ratio (sizing `ratio`), or the multiplier on the capital ratio (sizing `capital`). */
  ratio: number;
  /** Lots per copy for sizing `fixed_lots`. */
  fixedLots: number;
  maxLots: number | null;
  maxOrderValue: number | null;
  ordersPerSecond: number;
  /** Per-follower rules from the environment (the chat may override them; see engine/follower-rules.ts). */
  rules: FollowerRules;
}

export interface Config {
  mode: TradingMode;
  databasePath: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  telegram: {
    botToken: string | null;
    apiRoot: string;
    adminIds: number[];
    viewerIds: number[];
  };
  leader: LeaderConfig;
  followers: FollowerConfig[];
  /** True when nothing was configured and the built-in demo runs. */
  demo: boolean;
  approval: { thresholdInr: number | null; lotsAbove: number | null; timeoutSeconds: number };
  /** Key sealing the stored tokens (64 hex or base64 of 32 bytes); null = the key file beside the database. */
  tokenEncryptionKey: string | null;
  /** Scheduled jobs, `HH:MM` IST. */
  jobs: { tokenCheckAt: string; nagUntil: string; dailySummaryAt: string };
  /** Entries are copied only from..until (IST `HH:MM`, either may be null); exits always. */
  entryWindow: { from: string | null; until: string | null };
  /** IST `HH:MM` on trading days when each follower's open intraday copies are closed; null = off. */
  squareOffAt: string | null;
  /** Extra market holidays (`YYYY-MM-DD`), on top of the shipped NSE list. */
  marketHolidays: string[];
  /** Pace of the simulated leader, ms between actions (0 = only when driven by tests). */
  simIntervalMs: number;
  /** Deadline of one broker REST call, ms. */
  brokerTimeoutMs: number;
  /** Waits before each look-up by tag of an order whose placement outcome is unknown, ms. */
  unknownOutcomeLookupsMs: number[];
  /** How long failed look-ups are retried before the copy is `unknown` and the owner decides, s. */
  unknownOutcomeGiveUpS: number;
  /** Period of the leader (and follower) order-book reconciliation, ms; 0 = only at start-up and on every (re)connect. */
  reconcileEveryMs: number;
  /** A leader stream with no frame for this long in market hours is replaced (then the book is read), s; 0 = off. */
  streamSilentAfterS: number;
  endpoints: {
    dhanApiUrl: string;
    dhanOrderWsUrl: string;
    dhanInstrumentsUrl: string;
    kiteApiUrl: string;
    kiteWsUrl: string;
    kiteLoginUrl: string;
  };
}

export const RATIO_MAX = 10;
export const FOLLOWER_ID_PATTERN = /^[a-z0-9_]+$/;
/**
 * Words tandem itself uses where a follower id goes: `leader` names the leader's account (its
 * position, token and account rows), `all` is every follower in /pause, /resume and /flatten.
 */
export const RESERVED_FOLLOWER_IDS: readonly string[] = ['leader', 'all'];

type Env = Record<string, string | undefined>;

/** Read `.env` from `dir` (if any) under the real environment: the real environment wins. */
export function loadEnv(dir: string, env: Env = process.env): Env {
  const file = resolve(dir, '.env');
  if (!existsSync(file)) return { ...env };
  const fromFile = parseEnv(readFileSync(file, 'utf8')) as Env;
  return { ...fromFile, ...env };
}

function fail(name: string, value: string | undefined, accepted: string): never {
  // JSON quoting keeps the message on one line whatever the value holds (newlines, quotes).
  const shown = value === undefined ? 'is missing' : `=${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)} is invalid`;
  throw new ConfigError(`${name} ${shown}: ${accepted}`);
}

/** Parse one variable with a zod schema; an empty string counts as unset. */
function read<T>(env: Env, name: string, schema: z.ZodType<T>, accepted: string, fallback?: T): T {
  const raw = env[name];
  const value = raw === undefined || raw.trim() === '' ? undefined : raw.trim();
  if (value === undefined) {
    if (fallback !== undefined) return fallback;
    return fail(name, undefined, accepted);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) return fail(name, value, accepted);
  return parsed.data;
}

function optional<T>(env: Env, name: string, schema: z.ZodType<T>, accepted: string): T | null {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return null;
  return read(env, name, schema, accepted);
}

const positiveNumber = z.coerce.number().finite().positive();
const url = z.string().regex(/^(https?|wss?):\/\/[^\s]+$/).transform((s) => s.replace(/\/+$/, ''));
const idList = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^\d{1,15}$/).transform(Number)));

function credentials(env: Env, prefix: string): Credentials {
  const get = (k: string) => {
    const v = env[`${prefix}${k}`]?.trim();
    return v ? v : undefined;
  };
  return { clientId: get('CLIENT_ID'), accessToken: get('ACCESS_TOKEN'), apiKey: get('API_KEY'), apiSecret: get('API_SECRET') };
}

/** Names of the credentials a broker needs to connect, for the "missing credential" error. */
function requiredCredentials(broker: string): (keyof Credentials)[] {
  if (broker === 'dhan') return ['clientId', 'accessToken'];
  if (broker === 'kite') return ['apiKey', 'apiSecret'];
  return [];
}

const CRED_ENV: Record<keyof Credentials, string> = {
  clientId: 'CLIENT_ID',
  accessToken: 'ACCESS_TOKEN',
  apiKey: 'API_KEY',
  apiSecret: 'API_SECRET',
};

function requireCredentials(prefix: string, broker: string, creds: Credentials, why: string): void {
  for (const key of requiredCredentials(broker)) {
    if (!creds[key]) fail(`${prefix}${CRED_ENV[key]}`, undefined, `required for a ${broker} account ${why}`);
  }
}

export function parseConfig(env: Env): Config {
  const mode = read(env, 'TRADING_MODE', z.enum(['paper', 'live']), 'one of paper, live', 'paper');
  const logLevel = read(
    env,
    'LOG_LEVEL',
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    'one of fatal, error, warn, info, debug, trace, silent',
    'info',
  );
  const databasePath = read(env, 'DATABASE_PATH', z.string().min(1), 'a file path', './data/tandem.db');

  const botToken = optional(env, 'TELEGRAM_BOT_TOKEN', z.string().regex(/^\d+:[A-Za-z0-9_-]{10,}$/), 'a bot token from @BotFather, like 123456:ABC-DEF…');
  const apiRoot = read(env, 'TELEGRAM_API_ROOT', url, 'an http(s) URL without a trailing path, like https://api.telegram.org', 'https://api.telegram.org');
  const adminIds = read(env, 'TELEGRAM_ADMIN_IDS', idList, 'a comma list of numeric Telegram user ids', []);
  const viewerIds = read(env, 'TELEGRAM_VIEWER_IDS', idList, 'a comma list of numeric Telegram user ids', []);
  if (botToken && adminIds.length === 0) {
    fail('TELEGRAM_ADMIN_IDS', undefined, 'at least one admin user id is required when TELEGRAM_BOT_TOKEN is set (send /whoami to the bot to learn yours)');
  }

  const leaderSet = env.LEADER_BROKER !== undefined && env.LEADER_BROKER.trim() !== '';
  const leaderBroker = read(env, 'LEADER_BROKER', z.enum(['dhan', 'kite', 'sim']), 'one of dhan, kite, sim', 'sim');
  if (mode === 'live' && !leaderSet) fail('LEADER_BROKER', undefined, 'live mode needs dhan or kite');
  if (mode === 'live' && leaderBroker === 'sim') fail('LEADER_BROKER', 'sim', 'live mode needs dhan or kite (sim is for paper mode)');
  const leaderCreds = credentials(env, 'LEADER_');
  requireCredentials('LEADER_', leaderBroker, leaderCreds, 'to watch the leader');

  const followerIds = read(
    env,
    'FOLLOWERS',
    z
      .string()
      .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
      .pipe(z.array(z.string().regex(FOLLOWER_ID_PATTERN)).min(1)),
    'a comma list of follower ids made of a-z, 0-9 and _',
    [],
  );
  if (new Set(followerIds).size !== followerIds.length) fail('FOLLOWERS', env.FOLLOWERS, 'follower ids must be unique');
  const reserved = followerIds.find((id) => RESERVED_FOLLOWER_IDS.includes(id));
  if (reserved) fail('FOLLOWERS', env.FOLLOWERS, `"${reserved}" is reserved (${RESERVED_FOLLOWER_IDS.join(', ')} mean something else to tandem): pick another follower id`);
  if (mode === 'live' && followerIds.length === 0) fail('FOLLOWERS', undefined, 'live mode needs at least one follower');

  const demo = mode === 'paper' && !leaderSet && followerIds.length === 0;
  const followers: FollowerConfig[] = (demo ? ['demo'] : followerIds).map((id) => {
    const p = `FOLLOWER_${id.toUpperCase()}_`;
    const broker = demo ? 'paper' : read(env, `${p}BROKER`, z.enum(['dhan', 'kite', 'paper']), 'one of dhan, kite, paper');
    const creds = credentials(env, p);
    if (mode === 'live') requireCredentials(p, broker, creds, 'in live mode');
    return {
      id,
      broker,
      credentials: creds,
      sizing: read(env, `${p}SIZING`, z.enum(['ratio', 'capital', 'fixed_lots']), 'one of ratio, capital, fixed_lots', 'ratio'),
      ratio: read(env, `${p}RATIO`, positiveNumber.max(RATIO_MAX), `a number greater than 0 and at most ${RATIO_MAX}`, 1),
      fixedLots: read(env, `${p}FIXED_LOTS`, z.coerce.number().int().positive(), 'a whole number of lots ≥ 1', 1),
      maxLots: optional(env, `${p}MAX_LOTS`, z.coerce.number().int().positive(), 'a whole number of lots ≥ 1'),
      maxOrderValue: optional(env, `${p}MAX_ORDER_VALUE`, positiveNumber, 'a rupee amount greater than 0'),
      ordersPerSecond: read(env, `${p}ORDERS_PER_SECOND`, positiveNumber.max(100), 'a number of orders per second, greater than 0 and at most 100', 10),
      rules: followerRules(env, p),
    };
  });

  const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/);
  const jobs = {
    tokenCheckAt: read(env, 'TOKEN_CHECK_AT', hhmm, 'a time of day HH:MM (IST, 24-hour), like 08:00', '08:00'),
    nagUntil: read(env, 'NAG_UNTIL', hhmm, 'a time of day HH:MM (IST, 24-hour), like 15:30', '15:30'),
    dailySummaryAt: read(env, 'DAILY_SUMMARY_AT', hhmm, 'a time of day HH:MM (IST, 24-hour), like 15:45', '15:45'),
  };
  if (jobs.nagUntil <= jobs.tokenCheckAt) fail('NAG_UNTIL', jobs.nagUntil, `a time of day HH:MM later than TOKEN_CHECK_AT (${jobs.tokenCheckAt})`);
  const hhmmAccepted = (example: string) => `a time of day HH:MM (IST, 24-hour), like ${example}`;
  const entryWindow = {
    from: optional(env, 'COPY_ENTRIES_FROM', hhmm, hhmmAccepted('09:20')),
    until: optional(env, 'COPY_ENTRIES_UNTIL', hhmm, hhmmAccepted('15:00')),
  };
  if (entryWindow.from && entryWindow.until && entryWindow.until <= entryWindow.from) fail('COPY_ENTRIES_UNTIL', entryWindow.until, `${hhmmAccepted('15:00')}, later than COPY_ENTRIES_FROM (${entryWindow.from})`);
  const squareOffAt = optional(env, 'SQUARE_OFF_AT', hhmm, hhmmAccepted('15:10'));
  const marketHolidays = read(
    env,
    'MARKET_HOLIDAYS',
    z
      .string()
      .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
      .pipe(z.array(z.string().regex(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/))),
    'a comma list of dates YYYY-MM-DD, like 2026-12-25,2027-01-26',
    [],
  );
  const tokenEncryptionKey = optional(
    env,
    'TOKEN_ENCRYPTION_KEY',
    z.string().refine((k) => /^[0-9a-fA-F]{64}$/.test(k) || (/^[A-Za-z0-9+/_-]{43}=?$/.test(k) && Buffer.from(k.replace(/-/g, '+').replace(/_/g, '/'), 'base64').length === 32)),
    '64 hex characters, or base64 of 32 bytes (e.g. the output of: openssl rand -hex 32)',
  );

  return {
    mode,
    databasePath,
    tokenEncryptionKey,
    jobs,
    entryWindow,
    squareOffAt,
    marketHolidays,
    logLevel,
    telegram: { botToken, apiRoot, adminIds, viewerIds },
    leader: { id: 'leader', broker: leaderBroker, credentials: leaderCreds },
    followers,
    demo,
    approval: {
      thresholdInr: optional(env, 'APPROVAL_THRESHOLD_INR', positiveNumber, 'a rupee amount greater than 0'),
      lotsAbove: optional(env, 'APPROVAL_LOTS_ABOVE', z.coerce.number().int().positive(), 'a whole number of lots ≥ 1'),
      timeoutSeconds: read(env, 'APPROVAL_TIMEOUT_SECONDS', z.coerce.number().int().min(1).max(3600), 'a whole number of seconds from 1 to 3600', 60),
    },
    brokerTimeoutMs: read(env, 'BROKER_TIMEOUT_MS', z.coerce.number().int().min(100).max(60_000), 'a whole number of milliseconds from 100 to 60000', 5000),
    unknownOutcomeLookupsMs: read(
      env,
      'UNKNOWN_OUTCOME_LOOKUPS_MS',
      z
        .string()
        .transform((s) => s.split(',').map((x) => Number(x.trim())))
        .pipe(z.array(z.number().int().min(0).max(60_000)).min(1).max(10)),
      'a comma list of 1 to 10 waits in milliseconds, like 300,1000,2500',
      [300, 1000, 2500],
    ),
    unknownOutcomeGiveUpS: read(env, 'UNKNOWN_OUTCOME_GIVE_UP_S', z.coerce.number().int().min(1).max(3600), 'a whole number of seconds from 1 to 3600', 300),
    reconcileEveryMs: read(env, 'RECONCILE_EVERY_MS', z.coerce.number().int().min(0), 'a whole number of milliseconds ≥ 0 (0 = only at start-up and on reconnect)', 30_000),
    streamSilentAfterS: read(env, 'STREAM_SILENT_AFTER_S', z.coerce.number().int().min(0).max(3600), 'a whole number of seconds from 0 to 3600 (0 = off)', 60),
    simIntervalMs: read(env, 'SIM_INTERVAL_MS', z.coerce.number().int().min(0), 'a whole number of milliseconds ≥ 0 (0 = the simulated leader stays idle)', 3000),
    endpoints: {
      dhanApiUrl: read(env, 'DHAN_API_URL', url, 'an http(s) URL', 'https://api.dhan.co/v2'),
      dhanOrderWsUrl: read(env, 'DHAN_ORDER_WS_URL', url, 'a ws(s) URL', 'wss://api-order-update.dhan.co'),
      dhanInstrumentsUrl: read(env, 'DHAN_INSTRUMENTS_URL', url, 'an http(s) URL', 'https://images.dhan.co/api-data/api-scrip-master.csv'),
      kiteApiUrl: read(env, 'KITE_API_URL', url, 'an http(s) URL', 'https://api.kite.trade'),
      kiteWsUrl: read(env, 'KITE_WS_URL', url, 'a ws(s) URL', 'wss://ws.kite.trade'),
      kiteLoginUrl: read(env, 'KITE_LOGIN_URL', url, 'an http(s) URL', 'https://kite.zerodha.com/connect/login'),
    },
  };
}

/** A follower's rules from `FOLLOWER_<ID>_<RULE>`; unset ones take the defaults. */
function followerRules(env: Env, prefix: string): FollowerRules {
  const rules: Record<string, unknown> = { ...DEFAULT_RULES };
  for (const name of RULE_NAMES) {
    const key = `${prefix}${RULE_SPECS[name].env}`;
    const raw = env[key]?.trim();
    if (!raw) continue;
    const r = parseRule(name, raw);
    if (!r.ok) fail(key, raw, r.accepted);
    rules[name] = r.value;
  }
  return rules as unknown as FollowerRules;
}

/** Every secret value in the configuration, for the log scrubber. */
export function configSecrets(cfg: Config): string[] {
  const out: string[] = [];
  if (cfg.telegram.botToken) out.push(cfg.telegram.botToken);
  if (cfg.tokenEncryptionKey) out.push(cfg.tokenEncryptionKey);
  for (const c of [cfg.leader.credentials, ...cfg.followers.map((f) => f.credentials)]) {
    if (c.accessToken) out.push(c.accessToken);
    if (c.apiSecret) out.push(c.apiSecret);
  }
  return out;
}

/**
 * What the brokers' static-IP rules (SEBI retail-algo framework, from April 2026) say of this set-up.
 * Orders are placed, modified and cancelled only from an account's registered IP, and tandem sends
 * every live follower's orders from this machine. Dhan lets no two users use one IP at the same time;
 * Zerodha lets family accounts (spouse, dependent children and parents) share one, by declaration.
 * Reads (the leader's stream and book) need no registered IP. One note per concern, none in paper
 * mode; `alert` for what the broker will refuse (the owner is told in the chat), not for a reminder.
 */
export function staticIpNotes(cfg: Pick<Config, 'mode' | 'followers'>): { alert: boolean; text: string }[] {
  if (cfg.mode !== 'live') return [];
  const of = (broker: FollowerBrokerKind) => cfg.followers.filter((f) => f.broker === broker).map((f) => f.id);
  const notes: { alert: boolean; text: string }[] = [];
  const dhan = of('dhan');
  if (dhan.length > 1) {
    notes.push({
      alert: true,
      text:
        `live Dhan followers ${dhan.join(', ')} would all place orders from this machine's IP, and Dhan allows one user per static IP: ` +
        'run each Dhan follower on a machine with its own registered IP (README: Where a live follower must run)',
    });
  }
  const kite = of('kite');
  if (kite.length > 1) {
    notes.push({
      alert: false,
      text:
        `live Kite followers ${kite.join(', ')} share this machine's IP: Zerodha allows that only for family accounts ` +
        '(spouse, dependent children and parents), and sharing it declares that they are (README: Where a live follower must run)',
    });
  }
  return notes;
}
