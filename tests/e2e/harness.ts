/** Builds the real app in-process against loopback fakes, with a temp SQLite file. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseConfig } from '../../src/config.js';
import { startApp, type App, type AppOptions } from '../../src/app.js';
import { createLogger, type Logger } from '../../src/infra/logger.js';

export const TEST_BOT_TOKEN = '123456:TEST_TOKEN_abcdefghijklmnop';

export function tempDbPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'tandem-test-')), 'tandem.db');
}

/** A logger whose output is kept in memory, so tests can assert on it (secrets never appear). */
export function capturedLogger(level = 'debug'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { logger: createLogger({ level, pretty: false, destination: sink }), lines };
}

export async function startTestApp(env: Record<string, string>, opts: Partial<AppOptions> = {}): Promise<App & { logLines: string[] }> {
  const cfg = parseConfig({ LOG_LEVEL: 'debug', SIM_INTERVAL_MS: '0', DATABASE_PATH: tempDbPath(), ...env });
  const { logger, lines } = capturedLogger();
  // Jobs are not put on the real cron (a test must not meet 08:00 IST); tests run them by hand.
  const app = await startApp(cfg, { logger, pollTimeoutSeconds: 1, consoleInput: null, jobs: { schedule: false }, ...opts });
  return Object.assign(app, { logLines: lines });
}

/** The env of one Kite account: `prefix` is `LEADER_` or `FOLLOWER_<ID>_` (adds the broker key for followers). */
export function kiteAccountEnv(prefix: string, a: { apiKey: string; apiSecret: string }, accessToken?: string): Record<string, string> {
  return {
    ...(prefix === 'LEADER_' ? { LEADER_BROKER: 'kite' } : { [`${prefix}BROKER`]: 'kite' }),
    [`${prefix}API_KEY`]: a.apiKey,
    [`${prefix}API_SECRET`]: a.apiSecret,
    ...(accessToken ? { [`${prefix}ACCESS_TOKEN`]: accessToken } : {}),
  };
}

/** The env pointing tandem's Dhan endpoints (REST, order socket, scrip master) at a fake Dhan. */
export function dhanEndpointsEnv(dhan: { apiUrl: string; wsUrl: string; instrumentsUrl: string }): Record<string, string> {
  return { DHAN_API_URL: dhan.apiUrl, DHAN_ORDER_WS_URL: dhan.wsUrl, DHAN_INSTRUMENTS_URL: dhan.instrumentsUrl };
}

/** The env of one Dhan account: `prefix` is `LEADER_` or `FOLLOWER_<ID>_`. */
export function dhanAccountEnv(prefix: string, clientId: string, accessToken: string): Record<string, string> {
  return {
    ...(prefix === 'LEADER_' ? { LEADER_BROKER: 'dhan' } : { [`${prefix}BROKER`]: 'dhan' }),
    [`${prefix}CLIENT_ID`]: clientId,
    [`${prefix}ACCESS_TOKEN`]: accessToken,
  };
}

/** The environment of the real process (live mode) with a Dhan leader and one Dhan follower `f1`, all at the fake. */
export function dhanProcessEnv(
  fake: { addAccount(clientId: string): string; apiUrl: string; wsUrl: string; instrumentsUrl: string },
  ids: { leader: string; follower: string },
  dbPath: string,
  extra: Record<string, string> = {},
): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    TRADING_MODE: 'live',
    LOG_LEVEL: 'info',
    DATABASE_PATH: dbPath,
    ...dhanAccountEnv('LEADER_', ids.leader, fake.addAccount(ids.leader)),
    FOLLOWERS: 'f1',
    ...dhanAccountEnv('FOLLOWER_F1_', ids.follower, fake.addAccount(ids.follower)),
    ...dhanEndpointsEnv(fake),
    ...extra,
  };
}
