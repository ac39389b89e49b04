/**
 * One queue per admin chat: an admin who blocked the bot (403) does not hold back the others. The
 * real bot over the fake Bot API, the simulated leader, a paper follower; counts at the paper broker.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram.js';
import type { SimLeader } from '../../src/brokers/sim/sim-leader.js';
import { SIM_UNIVERSE } from '../../src/brokers/sim/sim-universe.js';
import type { App } from '../../src/app.js';
import type { NotifierOptions } from '../../src/bot/notifier.js';
import { TEST_BOT_TOKEN, startTestApp } from './harness.js';

const BLOCKED = 111;
const ADMIN = 112;
const [NIFTY] = SIM_UNIVERSE;
const BIG = { instrument: NIFTY!, side: 'BUY' as const, lots: 20, orderType: 'LIMIT' as const, price: 140 }; // ₹4,20,000
const SMALL = { instrument: NIFTY!, side: 'BUY' as const, lots: 1, orderType: 'LIMIT' as const, price: 140 };

let tg: FakeTelegram | undefined;
let app: (App & { logLines: string[] }) | undefined;
afterEach(async () => {
  await app?.stop();
  await tg?.close();
  app = tg = undefined;
});

async function start(notifier: NotifierOptions): Promise<{ tg: FakeTelegram; app: App & { logLines: string[] }; sim: SimLeader }> {
  tg = await startFakeTelegram({ token: TEST_BOT_TOKEN });
  tg.blockChat(BLOCKED);
  // The blocked admin is listed first: a single queue would try it first and hold the other back.
  app = await startTestApp(
    { TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN, TELEGRAM_API_ROOT: tg.apiRoot, TELEGRAM_ADMIN_IDS: `${BLOCKED},${ADMIN}`, APPROVAL_THRESHOLD_INR: '100000' },
    { notifier },
  );
  return { tg, app, sim: app.leader as SimLeader };
}

const sendsTo = (t: FakeTelegram, chat: number) => t.calls.filter((c) => c.method === 'sendMessage' && c.payload.chat_id === chat);
const unreachableLogs = (a: { logLines: string[] }) => a.logLines.filter((l) => l.includes('admin chat unreachable'));

describe('alerts per admin chat', () => {
  it('two admins, one answering 403: the other gets the approval request within a second and approves it', async () => {
    const { tg, app, sim } = await start({ unreachableRetryMs: 600_000 });
    const paper = app.engine.followers.get('demo')!.broker;
    const t0 = performance.now();
    const id = sim.place(BIG);
    const msg = await tg.waitForMessage(ADMIN, new RegExp(`APPROVAL NEEDED[\\s\\S]*leader ${id}`), 1000);
    const latencyMs = performance.now() - t0;
    expect(latencyMs).toBeLessThan(1000);
    tg.click(ADMIN, msg, tg.buttonData(msg, 'Approve'));
    await tg.waitForMessage(ADMIN, new RegExp(`placed .* leader ${id}`));
    await app.engine.idle();
    expect(await paper.orders()).toHaveLength(1);
    expect(app.store.copies.forLeaderOrder(id).map((c) => c.state)).toEqual(['open']);

    // The blocked chat was tried once, answered 403, and is left alone until its rare retry.
    const tried = sendsTo(tg, BLOCKED);
    expect(tried.length).toBe(1);
    expect(tried[0]?.response).toMatchObject({ ok: false, error_code: 403 });
    expect(unreachableLogs(app)).toHaveLength(1);
    // Its alerts wait in the outbox (nothing lost); the other admin's /health says so.
    expect(app.store.outbox.pendingFor(BLOCKED).length).toBeGreaterThanOrEqual(2);
    tg.sendText(ADMIN, '/health');
    const health = await tg.waitForMessage(ADMIN, /Health/);
    expect(health.text).toMatch(new RegExp(`Admin chat ${BLOCKED} unreachable since .* IST \\(Forbidden: bot was blocked by the user\\) · \\d+ alert\\(s\\) waiting · retried every 10 min`));
  });

  it('the unreachable chat is retried rarely; once it answers, its waiting alerts arrive and the mark is cleared', async () => {
    const { tg, app, sim } = await start({ unreachableRetryMs: 400 });
    const id = sim.place(SMALL);
    await tg.waitForMessage(ADMIN, new RegExp(`placed .* leader ${id}`));
    await tg.waitFor((c) => c.method === 'sendMessage' && c.payload.chat_id === BLOCKED && c.response?.ok === false);
    // Still blocked at the rare retry: one more attempt, no second log line.
    await tg.waitFor((c) => c.method === 'sendMessage' && c.payload.chat_id === BLOCKED && c.response?.ok === false && c !== sendsTo(tg, BLOCKED)[0], 2000);
    expect(unreachableLogs(app)).toHaveLength(1);
    tg.unblockChat(BLOCKED);
    await tg.waitForMessage(BLOCKED, new RegExp(`placed .* leader ${id}`), 2000);
    await app.notifier.drained();
    expect(app.store.outbox.pendingFor(BLOCKED)).toEqual([]);
    expect(app.logLines.some((l) => l.includes('admin chat reachable again'))).toBe(true);
    tg.sendText(ADMIN, '/health');
    const health = await tg.waitForMessage(ADMIN, /Health/);
    expect(health.text).not.toContain('unreachable');
    // Attempts were rare: the first, and about one per 400 ms after it — not a retry storm.
    const attempts = sendsTo(tg, BLOCKED).filter((c) => c.response?.ok === false);
    const span = attempts.at(-1)!.at - attempts[0]!.at;
    expect(attempts.length).toBeLessThanOrEqual(1 + Math.ceil(span / 400));
  });
});
