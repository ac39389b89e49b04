/**
 * The day summary carries the day chart: the 'daily-chart' job (scheduled at the summary's time)
 * sends today's /pnl picture to the admin chat over the real bot and the fake Bot API, and follows
 * the chat's /notify setting for summaries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram.js';
import { SimLeader } from '../../src/brokers/sim/sim-leader.js';
import { SIM_UNIVERSE } from '../../src/brokers/sim/sim-universe.js';
import type { App } from '../../src/app.js';
import { ManualClock } from '../../src/infra/clock.js';
import { TEST_BOT_TOKEN, startTestApp } from './harness.js';
import { until } from '../chaos/world.js';

const ADMIN = 111;
const [NIFTY] = SIM_UNIVERSE;
const IST = 5.5 * 3600_000;
/** Monday 30 Nov 2026, 15:40 IST (a trading day); the Saturday after. */
const MON_1540 = Date.UTC(2026, 10, 30, 15, 40) - IST;
const SAT_1545 = Date.UTC(2026, 11, 5, 15, 45) - IST;

describe('day summary chart', () => {
  let tg: FakeTelegram;
  let app: App;
  const clock = new ManualClock(MON_1540);

  beforeAll(async () => {
    tg = await startFakeTelegram({ token: TEST_BOT_TOKEN });
    app = await startTestApp({ TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN, TELEGRAM_API_ROOT: tg.apiRoot, TELEGRAM_ADMIN_IDS: String(ADMIN) }, { clock, jobs: { schedule: false, startupCheck: false } });
    await tg.waitFor((c) => c.method === 'getUpdates');
  });

  afterAll(async () => {
    await app.stop();
    await tg.close();
  });

  const photos = () => tg.calls.filter((c) => c.method === 'sendPhoto');

  it('is sent to the admin chat at the summary time, with the totals in the caption', async () => {
    const sim = app.leader as SimLeader;
    const id = sim.place({ instrument: NIFTY!, side: 'BUY', lots: 1 });
    sim.fill(id, 140);
    await until(() => app.control.pnl(0).some((r) => r.account === 'demo' && r.series.length > 0), 'the copy filled');
    expect(app.jobs.list().map((j) => j.name)).toContain('daily-chart');
    clock.set(MON_1540 + 5 * 60_000);
    await app.jobs.run('daily-chart');
    const photo = await tg.waitFor((c) => c.method === 'sendPhoto');
    expect(String(photo.payload.chat_id)).toBe(String(ADMIN));
    expect(photo.bodyBytes).toBeGreaterThan(20_000);
    expect(String(photo.payload.caption)).toMatch(/^📈 <b>P&L<\/b> · Mon 30 Nov 2026/);
    expect(String(photo.payload.caption)).toMatch(/<b>leader<\/b>: -?₹[\d,]+\.\d\d\n<b>demo<\/b>: -?₹/);
  });

  it('is not sent on a weekend or holiday, nor to a chat that turned summaries off', async () => {
    const before = photos().length;
    clock.set(SAT_1545);
    await app.jobs.run('daily-chart');
    expect(photos().length).toBe(before);
    clock.set(MON_1540 + 5 * 60_000);
    tg.sendText(ADMIN, '/notify other off');
    await tg.waitForMessage(ADMIN, /Your alerts/);
    await app.jobs.run('daily-chart');
    expect(photos().length).toBe(before);
  });
});
