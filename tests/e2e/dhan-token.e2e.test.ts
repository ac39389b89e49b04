/**
 * Dhan token lifecycle through the real composition: the renewal job replaces the token (stored
 * before use) and the next order carries it; a token that dies under a live order stops the
 * follower with ONE alert, its later copies are skipped, and /token brings it back; a dead leader
 * token is alerted once and fixed the same way; the day summary goes out through the outbox.
 * Assertions are on what the fake Dhan received (the access-token header of each order).
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DHAN_ERRORS, startFakeDhan, type FakeDhan } from '../fakes/dhan.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram.js';
import type { App } from '../../src/app.js';
import { ManualClock } from '../../src/infra/clock.js';
import { createLogger } from '../../src/infra/logger.js';
import { runDailySummary } from '../../src/jobs/daily-summary.js';
import { runTokenRenewal } from '../../src/jobs/token-check.js';
import { dhanEndpointsEnv, startTestApp, TEST_BOT_TOKEN } from './harness.js';

const ADMIN = 111;
const LEADER = '1500000001';
const FOLLOWER = '1500000002';
const NIFTY_CE = '61345'; // lot 75 in the fake's scrip master
const quiet = createLogger({ level: 'silent', pretty: false, destination: new Writable({ write: (_c, _e, cb) => cb() }) });

describe('Dhan: renewal, expiry under a live order, and /token', () => {
  let dhan: FakeDhan;
  let tg: FakeTelegram;
  let app: App & { logLines: string[] };
  const startedAt = Date.now();
  const clock = new ManualClock(startedAt);
  const secrets: string[] = [];

  const leaderBuys = (price: number) =>
    dhan.placeAsUser(LEADER, { securityId: NIFTY_CE, exchangeSegment: 'NSE_FNO', transactionType: 'BUY', quantity: 75, orderType: 'LIMIT', productType: 'MARGIN', price });
  const count = (re: RegExp) => tg.messages(ADMIN).filter((m) => re.test(m.text ?? '')).length;

  beforeAll(async () => {
    dhan = await startFakeDhan();
    tg = await startFakeTelegram({ token: TEST_BOT_TOKEN });
    secrets.push(dhan.addAccount(LEADER), dhan.addAccount(FOLLOWER));
    app = await startTestApp(
      {
        TRADING_MODE: 'live',
        TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN,
        TELEGRAM_API_ROOT: tg.apiRoot,
        TELEGRAM_ADMIN_IDS: String(ADMIN),
        LEADER_BROKER: 'dhan',
        LEADER_CLIENT_ID: LEADER,
        LEADER_ACCESS_TOKEN: secrets[0]!,
        FOLLOWERS: 'f1',
        FOLLOWER_F1_BROKER: 'dhan',
        FOLLOWER_F1_CLIENT_ID: FOLLOWER,
        FOLLOWER_F1_ACCESS_TOKEN: secrets[1]!,
        ...dhanEndpointsEnv(dhan),
      },
      { clock },
    );
    await dhan.waitForLogin(LEADER, { ok: true });
    await dhan.waitForLogin(FOLLOWER, { ok: true });
    await app.jobs.idle(); // the start-up check
    await tg.waitFor((c) => c.method === 'getUpdates');
  });

  afterAll(async () => {
    await app.stop();
    await Promise.all([dhan.close(), tg.close()]);
  });

  it('the start-up check finds both tokens good: checked, expiry from /profile, no nag', async () => {
    const st = app.sessions.status();
    expect(st.map((s) => [s.accountId, s.state, s.source])).toEqual([
      ['leader', 'ok', 'env'],
      ['f1', 'ok', 'env'],
    ]);
    expect(st[1]!.lastCheckedAt).toBe(clock.now());
    expect(Math.abs(st[1]!.expiresAt! - (Date.now() + 86_400_000))).toBeLessThan(5 * 60_000);
    expect(count(/Broker login needed/)).toBe(0);
  });

  it('renewal: less than 2 h left → RenewToken; the new token is stored, and the next order carries it', async () => {
    const old = dhan.token(FOLLOWER);
    const exp = app.sessions.status().find((s) => s.accountId === 'f1')!.expiresAt!;
    clock.set(exp - 3600_000);
    expect(await runTokenRenewal({ sessions: app.sessions, logger: quiet }, clock)).toBe(2); // leader and f1
    const renewed = dhan.token(FOLLOWER);
    secrets.push(renewed, dhan.token(LEADER));
    expect(renewed).not.toBe(old);
    expect(app.sessions.tokenOf('f1')).toBe(renewed);
    expect(app.store.tokens.get('f1')).toMatchObject({ source: 'renewal', obtainedAt: clock.now() });
    expect(app.store.tokens.get('f1')!.ciphertext).not.toContain(renewed);
    // Back to the fake broker's time (it mints tokens on the real clock): not due again.
    clock.set(startedAt);
    expect(await runTokenRenewal({ sessions: app.sessions, logger: quiet }, clock)).toBe(0);

    const o = leaderBuys(101);
    await tg.waitForMessage(ADMIN, new RegExp(`f1</b> BUY 1 lot \\(75\\) .* placed .* leader ${o.orderId}`));
    const places = dhan.placeRequests(FOLLOWER);
    expect(places).toHaveLength(1);
    expect(places[0]!.token).toBe(renewed);
  });

  it('a token error from a live order marks f1 expired with ONE alert; later copies are skipped; /token brings it back', async () => {
    dhan.expireToken(FOLLOWER); // the order socket stays up: only REST says so
    const o1 = leaderBuys(102);
    await tg.waitForMessage(ADMIN, /f1<\/b>: broker session expired \(Client ID or user generated access token is invalid or expired\.\)/);
    const o2 = leaderBuys(103);
    await tg.waitForMessage(ADMIN, new RegExp(`f1</b> skipped BUY .*leader ${o2.orderId}.*session has expired`));
    const o3 = leaderBuys(104);
    await tg.waitForMessage(ADMIN, new RegExp(`f1</b> skipped BUY .*leader ${o3.orderId}.*session has expired`));
    expect(count(/f1<\/b>: broker session expired/)).toBe(1);
    expect(dhan.placeRequests(FOLLOWER)).toHaveLength(2); // o1 tried once, o2 and o3 never sent
    expect(app.store.copies.forLeaderOrder(o1.orderId)[0]?.state).toBe('failed');
    expect(app.sessions.status().find((s) => s.accountId === 'f1')?.state).toBe('expired');

    // A wrong token: Dhan's words, the old token stays, f1 stays stopped.
    const bogus = 'eyJhbGciOiJIUzUxMiJ9.eyJib2d1cyI6dHJ1ZX0.Ym9ndXNzaWduYXR1cmVib2d1cw';
    secrets.push(bogus);
    const tokenBefore = app.sessions.tokenOf('f1');
    const wrong = tg.sendText(ADMIN, `/token f1 ${bogus}`);
    const refused = await tg.waitForMessage(ADMIN, /f1<\/b>: the token was not accepted/);
    expect(refused.text).toContain(`Dhan said: “${DHAN_ERRORS.invalidAuth.errorMessage}”`);
    await tg.waitFor((c) => c.method === 'deleteMessage' && c.payload.message_id === wrong.message_id);
    expect(app.sessions.tokenOf('f1')).toBe(tokenBefore);

    // A new token from web.dhan.co.
    const fresh = dhan.issueToken(FOLLOWER);
    secrets.push(fresh);
    const sent = tg.sendText(ADMIN, `/token f1 ${fresh}`);
    const ok = await tg.waitForMessage(ADMIN, /f1<\/b>: new Dhan token/);
    expect(ok.text).toContain(`(${FOLLOWER})`);
    expect(ok.text).toContain('it is back');
    await tg.waitFor((c) => c.method === 'deleteMessage' && c.payload.message_id === sent.message_id);
    await tg.waitForMessage(ADMIN, /f1<\/b> is back/);
    expect(app.sessions.status().find((s) => s.accountId === 'f1')).toMatchObject({ state: 'ok', source: 'chat' });

    const o4 = leaderBuys(105);
    await tg.waitForMessage(ADMIN, new RegExp(`f1</b> BUY 1 lot \\(75\\) .* placed .* leader ${o4.orderId}`));
    expect(dhan.placeRequests(FOLLOWER).at(-1)!.token).toBe(fresh);
    expect(count(/f1<\/b>: broker session expired/)).toBe(1);
  });

  it('a dead leader token: one alert saying leader orders may be missed, then /token leader → back', async () => {
    dhan.expireToken(LEADER);
    await app.sessions.check();
    await app.sessions.check();
    const alert = await tg.waitForMessage(ADMIN, /leader<\/b>: broker session expired/);
    expect(alert.text).toContain('Leader orders may go unseen');
    expect(alert.text).toContain('/login leader');
    await app.notifier.drained();
    expect(count(/leader<\/b>: broker session expired/)).toBe(1);
    expect(app.sessions.problems().map((p) => [p.accountId, p.state])).toEqual([['leader', 'expired']]);

    const fresh = dhan.issueToken(LEADER);
    secrets.push(fresh);
    tg.sendText(ADMIN, `/token leader ${fresh}`);
    await tg.waitForMessage(ADMIN, /leader<\/b> is back/);
    expect(app.sessions.problems()).toEqual([]);
    const o = leaderBuys(106);
    await tg.waitForMessage(ADMIN, new RegExp(`f1</b> BUY 1 lot \\(75\\) .* placed .* leader ${o.orderId}`));
  });

  it('the day summary goes to the admins through the outbox', async () => {
    const copies = app.store.copies.since('f1', 0);
    const filled = copies.find((c) => c.state === 'open' && c.followerOrderId)!;
    dhan.fill(filled.followerOrderId!, { price: 101 });
    await tg.waitForMessage(ADMIN, /f1<\/b> filled BUY/);
    const days = await runDailySummary({ store: app.store, events: app.notifier, followerIds: ['f1'] }, clock);
    expect(days).toEqual([{ followerId: 'f1', copies: 6, filled: 1, rejected: 0, failed: 1, skipped: 2, expired: 0 }]);
    const m = await tg.waitForMessage(ADMIN, /Day summary/);
    expect(m.text).toContain('<b>f1</b>: 6 copies · 1 filled · 0 rejected · 1 failed · 2 skipped · 0 approvals expired');
  });

  it('no token reaches the chat, the log or the audit log', async () => {
    await app.notifier.drained();
    const chat = tg.calls.filter((c) => c.method === 'sendMessage' || c.method === 'editMessageText').map((c) => JSON.stringify(c.payload)).join('\n');
    const log = app.logLines.join('');
    const audit = JSON.stringify(app.store.audit.recent(200));
    expect(secrets.length).toBeGreaterThanOrEqual(7);
    for (const s of secrets) {
      expect(chat).not.toContain(s);
      expect(log).not.toContain(s);
      expect(audit).not.toContain(s);
    }
    expect(app.store.audit.recent(200).filter((a) => a.action === '/token').map((a) => a.args)).toEqual(['leader [redacted]', 'f1 [redacted]', 'f1 [redacted]']);
  });
});
