/**
 * The Kite morning login from the chat, through the real composition: a Kite follower starts with
 * no token, the check nags with the login link, /token with the redirect address performs the
 * checksum exchange at the fake Kite, the message is deleted, the follower comes back and the nag
 * stops. A bad request token is explained and changes nothing. Time is a ManualClock.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKite, type FakeKite } from '../fakes/kite.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram.js';
import { testInstrument } from '../fakes/instruments.js';
import type { App } from '../../src/app.js';
import { ManualClock } from '../../src/infra/clock.js';
import { createLogger } from '../../src/infra/logger.js';
import { runNagTick, runTokenCheck, type TokenCheckDeps } from '../../src/jobs/token-check.js';
import { TEST_BOT_TOKEN, startTestApp } from './harness.js';

const ADMIN = 111;
const NIFTY = testInstrument('NIFTY_26000_CE');
/** Monday 2 June 2025, 08:00 IST. */
const MONDAY_0800 = Date.parse('2025-06-02T02:30:00Z');
const MIN = 60_000;
const quiet = createLogger({ level: 'silent', pretty: false, destination: new Writable({ write: (_c, _e, cb) => cb() }) });

describe('Kite: the morning login from the chat', () => {
  let kite: FakeKite;
  let tg: FakeTelegram;
  let app: App & { logLines: string[] };
  let deps: TokenCheckDeps;
  const clock = new ManualClock(MONDAY_0800 - 30 * MIN);
  const L = { apiKey: 'loginleader01', apiSecret: 'loginleadersecret', userId: 'AB1001' };
  const F = { apiKey: 'loginfollow01', apiSecret: 'loginfollowsecret', userId: 'AB1002' };
  const secrets: string[] = [L.apiSecret, F.apiSecret];
  let usedRequestToken = '';

  const nags = () => tg.messages(ADMIN).filter((m) => /Broker login needed/.test(m.text ?? '')).length;
  const copyTo = async () => {
    const id = kite.placeAsUser(L.apiKey, { tradingsymbol: NIFTY.kite!.tradingsymbol, exchange: 'NFO', transaction_type: 'BUY', order_type: 'LIMIT', quantity: 75, product: 'NRML', price: 100 });
    return id;
  };

  beforeAll(async () => {
    kite = await startFakeKite();
    tg = await startFakeTelegram({ token: TEST_BOT_TOKEN });
    const lt = kite.addAccount(L);
    kite.addAccount(F);
    secrets.push(lt);
    app = await startTestApp(
      {
        TRADING_MODE: 'live',
        TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN,
        TELEGRAM_API_ROOT: tg.apiRoot,
        TELEGRAM_ADMIN_IDS: String(ADMIN),
        LEADER_BROKER: 'kite',
        LEADER_API_KEY: L.apiKey,
        LEADER_API_SECRET: L.apiSecret,
        LEADER_ACCESS_TOKEN: lt,
        FOLLOWERS: 'k1',
        FOLLOWER_K1_BROKER: 'kite',
        FOLLOWER_K1_API_KEY: F.apiKey,
        FOLLOWER_K1_API_SECRET: F.apiSecret,
        KITE_API_URL: kite.apiUrl,
        KITE_WS_URL: kite.wsUrl,
      },
      { clock },
    );
    deps = { sessions: app.sessions, events: app.notifier, logger: quiet, checkAt: '08:00', nagUntil: '15:30', nag: { lastAt: null } };
    await app.jobs.idle(); // the start-up check
    await tg.waitFor((c) => c.method === 'getUpdates');
  });

  afterAll(async () => {
    await app.stop();
    await Promise.all([kite.close(), tg.close()]);
  });

  it('at start-up the follower without a token is "missing": one expiry alert, one nag with the login link', async () => {
    const nag = await tg.waitForMessage(ADMIN, /Broker login needed/);
    expect(nag.text).toContain('k1');
    expect(nag.text).toContain('no token yet');
    expect(nag.text).not.toContain('leader');
    await tg.waitForMessage(ADMIN, /k1<\/b>: broker session expired \(No Kite access token: log in first\)/);
    // The link carries k1's api key.
    const html = tg.calls.filter((c) => c.method === 'sendMessage' && String(c.payload.text).includes('Broker login needed')).at(-1)!.payload.text as string;
    expect(html).toContain('api_key=loginfollow01');
    expect(app.sessions.status().map((s) => [s.accountId, s.state])).toEqual([
      ['leader', 'ok'],
      ['k1', 'missing'],
    ]);
  });

  it('/login k1 gives the Kite login link and the steps; /login with a bad account lists the valid ones', async () => {
    tg.sendText(ADMIN, '/login k1');
    const m = await tg.waitForMessage(ADMIN, /Login for k1/);
    expect(m.text).toContain('request_token=…');
    expect(m.text).toContain('/token k1 &lt;the address&gt;');
    const sent = tg.calls.filter((c) => c.method === 'sendMessage' && String(c.payload.text).includes('Login for k1')).at(-1)!;
    expect(String(sent.payload.text)).toMatch(/<a href="https:\/\/kite\.zerodha\.com\/connect\/login\?v=3&amp;api_key=loginfollow01">/);
    tg.sendText(ADMIN, '/login bob');
    const bad = await tg.waitForMessage(ADMIN, /Unknown account “bob”/);
    expect(bad.text).toContain('Valid accounts: leader, k1.');
    tg.sendText(ADMIN, '/login');
    await tg.waitForMessage(ADMIN, /Which account\? Usage: \/login &lt;account&gt;/);
  });

  it('the 08:00 check nags, again every 15 minutes; /token with the redirect address logs k1 in, deletes the message, and the nag stops', async () => {
    clock.set(MONDAY_0800);
    const before = nags();
    expect(await runTokenCheck(deps, clock)).toBe(1);
    await app.notifier.drained();
    expect(nags()).toBe(before + 1);
    clock.set(MONDAY_0800 + 5 * MIN);
    expect(await runNagTick(deps, clock)).toBe(0); // too soon after the check
    clock.set(MONDAY_0800 + 15 * MIN);
    expect(await runNagTick(deps, clock)).toBe(1);
    await app.notifier.drained();
    expect(nags()).toBe(before + 2);

    const rt = kite.issueRequestToken(F.apiKey);
    usedRequestToken = rt;
    secrets.push(rt);
    const sent = tg.sendText(ADMIN, `/token k1 https://example.com/kite/back?action=login&type=login&status=success&request_token=${rt}`);
    const reply = await tg.waitForMessage(ADMIN, /k1<\/b>: new Kite token/);
    expect(reply.text).toContain('(AB1002)');
    expect(reply.text).toContain('valid until 2025-06-03 06:00 IST');
    expect(reply.text).toContain('it is back');
    expect(reply.text).toContain('Your message with the token was deleted');
    const del = await tg.waitFor((c) => c.method === 'deleteMessage' && c.payload.message_id === sent.message_id);
    expect(del.payload.chat_id).toBe(ADMIN);
    await tg.waitForMessage(ADMIN, /k1<\/b> is back/);
    const accessToken = kite.accessToken(F.apiKey)!;
    secrets.push(accessToken);
    expect(app.sessions.tokenOf('k1')).toBe(accessToken);
    expect(app.store.tokens.get('k1')).toMatchObject({ source: 'chat', expiresAt: Date.parse('2025-06-03T00:30:00Z'), lastCheckedAt: MONDAY_0800 + 15 * MIN });
    expect(app.sessions.status().find((s) => s.accountId === 'k1')?.state).toBe('ok');

    // k1 copies again, with the new token.
    const id = await copyTo();
    await tg.waitForMessage(ADMIN, new RegExp(`k1</b> BUY 1 lot \\(75\\) .* placed .* leader ${id}`), 10_000);

    // The nag stops.
    clock.set(MONDAY_0800 + 30 * MIN);
    expect(await runNagTick(deps, clock)).toBe(0);
    clock.set(MONDAY_0800 + 45 * MIN);
    expect(await runTokenCheck(deps, clock)).toBe(0);
    await app.notifier.drained();
    expect(nags()).toBe(before + 2);

    // The audit log keeps the account, not the secret.
    const audit = app.store.audit.recent(50).find((a) => a.action === '/token');
    expect(audit?.args).toBe('k1 [redacted]');
    expect(audit?.outcome).toBe('k1: accepted, resumed');
  });

  it('a bad request token gets Kite\'s words back and leaves the working token alone', async () => {
    const tokenBefore = app.sessions.tokenOf('k1');
    // The request token already exchanged: single use.
    const sent = tg.sendText(ADMIN, `/token k1 ${usedRequestToken}`);
    const reply = await tg.waitForMessage(ADMIN, /k1<\/b>: the token was not accepted/);
    expect(reply.text).toContain('Kite said: “Token is invalid or has expired.”');
    expect(reply.text).toContain('The old token is unchanged');
    await tg.waitFor((c) => c.method === 'deleteMessage' && c.payload.message_id === sent.message_id);
    expect(app.sessions.tokenOf('k1')).toBe(tokenBefore);

    tg.sendText(ADMIN, '/token k1 not a token at all');
    await tg.waitForMessage(ADMIN, /neither a request token nor the redirect address/);
    expect(app.sessions.tokenOf('k1')).toBe(tokenBefore);
    expect(app.sessions.status().find((s) => s.accountId === 'k1')?.state).toBe('ok');

    // Still copying.
    const id = await copyTo();
    await tg.waitForMessage(ADMIN, new RegExp(`k1</b> BUY 1 lot \\(75\\) .* placed .* leader ${id}`), 10_000);
  });

  it('no token, request token or api secret ever reaches the chat, the log or the audit log', async () => {
    await app.notifier.drained();
    const chat = tg.calls.filter((c) => c.method === 'sendMessage' || c.method === 'editMessageText').map((c) => JSON.stringify(c.payload)).join('\n');
    const log = app.logLines.join('');
    const audit = JSON.stringify(app.store.audit.recent(200));
    for (const s of secrets) {
      expect(chat).not.toContain(s);
      expect(log).not.toContain(s);
      expect(audit).not.toContain(s);
    }
    expect(log).toContain('new token stored and applied');
  });
});

describe('Kite: a cold morning — no account has a token, so not even the instrument master could load', () => {
  let kite: FakeKite;
  let tg: FakeTelegram;
  let app: App & { logLines: string[] };
  const L = { apiKey: 'coldleader01', apiSecret: 'coldleadersecret', userId: 'AB2001' };
  const F = { apiKey: 'coldfollow01', apiSecret: 'coldfollowsecret', userId: 'AB2002' };

  beforeAll(async () => {
    kite = await startFakeKite();
    tg = await startFakeTelegram({ token: TEST_BOT_TOKEN });
    kite.addAccount(L);
    kite.addAccount(F);
    app = await startTestApp(
      {
        TRADING_MODE: 'live',
        TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN,
        TELEGRAM_API_ROOT: tg.apiRoot,
        TELEGRAM_ADMIN_IDS: String(ADMIN),
        LEADER_BROKER: 'kite',
        LEADER_API_KEY: L.apiKey,
        LEADER_API_SECRET: L.apiSecret,
        FOLLOWERS: 'k1',
        FOLLOWER_K1_BROKER: 'kite',
        FOLLOWER_K1_API_KEY: F.apiKey,
        FOLLOWER_K1_API_SECRET: F.apiSecret,
        KITE_API_URL: kite.apiUrl,
        KITE_WS_URL: kite.wsUrl,
      },
      // 07:50 IST: a token from this login lives until 06:00 tomorrow.
      { clock: new ManualClock(MONDAY_0800 - 10 * MIN) },
    );
    await app.jobs.idle();
    await tg.waitFor((c) => c.method === 'getUpdates');
  });

  afterAll(async () => {
    await app.stop();
    await Promise.all([kite.close(), tg.close()]);
  });

  it('both logins from the chat: the leader is back, the Kite master loads after its login, and k1 copies', async () => {
    const nag = await tg.waitForMessage(ADMIN, /Broker login needed/);
    expect(nag.text).toMatch(/leader<\/b> \(Kite\): no token yet[\s\S]*k1<\/b> \(Kite\): no token yet/);
    await tg.waitForMessage(ADMIN, /leader<\/b>: broker session expired/);
    expect(app.store.instruments.lastUpdated('kite')).toBeNull();

    tg.sendText(ADMIN, `/token leader ${kite.issueRequestToken(L.apiKey)}`);
    await tg.waitForMessage(ADMIN, /leader<\/b> is back/);
    await app.jobs.idle(); // instruments-after-login
    expect(app.store.instruments.lastUpdated('kite')).not.toBeNull();

    tg.sendText(ADMIN, `/token k1 https://example.com/?request_token=${kite.issueRequestToken(F.apiKey)}&action=login&status=success`);
    await tg.waitForMessage(ADMIN, /k1<\/b> is back/);
    const id = kite.placeAsUser(L.apiKey, { tradingsymbol: NIFTY.kite!.tradingsymbol, exchange: 'NFO', transaction_type: 'BUY', order_type: 'LIMIT', quantity: 75, product: 'NRML', price: 99 });
    await tg.waitForMessage(ADMIN, new RegExp(`k1</b> BUY 1 lot \\(75\\) .* placed .* leader ${id}`), 10_000);
    expect(app.sessions.problems()).toEqual([]);
  });
});
