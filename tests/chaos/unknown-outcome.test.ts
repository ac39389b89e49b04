/**
 * Never twice when the broker cannot answer: a placement whose answer never comes is re-sent only
 * on proof of absence (a look-up that succeeded and did not find the tag). Look-ups that fail —
 * 5xx, or a 200 whose body is an HTML page — prove nothing: after the give-up time the copy is
 * `unknown`, the admins get one alert with two buttons, and nothing is sent by itself. Real
 * composition (fake Dhan over HTTP/WS, the real bot over the fake Bot API); counts at the fake.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram.js';
import { TEST_BOT_TOKEN } from '../e2e/harness.js';
import { LEADER, NIFTY_CE, clientIdOf, startWorld, until, type World } from './world.js';

const ADMIN = 111;
const VIEWER = 222;
const GIVE_UP_MS = 1500;
const UNAVAILABLE = { status: 503, body: { errorType: 'Server', errorCode: 'DH-908', errorMessage: 'Service unavailable' } };
const PROXY_PAGE = { status: 200, html: '<!DOCTYPE html><html><body><h1>Please wait</h1>The service is busy.</body></html>' };

let world: World | null = null;
let tg: FakeTelegram | null = null;
afterEach(async () => {
  await world?.close();
  await tg?.close();
  world = null;
  tg = null;
});

async function start(): Promise<{ w: World; tg: FakeTelegram; f1: string }> {
  tg = await startFakeTelegram({ token: TEST_BOT_TOKEN });
  world = await startWorld({
    env: { TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN, TELEGRAM_API_ROOT: tg.apiRoot, TELEGRAM_ADMIN_IDS: String(ADMIN), TELEGRAM_VIEWER_IDS: String(VIEWER) },
    app: { brokerTimeoutMs: 800, engine: { reconcileEveryMs: 1000, executor: { lookupDelaysMs: [100, 200, 300], giveUpMs: GIVE_UP_MS, maxLookupBackoffMs: 300 } } },
  });
  const f1 = clientIdOf(world, 'f1');
  await world.dhan.waitForLogin(f1, { ok: true });
  return { w: world, tg, f1 };
}

const buy = () => ({ securityId: NIFTY_CE, exchangeSegment: 'NSE_FNO', transactionType: 'BUY' as const, quantity: 75, orderType: 'LIMIT', productType: 'MARGIN', price: 121 });

/** The follower's placement is accepted but never answered, its order stream says nothing, and every look-up fails. */
function brokerCannotAnswer(w: World, f1: string): void {
  w.dhan.mutePushes(f1);
  w.dhan.injectError(f1, 'place', 'accept-then-hang', 1);
  w.dhan.injectError(f1, 'lookup', UNAVAILABLE, 10_000);
}

const unknownAlerts = (t: FakeTelegram) => t.messages(ADMIN).filter((m) => /OUTCOME UNKNOWN/.test(m.text ?? ''));

describe('chaos: an unknown outcome is never re-sent without proof of absence', () => {
  it('every look-up fails for the whole give-up window → one order, one unknown alert with both buttons; Send it after two taps → exactly two', async () => {
    const { w, tg: t, f1 } = await start();
    brokerCannotAnswer(w, f1);
    const t0 = performance.now();
    const leader = w.dhan.placeAsUser(LEADER, buy());
    const alert = await t.waitForMessage(ADMIN, /OUTCOME UNKNOWN/, 15_000);
    // The alert comes only after the look-ups had the whole window to succeed.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(GIVE_UP_MS);
    const copy = w.app.store.copies.forLeaderOrder(leader.orderId)[0]!;
    expect(copy.state).toBe('unknown');
    expect(w.dhan.placeRequests(f1)).toHaveLength(1);
    expect(w.dhan.orders(f1)).toHaveLength(1);
    // It names the follower, the side, the quantity and the instrument.
    expect(alert.text).toMatch(/f1<\/b> BUY 1 lot \(75\) NIFTY/);
    const send = t.buttonData(alert, 'Send it');
    expect(t.buttonData(alert, 'It is there')).toBe(`uo:${copy.id}:a`);
    expect(Buffer.byteLength(send)).toBeLessThan(64);

    // A viewer cannot decide.
    t.click(VIEWER, alert, send);
    await t.waitFor((c) => c.method === 'answerCallbackQuery' && /Only an admin/.test(String(c.payload.text)));

    // First tap: asks to confirm, sends nothing.
    t.click(ADMIN, alert, send);
    const confirm = await t.waitForMessage(ADMIN, /Step 2 of 2/);
    expect(w.dhan.placeRequests(f1)).toHaveLength(1);
    expect(w.app.store.copies.get(copy.id)?.state).toBe('unknown');

    // Second tap: sends once, same tag.
    t.click(ADMIN, confirm, t.buttonData(confirm, 'Yes, send it once'));
    await until(() => w.app.store.copies.get(copy.id)?.state === 'open', 'the copy sent again is open');
    await w.app.engine.idle();
    const requests = w.dhan.placeRequests(f1);
    expect(requests).toHaveLength(2);
    expect(new Set(requests.map((r) => r.body.correlationId)).size).toBe(1);
    expect(w.dhan.orders(f1)).toHaveLength(2);
    // A stale tap on the old confirm button sends nothing more.
    t.click(ADMIN, confirm, t.buttonData(confirm, 'Yes, send it once'));
    await t.waitFor((c) => c.method === 'answerCallbackQuery' && /Not sent: this copy is open/.test(String(c.payload.text)));
    expect(w.dhan.placeRequests(f1)).toHaveLength(2);
    expect(unknownAlerts(t)).toHaveLength(1);
  });

  it('It is there, when the order is at the broker: adopted, still one order (a failed book read first says so and changes nothing)', async () => {
    const { w, tg: t, f1 } = await start();
    brokerCannotAnswer(w, f1);
    const leader = w.dhan.placeAsUser(LEADER, buy());
    const alert = await t.waitForMessage(ADMIN, /OUTCOME UNKNOWN/, 15_000);
    const copy = w.app.store.copies.forLeaderOrder(leader.orderId)[0]!;

    w.dhan.injectError(f1, 'book', UNAVAILABLE, 1);
    t.click(ADMIN, alert, t.buttonData(alert, 'It is there'));
    await t.waitFor((c) => c.method === 'answerCallbackQuery' && /Could not read f1's order book/.test(String(c.payload.text)));
    expect(w.app.store.copies.get(copy.id)?.state).toBe('unknown');

    t.click(ADMIN, alert, t.buttonData(alert, 'It is there'));
    const answer = await t.waitFor((c) => c.method === 'answerCallbackQuery' && /adopted/.test(String(c.payload.text)));
    const order = w.dhan.orders(f1)[0]!;
    expect(String(answer.payload.text)).toContain(order.orderId);
    const after = w.app.store.copies.get(copy.id)!;
    expect(after.state).toBe('open');
    expect(after.followerOrderId).toBe(order.orderId);
    await w.app.engine.idle();
    expect(w.dhan.placeRequests(f1)).toHaveLength(1);
    expect(w.dhan.orders(f1)).toHaveLength(1);
    expect(unknownAlerts(t)).toHaveLength(1);
  });

  it('a 200 whose body is an HTML page, on every look-up and book read, is no proof of absence: no re-send; the order is adopted once the broker answers', async () => {
    const { w, f1 } = await start();
    w.dhan.mutePushes(f1);
    w.dhan.injectError(f1, 'place', 'accept-then-hang', 1);
    // The three scheduled look-ups (by correlation id, and the order book behind it) get the proxy's page:
    // read as "no such order", they would have placed it again.
    w.dhan.injectError(f1, 'lookup', PROXY_PAGE, 3);
    w.dhan.injectError(f1, 'book', PROXY_PAGE, 3);
    const leader = w.dhan.placeAsUser(LEADER, buy());
    await until(() => w.app.store.copies.forLeaderOrder(leader.orderId)[0]?.state === 'open', 'copy adopted after the proxy page');
    await w.app.engine.idle();
    expect(w.dhan.placeRequests(f1)).toHaveLength(1);
    expect(w.dhan.orders(f1)).toHaveLength(1);
    expect(w.app.store.copies.forLeaderOrder(leader.orderId)[0]?.followerOrderId).toBe(w.dhan.orders(f1)[0]?.orderId);
    expect(w.app.logLines.join('')).toMatch(/answer is not JSON/);
  });

  it('look-ups failing at first, then a successful one without the tag: proof of absence → placed once more, one order', async () => {
    const { w, f1 } = await start();
    w.dhan.injectError(f1, 'place', 'hang', 1); // never reached the book
    w.dhan.injectError(f1, 'lookup', UNAVAILABLE, 5); // the schedule (3) and two backoff look-ups fail
    const leader = w.dhan.placeAsUser(LEADER, buy());
    await until(() => w.dhan.placeRequests(f1).length === 2, 'the second placement');
    await until(() => w.app.store.copies.forLeaderOrder(leader.orderId)[0]?.state === 'open', 'copy open');
    await w.app.engine.idle();
    expect(w.dhan.placeRequests(f1)).toHaveLength(2);
    expect(new Set(w.dhan.placeRequests(f1).map((r) => r.body.correlationId)).size).toBe(1);
    expect(w.dhan.orders(f1)).toHaveLength(1);
  });

  it('an unknown copy whose order later shows up on the stream is adopted by it', async () => {
    const { w, tg: t, f1 } = await start();
    brokerCannotAnswer(w, f1);
    const leader = w.dhan.placeAsUser(LEADER, buy());
    await t.waitForMessage(ADMIN, /OUTCOME UNKNOWN/, 15_000);
    const copy = w.app.store.copies.forLeaderOrder(leader.orderId)[0]!;
    w.dhan.mutePushes(f1, false);
    const order = w.dhan.orders(f1)[0]!;
    w.dhan.fill(order.orderId, { price: 120.9 });
    await until(() => w.app.store.copies.get(copy.id)?.state === 'filled', 'the unknown copy revived as filled');
    expect(w.app.store.copies.get(copy.id)?.followerOrderId).toBe(order.orderId);
    expect(w.dhan.placeRequests(f1)).toHaveLength(1);
  });
});
