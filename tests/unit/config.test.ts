import { DEFAULT_RULES } from '../../src/domain/rules.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, configSecrets, loadEnv, parseConfig, RATIO_MAX, staticIpNotes } from '../../src/config.js';

type Env = Record<string, string | undefined>;

/** parseConfig must throw a ConfigError; returns its message. */
function errorOf(env: Env): string {
  let caught: unknown;
  try {
    parseConfig(env);
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected parseConfig to throw').toBeInstanceOf(ConfigError);
  const err = caught as ConfigError;
  expect(err.name).toBe('ConfigError');
  expect(err).toBeInstanceOf(Error);
  return err.message;
}

const BOT_TOKEN = '123456789:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-ra';

/** A valid live configuration to vary one variable at a time. */
const LIVE: Env = {
  TRADING_MODE: 'live',
  LEADER_BROKER: 'dhan',
  LEADER_CLIENT_ID: '1000000001',
  LEADER_ACCESS_TOKEN: 'eyJleader.token.value',
  FOLLOWERS: 'alice,bob',
  FOLLOWER_ALICE_BROKER: 'kite',
  FOLLOWER_ALICE_API_KEY: 'kiteapikey1',
  FOLLOWER_ALICE_API_SECRET: 'kiteapisecret1',
  FOLLOWER_BOB_BROKER: 'dhan',
  FOLLOWER_BOB_CLIENT_ID: '1000000002',
  FOLLOWER_BOB_ACCESS_TOKEN: 'eyJbob.token.value',
};

/** A paper configuration with one named paper follower, to test per-follower variables. */
const PAPER_A: Env = { FOLLOWERS: 'a', FOLLOWER_A_BROKER: 'paper' };

describe('parseConfig: defaults and the demo', () => {
  it('paper mode with nothing configured runs the demo: leader sim, one paper follower "demo"', () => {
    const cfg = parseConfig({});
    expect(cfg.mode).toBe('paper');
    expect(cfg.demo).toBe(true);
    expect(cfg.leader).toEqual({ id: 'leader', broker: 'sim', credentials: { clientId: undefined, accessToken: undefined, apiKey: undefined, apiSecret: undefined } });
    expect(cfg.followers).toHaveLength(1);
    expect(cfg.followers[0]).toMatchObject({ id: 'demo', broker: 'paper', sizing: 'ratio', ratio: 1, fixedLots: 1, maxLots: null, maxOrderValue: null, ordersPerSecond: 10 });
  });

  it('fills every default', () => {
    const cfg = parseConfig({});
    expect(cfg.logLevel).toBe('info');
    expect(cfg.databasePath).toBe('./data/tandem.db');
    expect(cfg.telegram).toEqual({ botToken: null, apiRoot: 'https://api.telegram.org', adminIds: [], viewerIds: [] });
    expect(cfg.approval).toEqual({ thresholdInr: null, lotsAbove: null, timeoutSeconds: 60 });
    expect(cfg.simIntervalMs).toBe(3000);
    expect(cfg.reconcileEveryMs).toBe(30_000);
    expect(cfg.endpoints).toEqual({
      dhanApiUrl: 'https://api.dhan.co/v2',
      dhanOrderWsUrl: 'wss://api-order-update.dhan.co',
      dhanInstrumentsUrl: 'https://images.dhan.co/api-data/api-scrip-master.csv',
      kiteApiUrl: 'https://api.kite.trade',
      kiteWsUrl: 'wss://ws.kite.trade',
      kiteLoginUrl: 'https://kite.zerodha.com/connect/login',
    });
  });

  it.each<{ name: string; env: Env }>([
    { name: 'explicit TRADING_MODE=paper', env: { TRADING_MODE: 'paper' } },
    { name: 'empty strings count as unset', env: { TRADING_MODE: '', LEADER_BROKER: '', FOLLOWERS: '', LOG_LEVEL: '  ' } },
  ])('demo also when $name', ({ env }) => {
    const cfg = parseConfig(env);
    expect(cfg.demo).toBe(true);
    expect(cfg.leader.broker).toBe('sim');
    expect(cfg.followers.map((f) => [f.id, f.broker])).toEqual([['demo', 'paper']]);
  });

  it.each<{ name: string; env: Env; leader: string; followers: string[] }>([
    { name: 'paper followers with the default sim leader', env: PAPER_A, leader: 'sim', followers: ['a'] },
    { name: 'a real leader watched in paper mode', env: { LEADER_BROKER: 'kite', LEADER_API_KEY: 'k', LEADER_API_SECRET: 'secretsecret', ...PAPER_A }, leader: 'kite', followers: ['a'] },
    { name: 'an explicit sim leader and no followers', env: { LEADER_BROKER: 'sim' }, leader: 'sim', followers: [] },
  ])('no demo for $name', ({ env, leader, followers }) => {
    const cfg = parseConfig(env);
    expect(cfg.demo).toBe(false);
    expect(cfg.leader.broker).toBe(leader);
    expect(cfg.followers.map((f) => f.id)).toEqual(followers);
  });

  it('paper followers on a real broker need no credentials', () => {
    const cfg = parseConfig({ FOLLOWERS: 'a', FOLLOWER_A_BROKER: 'dhan' });
    expect(cfg.followers[0]?.broker).toBe('dhan');
  });
});

describe('parseConfig: a full live configuration', () => {
  it('parses', () => {
    const cfg = parseConfig({
      ...LIVE,
      LOG_LEVEL: 'debug',
      DATABASE_PATH: '/var/lib/tandem/t.db',
      TELEGRAM_BOT_TOKEN: BOT_TOKEN,
      TELEGRAM_ADMIN_IDS: ' 111, 222 ,',
      TELEGRAM_VIEWER_IDS: '333',
      TELEGRAM_API_ROOT: 'http://127.0.0.1:8081/',
      FOLLOWER_ALICE_SIZING: 'capital',
      FOLLOWER_ALICE_RATIO: '0.5',
      FOLLOWER_ALICE_MAX_LOTS: '4',
      FOLLOWER_ALICE_MAX_ORDER_VALUE: '250000.50',
      FOLLOWER_ALICE_ORDERS_PER_SECOND: '2.5',
      FOLLOWER_BOB_SIZING: 'fixed_lots',
      FOLLOWER_BOB_FIXED_LOTS: '3',
      APPROVAL_THRESHOLD_INR: '100000',
      APPROVAL_LOTS_ABOVE: '20',
      APPROVAL_TIMEOUT_SECONDS: '90',
      SIM_INTERVAL_MS: '0',
      RECONCILE_EVERY_MS: '0',
      DHAN_API_URL: 'https://sandbox.dhan.co/v2///',
      KITE_WS_URL: 'ws://localhost:9000',
    });
    expect(cfg.mode).toBe('live');
    expect(cfg.demo).toBe(false);
    expect(cfg.logLevel).toBe('debug');
    expect(cfg.databasePath).toBe('/var/lib/tandem/t.db');
    expect(cfg.telegram).toEqual({ botToken: BOT_TOKEN, apiRoot: 'http://127.0.0.1:8081', adminIds: [111, 222], viewerIds: [333] });
    expect(cfg.leader).toEqual({ id: 'leader', broker: 'dhan', credentials: { clientId: '1000000001', accessToken: 'eyJleader.token.value', apiKey: undefined, apiSecret: undefined } });
    expect(cfg.followers).toEqual([
      {
        id: 'alice',
        broker: 'kite',
        credentials: { clientId: undefined, accessToken: undefined, apiKey: 'kiteapikey1', apiSecret: 'kiteapisecret1' },
        sizing: 'capital',
        ratio: 0.5,
        fixedLots: 1,
        maxLots: 4,
        maxOrderValue: 250000.5,
        ordersPerSecond: 2.5,
        rules: DEFAULT_RULES,
      },
      {
        id: 'bob',
        broker: 'dhan',
        credentials: { clientId: '1000000002', accessToken: 'eyJbob.token.value', apiKey: undefined, apiSecret: undefined },
        sizing: 'fixed_lots',
        ratio: 1,
        fixedLots: 3,
        maxLots: null,
        maxOrderValue: null,
        ordersPerSecond: 10,
        rules: DEFAULT_RULES,
      },
    ]);
    expect(cfg.approval).toEqual({ thresholdInr: 100000, lotsAbove: 20, timeoutSeconds: 90 });
    expect(cfg.simIntervalMs).toBe(0);
    expect(cfg.reconcileEveryMs).toBe(0);
    expect(cfg.endpoints.dhanApiUrl).toBe('https://sandbox.dhan.co/v2');
    expect(cfg.endpoints.kiteWsUrl).toBe('ws://localhost:9000');
  });

  it('reads per-follower rules and the day rules', () => {
    const cfg = parseConfig({
      ...PAPER_A,
      FOLLOWER_A_SEGMENTS: 'NFO, bfo',
      FOLLOWER_A_SYMBOLS: 'nifty,BANKNIFTY',
      FOLLOWER_A_EXCLUDE_SYMBOLS: 'M&M',
      FOLLOWER_A_PRODUCT: 'Delivery',
      FOLLOWER_A_MAX_OPEN_POSITIONS: '3',
      FOLLOWER_A_MAX_DAILY_LOSS_INR: '₹25,000',
      FOLLOWER_A_ON_MAX_LOSS: 'flatten',
      FOLLOWER_A_UNFILLED_AFTER_S: '30',
      FOLLOWER_A_UNFILLED: 'chase',
      COPY_ENTRIES_FROM: '09:20',
      COPY_ENTRIES_UNTIL: '15:00',
      SQUARE_OFF_AT: '15:10',
      MARKET_HOLIDAYS: '2026-12-31, 2027-01-01',
    });
    expect(cfg.followers[0]?.rules).toEqual({
      segments: ['NFO', 'BFO'],
      symbols: ['NIFTY', 'BANKNIFTY'],
      excludeSymbols: ['M&M'],
      product: 'delivery',
      maxOpenPositions: 3,
      maxDailyLossInr: 25000,
      onMaxLoss: 'flatten',
      unfilledAfterS: 30,
      unfilled: 'chase',
    });
    expect(cfg.entryWindow).toEqual({ from: '09:20', until: '15:00' });
    expect(cfg.squareOffAt).toBe('15:10');
    expect(cfg.marketHolidays).toEqual(['2026-12-31', '2027-01-01']);
  });

  it.each([
    ['FOLLOWER_A_SEGMENTS', 'NSE,NFO', 'FOLLOWER_A_SEGMENTS ="NSE,NFO" is invalid: a comma list of NSE_EQ, BSE_EQ, NFO, BFO, MCX, CDS (or all)'],
    ['FOLLOWER_A_PRODUCT', 'MIS', 'FOLLOWER_A_PRODUCT ="MIS" is invalid: one of same, intraday, carry, delivery'],
    ['FOLLOWER_A_MAX_DAILY_LOSS_INR', '-5', 'FOLLOWER_A_MAX_DAILY_LOSS_INR ="-5" is invalid: a rupee amount greater than 0 (or none)'],
    ['FOLLOWER_A_UNFILLED', 'wait', 'FOLLOWER_A_UNFILLED ="wait" is invalid: one of keep, cancel, chase'],
    ['COPY_ENTRIES_UNTIL', '9:00', 'COPY_ENTRIES_UNTIL ="9:00" is invalid: a time of day HH:MM (IST, 24-hour), like 15:00'],
    ['MARKET_HOLIDAYS', '2026-13-01', 'MARKET_HOLIDAYS ="2026-13-01" is invalid: a comma list of dates YYYY-MM-DD, like 2026-12-25,2027-01-26'],
  ])('a bad %s stops start-up with one line naming it', (name, value, message) => {
    expect(() => parseConfig({ ...PAPER_A, [name]: value })).toThrow(message);
  });

  it('trims values', () => {
    const cfg = parseConfig({ ...LIVE, TRADING_MODE: ' live ', LEADER_BROKER: ' dhan\t', FOLLOWER_ALICE_RATIO: ' 2 ' });
    expect(cfg.mode).toBe('live');
    expect(cfg.leader.broker).toBe('dhan');
    expect(cfg.followers[0]?.ratio).toBe(2);
  });

  it('accepts the ratio bounds', () => {
    expect(parseConfig({ ...PAPER_A, FOLLOWER_A_RATIO: String(RATIO_MAX) }).followers[0]?.ratio).toBe(RATIO_MAX);
    expect(parseConfig({ ...PAPER_A, FOLLOWER_A_RATIO: '0.01' }).followers[0]?.ratio).toBe(0.01);
  });

  it('configSecrets lists the bot token, access tokens and API secrets, not ids or keys', () => {
    const cfg = parseConfig({ ...LIVE, TELEGRAM_BOT_TOKEN: BOT_TOKEN, TELEGRAM_ADMIN_IDS: '1' });
    const secrets = configSecrets(cfg);
    expect(secrets.sort()).toEqual([BOT_TOKEN, 'eyJbob.token.value', 'eyJleader.token.value', 'kiteapisecret1'].sort());
  });
});

describe('parseConfig: every bad value is one line naming the variable and what it accepts', () => {
  it.each<{ env: Env; variable: string; accepts: RegExp }>([
    { env: { TRADING_MODE: 'real' }, variable: 'TRADING_MODE', accepts: /paper, live/ },
    { env: { LOG_LEVEL: 'loud' }, variable: 'LOG_LEVEL', accepts: /fatal, error, warn, info, debug, trace, silent/ },
    { env: { TELEGRAM_BOT_TOKEN: 'not-a-token' }, variable: 'TELEGRAM_BOT_TOKEN', accepts: /bot token/ },
    { env: { TELEGRAM_BOT_TOKEN: '123456:short' }, variable: 'TELEGRAM_BOT_TOKEN', accepts: /bot token/ },
    { env: { TELEGRAM_API_ROOT: 'ftp://api.telegram.org' }, variable: 'TELEGRAM_API_ROOT', accepts: /http\(s\) URL/ },
    { env: { TELEGRAM_API_ROOT: 'api.telegram.org' }, variable: 'TELEGRAM_API_ROOT', accepts: /http\(s\) URL/ },
    { env: { TELEGRAM_ADMIN_IDS: 'me' }, variable: 'TELEGRAM_ADMIN_IDS', accepts: /numeric Telegram user ids/ },
    { env: { TELEGRAM_ADMIN_IDS: '123,-4' }, variable: 'TELEGRAM_ADMIN_IDS', accepts: /numeric Telegram user ids/ },
    { env: { TELEGRAM_VIEWER_IDS: '12,abc' }, variable: 'TELEGRAM_VIEWER_IDS', accepts: /numeric Telegram user ids/ },
    { env: { TELEGRAM_BOT_TOKEN: BOT_TOKEN }, variable: 'TELEGRAM_ADMIN_IDS', accepts: /admin user id is required/ },
    { env: { LEADER_BROKER: 'zerodha' }, variable: 'LEADER_BROKER', accepts: /dhan, kite, sim/ },
    { env: { LEADER_BROKER: 'dhan' }, variable: 'LEADER_CLIENT_ID', accepts: /required for a dhan account/ },
    { env: { LEADER_BROKER: 'dhan', LEADER_CLIENT_ID: '1' }, variable: 'LEADER_ACCESS_TOKEN', accepts: /required for a dhan account/ },
    { env: { LEADER_BROKER: 'kite', LEADER_API_SECRET: 's' }, variable: 'LEADER_API_KEY', accepts: /required for a kite account/ },
    { env: { LEADER_BROKER: 'kite', LEADER_API_KEY: 'k' }, variable: 'LEADER_API_SECRET', accepts: /required for a kite account/ },
    { env: { FOLLOWERS: 'Alice' }, variable: 'FOLLOWERS', accepts: /a-z, 0-9 and _/ },
    { env: { FOLLOWERS: 'a-b' }, variable: 'FOLLOWERS', accepts: /a-z, 0-9 and _/ },
    { env: { FOLLOWERS: ',,' }, variable: 'FOLLOWERS', accepts: /follower ids/ },
    { env: { FOLLOWERS: 'a,b,a' }, variable: 'FOLLOWERS', accepts: /unique/ },
    { env: { FOLLOWERS: 'mom,leader' }, variable: 'FOLLOWERS', accepts: /"leader" is reserved/ },
    { env: { FOLLOWERS: 'all' }, variable: 'FOLLOWERS', accepts: /"all" is reserved/ },
    { env: { FOLLOWERS: 'a' }, variable: 'FOLLOWER_A_BROKER', accepts: /dhan, kite, paper/ },
    { env: { ...PAPER_A, FOLLOWER_A_BROKER: 'zerodha' }, variable: 'FOLLOWER_A_BROKER', accepts: /dhan, kite, paper/ },
    { env: { ...PAPER_A, FOLLOWER_A_SIZING: 'percent' }, variable: 'FOLLOWER_A_SIZING', accepts: /ratio, capital, fixed_lots/ },
    { env: { ...PAPER_A, FOLLOWER_A_RATIO: '0' }, variable: 'FOLLOWER_A_RATIO', accepts: /greater than 0 and at most 10/ },
    { env: { ...PAPER_A, FOLLOWER_A_RATIO: '-1' }, variable: 'FOLLOWER_A_RATIO', accepts: /greater than 0 and at most 10/ },
    { env: { ...PAPER_A, FOLLOWER_A_RATIO: '10.01' }, variable: 'FOLLOWER_A_RATIO', accepts: /greater than 0 and at most 10/ },
    { env: { ...PAPER_A, FOLLOWER_A_RATIO: 'half' }, variable: 'FOLLOWER_A_RATIO', accepts: /greater than 0/ },
    { env: { ...PAPER_A, FOLLOWER_A_RATIO: 'Infinity' }, variable: 'FOLLOWER_A_RATIO', accepts: /greater than 0/ },
    { env: { ...PAPER_A, FOLLOWER_A_FIXED_LOTS: '1.5' }, variable: 'FOLLOWER_A_FIXED_LOTS', accepts: /whole number of lots/ },
    { env: { ...PAPER_A, FOLLOWER_A_FIXED_LOTS: '0' }, variable: 'FOLLOWER_A_FIXED_LOTS', accepts: /whole number of lots/ },
    { env: { ...PAPER_A, FOLLOWER_A_MAX_LOTS: '0' }, variable: 'FOLLOWER_A_MAX_LOTS', accepts: /whole number of lots/ },
    { env: { ...PAPER_A, FOLLOWER_A_MAX_LOTS: 'many' }, variable: 'FOLLOWER_A_MAX_LOTS', accepts: /whole number of lots/ },
    { env: { ...PAPER_A, FOLLOWER_A_MAX_ORDER_VALUE: '-5' }, variable: 'FOLLOWER_A_MAX_ORDER_VALUE', accepts: /rupee amount greater than 0/ },
    { env: { ...PAPER_A, FOLLOWER_A_MAX_ORDER_VALUE: '₹5000' }, variable: 'FOLLOWER_A_MAX_ORDER_VALUE', accepts: /rupee amount/ },
    { env: { ...PAPER_A, FOLLOWER_A_ORDERS_PER_SECOND: '0' }, variable: 'FOLLOWER_A_ORDERS_PER_SECOND', accepts: /at most 100/ },
    { env: { ...PAPER_A, FOLLOWER_A_ORDERS_PER_SECOND: '101' }, variable: 'FOLLOWER_A_ORDERS_PER_SECOND', accepts: /at most 100/ },
    { env: { APPROVAL_THRESHOLD_INR: '0' }, variable: 'APPROVAL_THRESHOLD_INR', accepts: /rupee amount greater than 0/ },
    { env: { APPROVAL_TIMEOUT_SECONDS: '0' }, variable: 'APPROVAL_TIMEOUT_SECONDS', accepts: /whole number of seconds from \d+ to 3600/ },
    { env: { APPROVAL_TIMEOUT_SECONDS: '3601' }, variable: 'APPROVAL_TIMEOUT_SECONDS', accepts: /whole number of seconds from \d+ to 3600/ },
    { env: { APPROVAL_TIMEOUT_SECONDS: '60.5' }, variable: 'APPROVAL_TIMEOUT_SECONDS', accepts: /whole number of seconds/ },
    { env: { SIM_INTERVAL_MS: '-1' }, variable: 'SIM_INTERVAL_MS', accepts: /milliseconds ≥ 0/ },
    { env: { RECONCILE_EVERY_MS: '30s' }, variable: 'RECONCILE_EVERY_MS', accepts: /milliseconds ≥ 0/ },
    { env: { STREAM_SILENT_AFTER_S: '1m' }, variable: 'STREAM_SILENT_AFTER_S', accepts: /seconds from 0 to 3600 \(0 = off\)/ },
    { env: { STREAM_SILENT_AFTER_S: '3601' }, variable: 'STREAM_SILENT_AFTER_S', accepts: /seconds from 0 to 3600/ },
    { env: { DHAN_API_URL: 'not a url' }, variable: 'DHAN_API_URL', accepts: /http\(s\) URL/ },
    { env: { DHAN_ORDER_WS_URL: 'wss://has space' }, variable: 'DHAN_ORDER_WS_URL', accepts: /ws\(s\) URL/ },
    { env: { DHAN_INSTRUMENTS_URL: 'file:///tmp/x.csv' }, variable: 'DHAN_INSTRUMENTS_URL', accepts: /http\(s\) URL/ },
    { env: { KITE_API_URL: '//api.kite.trade' }, variable: 'KITE_API_URL', accepts: /http\(s\) URL/ },
    { env: { KITE_WS_URL: 'ws.kite.trade' }, variable: 'KITE_WS_URL', accepts: /ws\(s\) URL/ },
    { env: { KITE_LOGIN_URL: 'kite.zerodha.com' }, variable: 'KITE_LOGIN_URL', accepts: /http\(s\) URL/ },
    // live mode
    { env: { TRADING_MODE: 'live' }, variable: 'LEADER_BROKER', accepts: /live mode needs dhan or kite/ },
    { env: { ...LIVE, LEADER_BROKER: undefined }, variable: 'LEADER_BROKER', accepts: /live mode needs dhan or kite/ },
    { env: { ...LIVE, LEADER_BROKER: 'sim' }, variable: 'LEADER_BROKER', accepts: /dhan or kite/ },
    { env: { ...LIVE, FOLLOWERS: undefined }, variable: 'FOLLOWERS', accepts: /at least one follower/ },
    { env: { ...LIVE, FOLLOWERS: ' ' }, variable: 'FOLLOWERS', accepts: /at least one follower/ },
    { env: { ...LIVE, LEADER_ACCESS_TOKEN: undefined }, variable: 'LEADER_ACCESS_TOKEN', accepts: /required for a dhan account/ },
    { env: { ...LIVE, LEADER_CLIENT_ID: ' ' }, variable: 'LEADER_CLIENT_ID', accepts: /required for a dhan account/ },
    { env: { ...LIVE, FOLLOWER_ALICE_API_SECRET: undefined }, variable: 'FOLLOWER_ALICE_API_SECRET', accepts: /required for a kite account in live mode/ },
    { env: { ...LIVE, FOLLOWER_ALICE_API_KEY: undefined }, variable: 'FOLLOWER_ALICE_API_KEY', accepts: /required for a kite account in live mode/ },
    { env: { ...LIVE, FOLLOWER_BOB_ACCESS_TOKEN: undefined }, variable: 'FOLLOWER_BOB_ACCESS_TOKEN', accepts: /required for a dhan account in live mode/ },
    { env: { ...LIVE, FOLLOWER_BOB_CLIENT_ID: undefined }, variable: 'FOLLOWER_BOB_CLIENT_ID', accepts: /required for a dhan account in live mode/ },
    { env: { ...LIVE, FOLLOWER_BOB_BROKER: undefined }, variable: 'FOLLOWER_BOB_BROKER', accepts: /dhan, kite, paper/ },
  ])('$variable ← $env', ({ env, variable, accepts }) => {
    const msg = errorOf(env);
    expect(msg.startsWith(`${variable} `)).toBe(true);
    expect(msg).toMatch(accepts);
    expect(msg).not.toMatch(/[\r\n]/);
    // "<VAR> is missing: <accepted>" or "<VAR> ="<value>" is invalid: <accepted>"
    expect(msg).toMatch(new RegExp(`^${variable} (is missing|=".*" is invalid): \\S`));
  });

  it('quotes the bad value', () => {
    expect(errorOf({ TRADING_MODE: 'real' })).toBe('TRADING_MODE ="real" is invalid: one of paper, live');
  });

  it('STREAM_SILENT_AFTER_S: 60 s by default, 0 turns the watchdog off', () => {
    expect(parseConfig({}).streamSilentAfterS).toBe(60);
    expect(parseConfig({ STREAM_SILENT_AFTER_S: '0' }).streamSilentAfterS).toBe(0);
    expect(parseConfig({ STREAM_SILENT_AFTER_S: '90' }).streamSilentAfterS).toBe(90);
  });

  it('refuses a reserved follower id with one line naming FOLLOWERS, the id and the other choices', () => {
    expect(errorOf({ ...LIVE, FOLLOWERS: 'alice,leader' })).toBe(
      'FOLLOWERS ="alice,leader" is invalid: "leader" is reserved (leader, all mean something else to tandem): pick another follower id',
    );
    // A near miss is a normal id.
    expect(parseConfig({ FOLLOWERS: 'leader2,allie', FOLLOWER_LEADER2_BROKER: 'paper', FOLLOWER_ALLIE_BROKER: 'paper' }).followers.map((f) => f.id)).toEqual(['leader2', 'allie']);
  });

  it('says "is missing" for a missing value', () => {
    expect(errorOf({ FOLLOWERS: 'a' })).toBe('FOLLOWER_A_BROKER is missing: one of dhan, kite, paper');
  });

  it('shortens a very long bad value', () => {
    const msg = errorOf({ TRADING_MODE: 'x'.repeat(500) });
    expect(msg).toBe(`TRADING_MODE ="${'x'.repeat(40)}…" is invalid: one of paper, live`);
  });

  it.each<{ name: string; env: Env; variable: string }>([
    { name: 'a newline inside the value', env: { TRADING_MODE: 'pa\nper' }, variable: 'TRADING_MODE' },
    { name: 'a CRLF inside a follower ratio', env: { ...PAPER_A, FOLLOWER_A_RATIO: '1\r\n2' }, variable: 'FOLLOWER_A_RATIO' },
    { name: 'a newline in FOLLOWERS', env: { FOLLOWERS: 'a\nB' }, variable: 'FOLLOWERS' },
  ])('stays one line even with $name', ({ env, variable }) => {
    const msg = errorOf(env);
    expect(msg.startsWith(`${variable}`)).toBe(true);
    expect(msg).not.toMatch(/[\r\n]/);
  });
});

describe('loadEnv', () => {
  const dirs: string[] = [];
  const dirWith = (dotenv: string | null): string => {
    const d = mkdtempSync(join(tmpdir(), 'tandem-config-'));
    dirs.push(d);
    if (dotenv !== null) writeFileSync(join(d, '.env'), dotenv);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('without a .env file returns a copy of the environment', () => {
    const env = { TRADING_MODE: 'paper', X: '1' };
    const out = loadEnv(dirWith(null), env);
    expect(out).toEqual(env);
    expect(out).not.toBe(env);
    out.X = '2';
    expect(env.X).toBe('1');
  });

  it('reads the .env file when present', () => {
    const d = dirWith(['# comment', 'TRADING_MODE=live', 'LEADER_BROKER="kite"', "FOLLOWERS='a,b'", '', 'LOG_LEVEL=debug # trailing'].join('\n'));
    const out = loadEnv(d, {});
    expect(out.TRADING_MODE).toBe('live');
    expect(out.LEADER_BROKER).toBe('kite');
    expect(out.FOLLOWERS).toBe('a,b');
    expect(out.LOG_LEVEL).toBe('debug');
  });

  it('the real environment wins over the file', () => {
    const d = dirWith('TRADING_MODE=live\nLOG_LEVEL=debug\nDATABASE_PATH=/from/file.db\n');
    const out = loadEnv(d, { TRADING_MODE: 'paper', LOG_LEVEL: 'warn' });
    expect(out.TRADING_MODE).toBe('paper');
    expect(out.LOG_LEVEL).toBe('warn');
    expect(out.DATABASE_PATH).toBe('/from/file.db');
  });

  it('feeds parseConfig: a .env with a bad value fails naming the variable', () => {
    const d = dirWith('FOLLOWERS=a\nFOLLOWER_A_BROKER=paper\nFOLLOWER_A_RATIO=11\n');
    expect(() => parseConfig(loadEnv(d, {}))).toThrow(ConfigError);
    expect(() => parseConfig(loadEnv(d, {}))).toThrow(/^FOLLOWER_A_RATIO ="11" is invalid: a number greater than 0 and at most 10$/);
    // The real environment fixes it.
    expect(parseConfig(loadEnv(d, { FOLLOWER_A_RATIO: '2' })).followers[0]?.ratio).toBe(2);
  });

  it('a newline escaped inside a quoted .env value still gives a one-line error', () => {
    const d = dirWith('TRADING_MODE="pa\\nper"\n');
    expect(loadEnv(d, {}).TRADING_MODE).toBe('pa\nper');
    const msg = errorOf(loadEnv(d, {}));
    expect(msg.startsWith('TRADING_MODE')).toBe(true);
    expect(msg).not.toMatch(/[\r\n]/);
  });

  it('defaults to process.env', () => {
    const key = 'TANDEM_TEST_LOADENV_MARKER';
    process.env[key] = 'yes';
    try {
      expect(loadEnv(dirWith(null))[key]).toBe('yes');
    } finally {
      delete process.env[key];
    }
  });
});

describe('staticIpNotes: what the brokers\' static-IP rules say of the set-up', () => {
  const dhanFollower = (id: string): Env => ({
    [`FOLLOWER_${id.toUpperCase()}_BROKER`]: 'dhan',
    [`FOLLOWER_${id.toUpperCase()}_CLIENT_ID`]: `10000000${id.length}9`,
    [`FOLLOWER_${id.toUpperCase()}_ACCESS_TOKEN`]: `eyJ${id}.token.value`,
  });
  const kiteFollower = (id: string): Env => ({
    [`FOLLOWER_${id.toUpperCase()}_BROKER`]: 'kite',
    [`FOLLOWER_${id.toUpperCase()}_API_KEY`]: `key${id}`,
    [`FOLLOWER_${id.toUpperCase()}_API_SECRET`]: `secret${id}`,
  });

  it('one Dhan and one Kite follower (the leader only reads): nothing to say', () => {
    expect(staticIpNotes(parseConfig(LIVE))).toEqual([]);
  });

  it('two live Dhan followers on one machine: Dhan allows one user per IP, named with the followers', () => {
    const notes = staticIpNotes(parseConfig({ ...LIVE, FOLLOWERS: 'bob,carol', ...dhanFollower('carol') }));
    expect(notes).toHaveLength(1);
    expect(notes[0]!.alert).toBe(true);
    expect(notes[0]!.text).toMatch(/^live Dhan followers bob, carol .*Dhan allows one user per static IP/);
  });

  it('two live Kite followers: allowed for family accounts only, said once', () => {
    const notes = staticIpNotes(parseConfig({ ...LIVE, FOLLOWERS: 'alice,dave', ...kiteFollower('dave') }));
    expect(notes).toEqual([{ alert: false, text: expect.stringMatching(/^live Kite followers alice, dave share this machine's IP: Zerodha allows that only for family/) }]);
  });

  it('paper mode places nothing at a broker: nothing to say', () => {
    const cfg = parseConfig({ ...LIVE, TRADING_MODE: 'paper', FOLLOWERS: 'bob,carol', ...dhanFollower('carol') });
    expect(staticIpNotes(cfg)).toEqual([]);
  });
});
