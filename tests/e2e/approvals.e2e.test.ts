/**
 * Approvals for large orders, end to end: the real bot over the fake Bot API, the real engine,
 * the simulated leader, a paper follower. Counts are taken at the paper broker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeTelegram, type FakeTelegram, type StoredMessage } from '../fakes/telegram.js';
import { SimLeader } from '../../src/brokers/sim/sim-leader.js';
import { SIM_UNIVERSE } from '../../src/brokers/sim/sim-universe.js';
import type { App } from '../../src/app.js';
import { TEST_BOT_TOKEN, startTestApp, tempDbPath } from './harness.js';

const ADMIN = 111;
const ADMIN2 = 112;
const VIEWER = 222;
const [NIFTY] = SIM_UNIVERSE;
const BIG = { instrument: NIFTY!, side: 'BUY' as const, lots: 20, orderType: 'LIMIT' as const, price: 140 }; // ₹4,20,000
const SMALL = { instrument: NIFTY!, side: 'BUY' as const, lots: 2, orderType: 'LIMIT' as const, price: 140 }; // ₹42,000

describe('approvals for large orders', () => {
  let tg: FakeTelegram;
  let app: App;
  let sim: SimLeader;
  const dbPath = tempDbPath();
  const env = () => ({
    TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN,
    TELEGRAM_API_ROOT: tg.apiRoot,
    TELEGRAM_ADMIN_IDS: `${ADMIN},${ADMIN2}`,
    TELEGRAM_VIEWER_IDS: String(VIEWER),
    APPROVAL_THRESHOLD_INR: '100000',
    APPROVAL_TIMEOUT_SECONDS: '60',
    DATABASE_PATH: dbPath,
  });
  const paperCount = async () => (await app.engine.followers.get('demo')!.broker.orders()).length;
  const request = (orderId: string, chat = ADMIN) => tg.waitForMessage(chat, new RegExp(`APPROVAL NEEDED[\\s\\S]*leader ${orderId}`));

  beforeAll(async () => {
    tg = await startFakeTelegram({ token: TEST_BOT_TOKEN });
    app = await startTestApp(env());
    sim = app.leader as SimLeader;
  });

  afterAll(async () => {
    await app.stop();
    await tg.close();
  });

  it('a small order does not wait', async () => {
    const before = await paperCount();
    const id = sim.place(SMALL);
    await tg.waitForMessage(ADMIN, new RegExp(`placed .* leader ${id}`));
    expect(await paperCount()).toBe(before + 1);
  });

  it('Approve wakes the copy; a second tap (by anyone) places nothing more and is told who decided', async () => {
    const before = await paperCount();
    const id = sim.place(BIG);
    const msg = await request(id);
    expect(msg.text).toContain('⚠ above ₹1,00,000');
    expect(msg.text).toContain('20 lots (1500)');
    await request(id, ADMIN2); // every admin gets the request
    expect(await paperCount()).toBe(before);
    const data = tg.buttonData(msg, 'Approve');
    expect(Buffer.byteLength(data)).toBeLessThan(64);
    tg.click(ADMIN, msg, data);
    tg.click(ADMIN2, msg, data);
    await tg.waitForMessage(ADMIN, new RegExp(`placed .* leader ${id}`));
    const second = await tg.waitFor((c) => c.method === 'answerCallbackQuery' && /Already approved by 111/.test(String(c.payload.text)));
    expect(second.payload.show_alert).toBe(true);
    await app.engine.idle();
    expect(await paperCount()).toBe(before + 1);
    const copies = app.store.copies.forLeaderOrder(id);
    expect(copies.map((c) => c.state)).toEqual(['open']);
    // Both admins' messages are edited: details kept, buttons gone, decision stamped.
    const edited = await tg.waitForMessage(ADMIN2, /Approved by 111/);
    expect(edited.text).toContain('APPROVAL NEEDED');
    expect(edited.reply_markup?.inline_keyboard ?? []).toEqual([]);
  });

  it('Reject places nothing', async () => {
    const before = await paperCount();
    const id = sim.place(BIG);
    const msg = await request(id);
    tg.click(ADMIN, msg, tg.buttonData(msg, 'Reject'));
    await tg.waitForMessage(ADMIN, /Rejected by 111/);
    await app.engine.idle();
    expect(await paperCount()).toBe(before);
    expect(app.store.copies.forLeaderOrder(id)[0]?.state).toBe('skipped');
  });

  it("a viewer's tap is refused and decides nothing", async () => {
    const id = sim.place(BIG);
    const msg = await request(id);
    tg.click(VIEWER, msg, tg.buttonData(msg, 'Approve'));
    await tg.waitFor((c) => c.method === 'answerCallbackQuery' && /Viewers cannot approve/.test(String(c.payload.text)));
    expect(app.store.approvals.pendingFor(id)).toHaveLength(1);
    tg.sendText(ADMIN, '/approvals');
    const list = await tg.waitForMessage(ADMIN, /Pending approvals/);
    expect(list.text).toMatch(/\d+ s left/);
  });

  it('a leader cancel voids the request; a later tap places nothing', async () => {
    const before = await paperCount();
    const id = sim.place(BIG);
    const msg = await request(id);
    sim.cancel(id);
    await tg.waitForMessage(ADMIN, new RegExp(`Voided at .*the leader order was cancelled`));
    tg.click(ADMIN, msg, tg.buttonData(msg, 'Approve'));
    await tg.waitFor((c) => c.method === 'answerCallbackQuery' && /Already void/.test(String(c.payload.text)));
    await app.engine.idle();
    expect(await paperCount()).toBe(before);
  });

  it('a restart voids what was pending, edits its message and says so in a new one', async () => {
    const id = sim.place(BIG);
    const msg: StoredMessage = await request(id);
    await app.stop();
    app = await startTestApp(env());
    sim = app.leader as SimLeader;
    await tg.waitForMessage(ADMIN, /Voided at .*tandem restarted before it was answered/);
    const edited = tg.messages(ADMIN).find((m) => m.message_id === msg.message_id);
    expect(edited?.text).toMatch(/Voided/);
    expect(app.store.approvals.pending()).toEqual([]);
    expect(await paperCount()).toBe(0); // a fresh paper account after the restart: nothing placed
  });
});

describe('approval by lots', () => {
  it('an entry above APPROVAL_LOTS_ABOVE waits even when its value is small; exits never wait', async () => {
    const tg = await startFakeTelegram({ token: TEST_BOT_TOKEN });
    const app = await startTestApp({ TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN, TELEGRAM_API_ROOT: tg.apiRoot, TELEGRAM_ADMIN_IDS: String(ADMIN), APPROVAL_LOTS_ABOVE: '5' });
    try {
      const sim = app.leader as SimLeader;
      const id = sim.place({ instrument: NIFTY!, side: 'BUY', lots: 6, orderType: 'LIMIT', price: 1 });
      const msg = await tg.waitForMessage(ADMIN, new RegExp(`APPROVAL NEEDED[\\s\\S]*leader ${id}`));
      expect(msg.text).toContain('above the 5-lot approval limit');
      tg.click(ADMIN, msg, tg.buttonData(msg, 'Approve'));
      await tg.waitForMessage(ADMIN, new RegExp(`placed .* leader ${id}`));
      sim.fill(id, 1);
      await tg.waitForMessage(ADMIN, /filled BUY 6 lots/);
      const exit = sim.place({ instrument: NIFTY!, side: 'SELL', lots: 6 });
      await tg.waitForMessage(ADMIN, new RegExp(`SELL 6 lots .* placed .* leader ${exit}`));
      expect(app.store.approvals.pendingFor(exit)).toEqual([]);
    } finally {
      await app.stop();
      await tg.close();
    }
  });
});

describe('approval expiry', () => {
  it('expires on a server-side timer: nothing placed, and a new message says so', async () => {
    const tg = await startFakeTelegram({ token: TEST_BOT_TOKEN });
    const app = await startTestApp({
      TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN,
      TELEGRAM_API_ROOT: tg.apiRoot,
      TELEGRAM_ADMIN_IDS: String(ADMIN),
      APPROVAL_THRESHOLD_INR: '100000',
      APPROVAL_TIMEOUT_SECONDS: '1',
    });
    try {
      const sim = app.leader as SimLeader;
      const id = sim.place(BIG);
      await tg.waitForMessage(ADMIN, new RegExp(`APPROVAL NEEDED[\\s\\S]*leader ${id}`));
      const sentBefore = tg.calls.filter((c) => c.method === 'sendMessage').length;
      const loud = await tg.waitForMessage(ADMIN, /^⏱ Expired at .* NOT copied/, 5000);
      expect(loud.text).toContain('Approval');
      expect(tg.calls.filter((c) => c.method === 'sendMessage').length).toBeGreaterThan(sentBefore);
      await app.engine.idle();
      expect(await app.engine.followers.get('demo')!.broker.orders()).toHaveLength(0);
      expect(app.store.copies.forLeaderOrder(id)[0]?.state).toBe('expired');
    } finally {
      await app.stop();
      await tg.close();
    }
  });
});
