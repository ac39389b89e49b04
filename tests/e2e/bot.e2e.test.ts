/**
 * The real grammY bot long-polls a fake Bot API over HTTP; the real engine copies the simulated
 * leader into a paper follower. Assertions are on what the fake Telegram and the paper broker saw.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram.js';
import { SimLeader } from '../../src/brokers/sim/sim-leader.js';
import { SIM_UNIVERSE } from '../../src/brokers/sim/sim-universe.js';
import type { App } from '../../src/app.js';
import { TEST_BOT_TOKEN, startTestApp } from './harness.js';

const ADMIN = 111;
const VIEWER = 222;
const STRANGER = 333;
const [NIFTY] = SIM_UNIVERSE;

describe('bot end to end over HTTP (paper follower, simulated leader)', () => {
  let tg: FakeTelegram;
  let app: App & { logLines: string[] };
  let sim: SimLeader;

  const paperOrders = async () => (await app.engine.followers.get('demo')!.broker.orders());

  beforeAll(async () => {
    tg = await startFakeTelegram({ token: TEST_BOT_TOKEN });
    app = await startTestApp({
      TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN,
      TELEGRAM_API_ROOT: tg.apiRoot,
      TELEGRAM_ADMIN_IDS: String(ADMIN),
      TELEGRAM_VIEWER_IDS: String(VIEWER),
    });
    expect(app.leader).toBeInstanceOf(SimLeader);
    sim = app.leader as SimLeader;
    await tg.waitFor((c) => c.method === 'getUpdates');
  });

  afterAll(async () => {
    await app.stop();
    await tg.close();
  });

  it('registers the command menus by role, none for strangers', async () => {
    const admin = tg.commands({ type: 'chat', chat_id: ADMIN }).map((c) => c.command);
    const viewer = tg.commands({ type: 'chat', chat_id: VIEWER }).map((c) => c.command);
    expect(admin).toEqual(expect.arrayContaining(['status', 'pause', 'resume', 'ratio', 'help']));
    expect(viewer).toContain('status');
    expect(viewer).not.toContain('pause');
    expect(tg.commands()).toEqual([]);
  });

  it('/status answers the admin with the engine, leader and follower lines, despite one 429', async () => {
    tg.failNext('sendMessage', { error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } });
    tg.sendText(ADMIN, '/status');
    const msg = await tg.waitForMessage(ADMIN, /Engine: .*RUNNING/, 10_000);
    expect(msg.text).toContain('demo');
    expect(msg.text).toContain('PAPER');
    const sends = tg.calls.filter((c) => c.method === 'sendMessage' && c.payload.chat_id === ADMIN && String(c.payload.text).includes('Engine:'));
    expect(sends.length).toBe(2); // the 429 and the retry
    expect(tg.buttonData(msg, 'Refresh')).toBe('st:r');
  });

  it('/pause: the next leader entry is not copied, and says why', async () => {
    tg.sendText(ADMIN, '/pause');
    await tg.waitForMessage(ADMIN, /Paused entries for <b>ALL followers<\/b>/);
    const before = (await paperOrders()).length;
    const orderId = sim.place({ instrument: NIFTY, side: 'BUY', lots: 2 });
    await tg.waitForMessage(ADMIN, new RegExp(`skipped BUY .*leader ${orderId}.*paused`));
    expect((await paperOrders()).length).toBe(before);
    const copies = app.store.copies.forLeaderOrder(orderId);
    expect(copies.map((c) => c.state)).toEqual(['skipped']);
  });

  it('/resume lists what was skipped, and copying starts again', async () => {
    tg.sendText(ADMIN, '/resume');
    const msg = await tg.waitForMessage(ADMIN, /Resumed entries/);
    expect(msg.text).toMatch(/<b>not<\/b> be back-filled/);
    expect(msg.text).toContain('NIFTY');
    const before = (await paperOrders()).length;
    const orderId = sim.place({ instrument: NIFTY, side: 'BUY', lots: 2 });
    await tg.waitForMessage(ADMIN, new RegExp(`demo</b> BUY 2 lots \\(150\\) .* placed .* leader ${orderId}`));
    const orders = await paperOrders();
    expect(orders.length).toBe(before + 1);
    expect(orders.at(-1)?.quantity).toBe(150);
  });

  it('/ratio 0.5 halves the next copy; the reply shows old → new with an example', async () => {
    tg.sendText(ADMIN, '/ratio 0.5');
    const reply = await tg.waitForMessage(ADMIN, /Ratio for <b>demo<\/b>/);
    expect(reply.text).toMatch(/×1 → ×0\.5/);
    expect(reply.text).toMatch(/Example: leader 4 lots → 2 lot/);
    const orderId = sim.place({ instrument: NIFTY, side: 'BUY', lots: 4 });
    await tg.waitForMessage(ADMIN, new RegExp(`placed .* leader ${orderId}`));
    const copy = app.store.copies.forLeaderOrder(orderId)[0];
    expect(copy?.plannedQty).toBe(150);
    expect((await paperOrders()).at(-1)?.quantity).toBe(150);
  });

  it('/ratio that more than doubles asks first; the change applies only after the tap', async () => {
    tg.sendText(ADMIN, '/ratio 2');
    const ask = await tg.waitForMessage(ADMIN, /more than doubles/);
    expect(app.control.ratioOf('demo')).toBe(0.5);
    tg.click(ADMIN, ask, tg.buttonData(ask, 'Yes, set ×2'));
    await tg.waitForMessage(ADMIN, /Ratio for <b>demo<\/b>: ×0\.5 → ×2\./);
    expect(app.control.ratioOf('demo')).toBe(2);
    tg.sendText(ADMIN, '/ratio 0.5');
    await tg.waitForMessage(ADMIN, /×2 → ×0\.5\./);
  });

  it('/ratio abc and /ratio 11 get a reply saying what is valid, and change nothing', async () => {
    tg.sendText(ADMIN, '/ratio abc');
    const bad = await tg.waitForMessage(ADMIN, /“abc” is not a valid ratio/);
    expect(bad.text).toMatch(/greater than 0 and at most 10/);
    tg.sendText(ADMIN, '/ratio 11');
    await tg.waitForMessage(ADMIN, /“11” is not a valid ratio/);
    tg.sendText(ADMIN, '/pause nobody');
    const unknown = await tg.waitForMessage(ADMIN, /Unknown follower “nobody”/);
    expect(unknown.text).toContain('Valid: all, demo');
    expect(app.control.ratioOf('demo')).toBe(0.5);
  });

  it('a stranger changes nothing and learns nothing; /whoami tells anyone their ids only', async () => {
    const callsBefore = tg.calls.length;
    tg.sendText(STRANGER, '/pause');
    tg.sendText(STRANGER, '/status');
    tg.sendText(STRANGER, '/ratio demo 5');
    tg.sendText(STRANGER, '/whoami');
    const who = await tg.waitForMessage(STRANGER, /Your user id/);
    expect(who.text).toContain(String(STRANGER));
    // The button a stranger forges is refused with the same check as commands.
    const status = tg.messages(ADMIN).find((m) => m.text?.includes('Engine:'));
    expect(status).toBeDefined();
    tg.click(STRANGER, status!, 'st:p');
    await tg.waitFor((c) => c.method === 'answerCallbackQuery' && c.payload.text === 'Not authorised');
    const toStranger = tg.calls.slice(callsBefore).filter((c) => c.method === 'sendMessage' && c.payload.chat_id === STRANGER);
    expect(toStranger).toHaveLength(1); // only the /whoami answer
    expect(String(toStranger[0]?.payload.text)).not.toMatch(/demo|paper|Engine|ratio/i);
    expect(app.control.status().pausedAll).toBeNull();
    expect(app.control.ratioOf('demo')).toBe(0.5);
    expect(app.logLines.some((l) => l.includes('unauthorised sender'))).toBe(true);
    const audit = app.store.audit.recent(50);
    expect(audit.some((a) => a.actorId === STRANGER)).toBe(false);
  });

  it('a viewer can read /status but not pause', async () => {
    tg.sendText(VIEWER, '/status');
    await tg.waitForMessage(VIEWER, /Engine:/);
    tg.sendText(VIEWER, '/pause');
    await tg.waitForMessage(VIEWER, /needs the admin role/);
    expect(app.control.status().pausedAll).toBeNull();
  });

  it("a viewer's /token is refused and its message, which carries a secret, is deleted like an admin's", async () => {
    const secret = 'eyJviewer.pasted.this';
    const sent = tg.sendText(VIEWER, `/token demo ${secret}`);
    await tg.waitFor((c) => c.method === 'deleteMessage' && c.payload.chat_id === VIEWER && c.payload.message_id === sent.message_id);
    const reply = await tg.waitForMessage(VIEWER, /\/token needs the admin role/);
    expect(reply.text).toContain('Your message with the token was deleted');
    expect(tg.messages(VIEWER).some((m) => (m.text ?? '').includes(secret))).toBe(false);
    const audit = app.store.audit.recent(20).find((a) => a.action === '/token' && a.actorId === VIEWER);
    expect(audit?.args).toBe('demo [redacted]');
    expect(audit?.outcome).toBe('denied: viewer');
    // A refused command with no secret deletes nothing.
    const before = tg.calls.filter((c) => c.method === 'deleteMessage').length;
    tg.sendText(VIEWER, '/token demo');
    await tg.waitFor((c) => c.method === 'sendMessage' && c.payload.chat_id === VIEWER && c.response?.ok === true && !String(c.payload.text).includes('deleted') && String(c.payload.text).includes('/token needs'));
    expect(tg.calls.filter((c) => c.method === 'deleteMessage').length).toBe(before);
  });

  it('the status buttons: Pause all by an admin pauses, and the message is edited in place', async () => {
    tg.sendText(ADMIN, '/status');
    const msg = await tg.waitForMessage(ADMIN, /Engine: ▶️ RUNNING/);
    tg.click(ADMIN, msg, tg.buttonData(msg, 'Pause all'));
    await tg.waitFor((c) => c.method === 'editMessageText' && String(c.payload.text).includes('PAUSED'));
    expect(app.control.status().pausedAll?.by).toBe(ADMIN);
    const audit = app.store.audit.recent(5);
    expect(audit.some((a) => a.action === 'button status' && a.actorId === ADMIN)).toBe(true);
  });
});
