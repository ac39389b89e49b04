/**
 * The control surface over the real bot and the fake Bot API: the kill switch stops exits too,
 * flatten needs both taps, long replies are split, /pnl sends a chart, every command answers a
 * bad argument with what is valid.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram.js';
import { SimLeader } from '../../src/brokers/sim/sim-leader.js';
import { SIM_UNIVERSE } from '../../src/brokers/sim/sim-universe.js';
import type { App } from '../../src/app.js';
import { TEST_BOT_TOKEN, startTestApp } from './harness.js';
import { until } from '../chaos/world.js';

const ADMIN = 111;
const VIEWER = 222;
const [NIFTY, , RELIANCE] = SIM_UNIVERSE;

describe('control surface', () => {
  let tg: FakeTelegram;
  let app: App;
  let sim: SimLeader;
  const paper = () => app.engine.followers.get('demo')!.broker;

  beforeAll(async () => {
    tg = await startFakeTelegram({ token: TEST_BOT_TOKEN });
    app = await startTestApp({ TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN, TELEGRAM_API_ROOT: tg.apiRoot, TELEGRAM_ADMIN_IDS: String(ADMIN), TELEGRAM_VIEWER_IDS: String(VIEWER) });
    sim = app.leader as SimLeader;
    await tg.waitFor((c) => c.method === 'getUpdates');
  });

  afterAll(async () => {
    await app.stop();
    await tg.close();
  });

  const copyOf = async (lots: number) => {
    const id = sim.place({ instrument: NIFTY, side: 'BUY', lots });
    sim.fill(id, 140);
    await tg.waitForMessage(ADMIN, new RegExp(`filled BUY .*leader|placed .* leader ${id}`));
    await app.engine.idle();
    return id;
  };

  it('every command answers a bad argument with what is valid', async () => {
    const cases: [string, RegExp][] = [
      ['/pause nobody', /Valid: all, demo/],
      ['/resume nobody', /Valid: all, demo/],
      ['/ratio demo -1', /greater than 0 and at most 10/],
      ['/ratio nobody 1', /Unknown follower “nobody”\. Valid: demo\./],
      ['/flatten', /Usage: \/flatten &lt;id\|all&gt;\. Valid: all, demo/],
      ['/flatten nobody', /Valid: all, demo/],
      ['/positions nobody', /Valid: demo/],
      ['/orders nobody', /Valid: demo/],
      ['/pnl month', /use \/pnl today or \/pnl week/],
      ['/errors lots', /send \/errors or \/errors &lt;1-50&gt;/],
      ['/nosuchcommand', /Unknown command \/nosuchcommand\. Send \/help/],
    ];
    for (const [text, expected] of cases) {
      tg.sendText(ADMIN, text);
      await tg.waitForMessage(ADMIN, expected);
    }
    tg.sendText(ADMIN, '/help');
    const help = await tg.waitForMessage(ADMIN, /tandem commands/);
    for (const c of ['/halt', '/flatten', '/positions', '/orders', '/pnl', '/health', '/errors', '/approvals', '/status']) expect(help.text).toContain(c);
  });

  it('/positions, /orders, /health and /pnl (with a PNG chart) answer with data', async () => {
    await copyOf(2);
    tg.sendText(ADMIN, '/positions');
    const pos = await tg.waitForMessage(ADMIN, /<b>demo<\/b>\n<pre>SYMBOL/);
    expect(pos.text).toContain('150');
    tg.sendText(ADMIN, '/orders demo');
    await tg.waitForMessage(ADMIN, /Today's copies/);
    tg.sendText(ADMIN, '/health');
    const health = await tg.waitForMessage(ADMIN, /<b>Health<\/b>/);
    expect(health.text).toMatch(/Alert queue: \d+/);
    expect(health.text).toMatch(/OURS p50/);
    tg.sendText(VIEWER, '/pnl');
    const photo = await tg.waitFor((c) => c.method === 'sendPhoto');
    expect(photo.contentType).toMatch(/multipart\/form-data/);
    expect(photo.bodyBytes).toBeGreaterThan(1000);
    expect(String(photo.payload.caption)).toMatch(/leader<\/b>: ₹/);
  });

  it('a reply longer than 4096 characters arrives split', async () => {
    for (let i = 0; i < 120; i++) sim.place({ instrument: RELIANCE, side: 'BUY', lots: 1 + (i % 5), orderType: 'LIMIT', price: 1000 });
    await until(() => app.control.copiesToday('demo').length >= 120, '120 copies');
    await app.engine.idle();
    const before = tg.calls.length;
    tg.sendText(ADMIN, '/orders');
    await tg.waitForMessage(ADMIN, /^\(cont\.\)/);
    const parts = tg.calls.slice(before).filter((c) => c.method === 'sendMessage' && c.payload.chat_id === ADMIN && /Today's copies|\(cont\.\)/.test(String(c.payload.text)));
    expect(parts.length).toBeGreaterThanOrEqual(2);
    for (const p of parts) expect(String(p.payload.text).length).toBeLessThanOrEqual(4096);
    expect(parts.map((p) => String(p.payload.text)).join('').length).toBeGreaterThan(4096);
  });

  it('/flatten needs both taps: the first only asks, the second closes', async () => {
    const before = (await paper().orders()).length;
    tg.sendText(ADMIN, '/flatten demo');
    const proposal = await tg.waitForMessage(ADMIN, /Flatten<\/b> demo/);
    tg.click(ADMIN, proposal, tg.buttonData(proposal, 'Flatten'));
    const confirm = await tg.waitForMessage(ADMIN, /Are you sure\?/);
    expect((await paper().orders()).length).toBe(before); // one tap placed nothing
    tg.click(VIEWER, confirm, tg.buttonData(confirm, 'Yes, flatten now'));
    await tg.waitFor((c) => c.method === 'answerCallbackQuery' && /Flatten needs the admin role/.test(String(c.payload.text)));
    tg.click(ADMIN, confirm, tg.buttonData(confirm, 'Yes, flatten now'));
    await tg.waitForMessage(ADMIN, /Flatten sent by 111/);
    await app.engine.idle();
    const orders = await paper().orders();
    expect(orders.length).toBe(before + 1);
    expect(orders.at(-1)).toMatchObject({ side: 'SELL', orderType: 'MARKET', quantity: 150 });
  });

  it('/notify: a group turned off is not sent, errors cannot be turned off, buttons set modes', async () => {
    tg.sendText(ADMIN, '/notify errors off');
    await tg.waitForMessage(ADMIN, /can be silenced but never turned off/);
    tg.sendText(ADMIN, '/notify placed off');
    const grid = await tg.waitForMessage(ADMIN, /<b>Your alerts<\/b>/);
    expect(grid.text).toMatch(/Copies placed\s+off/);
    const id = sim.place({ instrument: NIFTY, side: 'BUY', lots: 1 });
    sim.fill(id, 139);
    await tg.waitForMessage(ADMIN, new RegExp(`demo</b> filled BUY 1 lot`));
    await app.notifier.drained();
    expect(tg.messages(ADMIN).some((m) => new RegExp(`placed .* leader ${id}`).test(m.text ?? ''))).toBe(false);
    tg.click(ADMIN, grid, tg.buttonData(grid, 'placed on'));
    await tg.waitFor((c) => c.method === 'answerCallbackQuery' && c.payload.text === 'placed: on');
    expect(app.notifier.prefs.get(ADMIN).placed).toBe('on');
  });

  it('flatten reads positions again at the second tap: what the leader closed meanwhile is not sold twice', async () => {
    await copyOf(2);
    tg.sendText(ADMIN, '/flatten demo');
    const proposal = await tg.waitForMessage(ADMIN, /Flatten<\/b> demo/);
    tg.click(ADMIN, proposal, tg.buttonData(proposal, 'Flatten'));
    const confirm = await tg.waitForMessage(ADMIN, /Are you sure\?/);
    // The leader exits everything before the second tap; the follower mirrors it.
    const held = (await sim.positions()).find((p) => p.instrument.securityId === NIFTY!.securityId)?.netQty ?? 0;
    expect(held).toBeGreaterThan(0);
    const exit = sim.place({ instrument: NIFTY, side: 'SELL', lots: held / NIFTY!.lotSize });
    sim.fill(exit, 141);
    await tg.waitForMessage(ADMIN, new RegExp(`placed .* leader ${exit}`));
    await app.engine.idle();
    const before = (await paper().orders()).length;
    tg.click(ADMIN, confirm, tg.buttonData(confirm, 'Yes, flatten now'));
    await tg.waitForMessage(ADMIN, /Nothing left to flatten/);
    expect((await paper().orders()).length).toBe(before);
    expect((await paper().positions()).filter((p) => p.netQty !== 0)).toEqual([]);
  });

  it('/halt stops exits too, cancels open copies, and /resume all needs a confirm', async () => {
    await copyOf(2);
    const limit = sim.place({ instrument: RELIANCE, side: 'BUY', lots: 3, orderType: 'LIMIT', price: 900 });
    await tg.waitForMessage(ADMIN, new RegExp(`placed .* leader ${limit}`));
    tg.sendText(ADMIN, '/halt');
    const halted = await tg.waitForMessage(ADMIN, /HALTED<\/b> by 111/);
    expect(halted.text).toMatch(/leader exits are NOT mirrored/);
    expect(halted.text).toContain('LONG');
    expect(tg.buttonData(halted, 'Flatten all')).toBe('fl:all:0');
    await app.engine.idle();
    expect(app.store.copies.forLeaderOrder(limit)[0]?.state).toBe('cancelled');

    const before = (await paper().orders()).length;
    const exit = sim.place({ instrument: NIFTY, side: 'SELL', lots: 2 });
    sim.fill(exit, 141);
    await tg.waitForMessage(ADMIN, new RegExp(`EXIT NOT COPIED: SELL .*leader ${exit}.*halted`));
    expect((await paper().orders()).length).toBe(before);

    tg.sendText(ADMIN, '/resume all');
    const ask = await tg.waitForMessage(ADMIN, /The engine is halted/);
    expect(app.control.halted).toBe(true);
    tg.click(ADMIN, ask, tg.buttonData(ask, 'Yes, resume copying'));
    await tg.waitForMessage(ADMIN, /Halt lifted by 111/);
    expect(app.control.halted).toBe(false);
  });
});
