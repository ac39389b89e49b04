/** Fill alerts: one message per leader order (simulated leader, two paper followers), edited as each follower's fill arrives. */
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
    const msg = await tg.waitForMessage(ADMIN, new RegExp(`^📋 <b>Leader</b> BUY 2 lots \\(150\\) .* order ${id} · filled @ ₹140\\.00\\n✅ <b>mom</b> filled BUY 2 lots \\(150\\) .*\\n✅ <b>dad</b> filled BUY 1 lot \\(75\\) .*$`));
    for (const line of msg.text!.split('\n').slice(1)) expect(line).toMatch(/ @ ₹140\.00 · leader ₹140\.00 · slippage ₹0\.00 \(0%\)$/);
    await app.notifier.drained();
    // One message for the order: no separate placement or fill messages, and it was sent once.
    expect(tg.messages(ADMIN).filter((m) => (m.text ?? '').includes(id))).toHaveLength(1);
    expect(tg.calls.filter((c) => c.method === 'sendMessage' && String(c.payload.text).includes(id))).toHaveLength(1);
    // Edits make no sound: with fills on, the message sounds when it is sent, as the copies go out.
    const sent = tg.calls.find((c) => c.method === 'sendMessage' && String(c.payload.text).includes(id))!;
    expect(sent.payload.disable_notification).toBe(false);
  });
});
