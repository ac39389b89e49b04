/** Fill alerts: one message per leader order, edited as each follower's fill arrives. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram.js';
import { SimLeader } from '../../src/brokers/sim/sim-leader.js';
import { SIM_UNIVERSE } from '../../src/brokers/sim/sim-universe.js';
import type { App } from '../../src/app.js';
import { TEST_BOT_TOKEN, startTestApp } from './harness.js';

const ADMIN = 111;

describe('fill alerts', () => {
  let tg: FakeTelegram;
  let app: App;

  beforeAll(async () => {
    tg = await startFakeTelegram({ token: TEST_BOT_TOKEN });
    app = await startTestApp({
      TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN,
      TELEGRAM_API_ROOT: tg.apiRoot,
      TELEGRAM_ADMIN_IDS: String(ADMIN),
      LEADER_BROKER: 'sim',
      FOLLOWERS: 'mom,dad',
      FOLLOWER_MOM_BROKER: 'paper',
      FOLLOWER_DAD_BROKER: 'paper',
      FOLLOWER_DAD_RATIO: '0.5',
    });
  });

  afterAll(async () => {
    await app.stop();
    await tg.close();
  });

  it('two followers filling one leader order share one message, with leader price and slippage', async () => {
    const sim = app.leader as SimLeader;
    const id = sim.place({ instrument: SIM_UNIVERSE[0]!, side: 'BUY', lots: 2 });
    sim.fill(id, 140);
    const msg = await tg.waitForMessage(ADMIN, /Fills for leader order [\s\S]*mom<\/b> filled[\s\S]*dad<\/b> filled|Fills for leader order [\s\S]*dad<\/b> filled[\s\S]*mom<\/b> filled/);
    expect(msg.text).toContain('leader ₹140.00');
    expect(msg.text).toMatch(/slippage ₹0\.00 \(0%\)/);
    const fillMessages = tg.messages(ADMIN).filter((m) => /filled BUY/.test(m.text ?? ''));
    expect(fillMessages).toHaveLength(1);
  });
});
