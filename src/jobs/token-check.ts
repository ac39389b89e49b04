/**
 * The morning token check and its nag. At TOKEN_CHECK_AT on weekdays (and at start-up): Dhan tokens
 * that would die before NAG_UNTIL are renewed first, then every account's token is checked with a
 * cheap authenticated call; anything missing, dead or dying before NAG_UNTIL is one message to the
 * admins with the login link or instructions. Every 15 minutes after that, until NAG_UNTIL, the
 * accounts still in trouble are checked again and the admins nagged again — until fixed. Nobody is
 * nagged on a weekend or an NSE holiday (domain/holidays.ts, MARKET_HOLIDAYS).
 */
import { istAt } from '../domain/time.js';
import type { EngineEvents } from '../engine/events.js';
import type { SessionManager } from '../engine/sessions.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';

export const RENEW_AHEAD_MS = 2 * 3600_000;
export const NAG_EVERY_MS = 15 * 60_000;

export interface TokenCheckDeps {
  sessions: SessionManager;
  events: EngineEvents;
  logger: Logger;
  /** `HH:MM` IST. */
  checkAt: string;
  nagUntil: string;
  /** When the admins were last nagged (shared by the check and the repeat). */
  nag: { lastAt: number | null };
  /** Whether the IST day of an instant is a trading day (no nag on weekends and holidays); absent: every day. */
  tradingDay?: (ms: number) => boolean;
}

function nag(d: TokenCheckDeps, now: number): number {
  const accounts = d.sessions.problems(now);
  if (accounts.length === 0) return 0;
  d.events.emit({ type: 'token_nag', accounts, until: d.nagUntil });
  d.nag.lastAt = now;
  d.logger.warn({ accounts: accounts.map((a) => `${a.accountId}:${a.state}`) }, 'token nag sent');
  return accounts.length;
}

/** The check: renew what can be renewed, check everything, nag about the rest. Returns accounts nagged about. */
export async function runTokenCheck(d: TokenCheckDeps, clock: Clock): Promise<number> {
  const now = clock.now();
  const cutoff = istAt(now, d.nagUntil);
  await d.sessions.renewDue(Math.max(now + RENEW_AHEAD_MS, now < cutoff ? cutoff : 0));
  await d.sessions.check();
  // Renewed and checked every day (a token must live through a long weekend), nagged about on trading days only.
  if (d.tradingDay && !d.tradingDay(now)) return 0;
  return nag(d, clock.now());
}

/** The repeat (every 15 min): between TOKEN_CHECK_AT and NAG_UNTIL, re-check the accounts in trouble and nag again. */
export async function runNagTick(d: TokenCheckDeps, clock: Clock): Promise<number> {
  const now = clock.now();
  if (d.tradingDay && !d.tradingDay(now)) return 0;
  // The window starts one repeat after the check (at the check's own minute, the check nags).
  if (now < istAt(now, d.checkAt) + NAG_EVERY_MS - 60_000 || now >= istAt(now, d.nagUntil)) return 0;
  const trouble = d.sessions.problems(now);
  if (trouble.length === 0) return 0;
  // The check itself nagged moments ago (both fire at a quarter hour): do not say it twice.
  if (d.nag.lastAt !== null && now - d.nag.lastAt < NAG_EVERY_MS - 60_000) return 0;
  await d.sessions.check(trouble.map((a) => a.accountId));
  return nag(d, clock.now());
}

/** Hourly: renew Dhan tokens with less than two hours left, while the process runs. */
export async function runTokenRenewal(d: Pick<TokenCheckDeps, 'sessions' | 'logger'>, clock: Clock): Promise<number> {
  const results = await d.sessions.renewDue(clock.now() + RENEW_AHEAD_MS);
  const failed = results.filter((r) => !r.ok);
  if (failed.length) d.logger.warn({ failed: failed.map((r) => r.accountId) }, 'some token renewals failed');
  return results.filter((r) => r.ok).length;
}
