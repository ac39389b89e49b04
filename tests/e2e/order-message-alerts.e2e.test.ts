/**
 * One message per leader order: a Dhan leader copied to three Dhan followers (the real adapters
 * against the fake Dhan), the real bot against the fake Bot API with Telegram's edit flood limit
 * on. Counts are of the calls the fake Telegram saw.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDhan, type FakeDhan } from '../fakes/dhan.js';
import { startFakeTelegram, type ApiCall, type FakeTelegram } from '../fakes/telegram.js';
import type { App } from '../../src/app.js';
import { dhanAccountEnv, dhanEndpointsEnv, startTestApp, tempDbPath, TEST_BOT_TOKEN } from './harness.js';

const ADMIN = 111;
/** A second admin: alerts go to every admin chat, each with its own message per leader order. */
const ADMIN2 = 112;
const LEADER = '1100000011';
const FOLLOWERS = { f1: '1100000012', f2: '1100000013', f3: '1100000014' } as const;
const NIFTY_CE = '61345'; // NIFTY 26000 CE, lot 75, in the fake's scrip master
/** Telegram answers 429 to an edit of one message sooner than this after the last one (a little under 1 s: clocks differ). */
const EDIT_FLOOD_MS = 900;

async function start(dhan: FakeDhan, tg: FakeTelegram, dbPath = tempDbPath()): Promise<App & { logLines: string[] }> {
  const app = await startTestApp({
    TRADING_MODE: 'live',
    DATABASE_PATH: dbPath,
    TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN,
    TELEGRAM_API_ROOT: tg.apiRoot,
    TELEGRAM_ADMIN_IDS: `${ADMIN},${ADMIN2}`,
    ...dhanAccountEnv('LEADER_', LEADER, dhan.token(LEADER)),
    FOLLOWERS: 'f1,f2,f3',
    ...dhanAccountEnv('FOLLOWER_F1_', FOLLOWERS.f1, dhan.token(FOLLOWERS.f1)),
    ...dhanAccountEnv('FOLLOWER_F2_', FOLLOWERS.f2, dhan.token(FOLLOWERS.f2)),
    FOLLOWER_F2_RATIO: '0.5',
    ...dhanAccountEnv('FOLLOWER_F3_', FOLLOWERS.f3, dhan.token(FOLLOWERS.f3)),
    ...dhanEndpointsEnv(dhan),
  });
  for (const id of [LEADER, ...Object.values(FOLLOWERS)]) await dhan.waitForLogin(id, { ok: true });
  return app;
}

describe('one message per leader order', () => {
  let dhan: FakeDhan;
  let tg: FakeTelegram;
  let app: App & { logLines: string[] };

  beforeAll(async () => {
    dhan = await startFakeDhan();
    tg = await startFakeTelegram({ token: TEST_BOT_TOKEN, editFloodMs: EDIT_FLOOD_MS });
    for (const id of [LEADER, ...Object.values(FOLLOWERS)]) dhan.addAccount(id);
    app = await start(dhan, tg);
  });

  afterAll(async () => {
    await app.stop();
    await Promise.all([dhan.close(), tg.close()]);
  });

  /** A leader BUY of 2 lots: waits until its message shows all three copies placed. */
  const leaderBuys = async (price: number) => {
    const o = dhan.placeAsUser(LEADER, { securityId: NIFTY_CE, exchangeSegment: 'NSE_FNO', transactionType: 'BUY', quantity: 150, orderType: 'LIMIT', productType: 'MARGIN', price });
    const allPlaced = new RegExp(`^📋 .*order ${o.orderId}(\\n⏳ .* placed .*){3}$`);
    const msg = await tg.waitForMessage(ADMIN, allPlaced);
    await tg.waitForMessage(ADMIN2, allPlaced);
    await app.engine.idle();
    await app.notifier.drained();
    const copies = Object.fromEntries(app.store.copies.forLeaderOrder(o.orderId).map((c) => [c.followerId, c.followerOrderId!]));
    return { id: o.orderId, msg, copies };
  };
  const sendsFor = (leaderId: string, chat = ADMIN) =>
    tg.calls.filter((c) => c.method === 'sendMessage' && c.payload.chat_id === chat && String(c.payload.text).includes(`order ${leaderId}`) && String(c.payload.text).startsWith('📋'));
  const editsOf = (messageId: number, chat = ADMIN) => tg.calls.filter((c) => c.method === 'editMessageText' && c.payload.chat_id === chat && c.payload.message_id === messageId);
  const orderMessages = (leaderId: string) => tg.messages(ADMIN).filter((m) => (m.text ?? '').startsWith('📋') && (m.text ?? '').includes(`order ${leaderId}`));
  const waitLines = (leaderId: string, re: string) => tg.waitForMessage(ADMIN, new RegExp(`^📋 .*order ${leaderId}[^\\n]*\\n${re}$`), 8000);

  it('three followers: one message, sent when the copies go out and edited until every line is filled; edits at most one a second', async () => {
    const { id, msg, copies } = await leaderBuys(120.5);
    dhan.fill(id, { price: 120.5 });
    dhan.fill(copies.f1!, { price: 120.45 });
    dhan.fill(copies.f2!, { price: 120.55 });
    dhan.fill(copies.f3!, { price: 120.5 });
    const done = await waitLines(id, '✅ <b>f1</b>.*\\n✅ <b>f2</b>.*\\n✅ <b>f3</b>.*');
    await app.notifier.drained();
    const text = tg.messages(ADMIN).find((m) => m.message_id === msg.message_id)!.text!;
    expect(done.message_id).toBe(msg.message_id);
    const lines = text.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(new RegExp(`^📋 <b>Leader</b> BUY 2 lots \\(150\\) NIFTY.* LIMIT ₹120\\.50 · order ${id} · filled @ ₹120\\.50$`));
    expect(lines[1]).toMatch(/^✅ <b>f1<\/b> filled BUY 2 lots \(150\) NIFTY.* @ ₹120\.45 · leader ₹120\.50 · slippage -₹0\.05 \(-0\.04%\)$/);
    expect(lines[2]).toMatch(/^✅ <b>f2<\/b> filled BUY 1 lot \(75\) NIFTY.* @ ₹120\.55 · leader ₹120\.50 · slippage ₹0\.05 \(0\.04%\)$/);
    expect(lines[3]).toMatch(/^✅ <b>f3<\/b> filled BUY 2 lots \(150\) NIFTY.* @ ₹120\.50 · leader ₹120\.50 · slippage ₹0\.00 \(0%\)$/);

    // One send; the edits that followed were coalesced (three placements and four fills, fewer edits) and never refused for flooding.
    expect(sendsFor(id)).toHaveLength(1);
    const edits = editsOf(msg.message_id);
    expect(edits.length).toBeGreaterThanOrEqual(1);
    expect(edits.length).toBeLessThan(6);
    expect(edits.every((c) => c.response?.ok)).toBe(true);
    // No separate message per placement or fill.
    expect(tg.messages(ADMIN).filter((m) => new RegExp(`leader ${id}|order ${id}`).test(m.text ?? ''))).toHaveLength(1);
    // The other admin has its own one message, edited to the same final text.
    const other = tg.messages(ADMIN2).filter((m) => new RegExp(`leader ${id}|order ${id}`).test(m.text ?? ''));
    expect(other.map((m) => m.text)).toEqual([text]);
    expect(sendsFor(id, ADMIN2)).toHaveLength(1);
    expect(editsOf(other[0]!.message_id, ADMIN2).every((c) => c.response?.ok)).toBe(true);
  });

  it('a rejection is a line of the message and also its own message (which notifies)', async () => {
    const { id, msg, copies } = await leaderBuys(121);
    dhan.reject(copies.f3!, 'RMS:Margin Exceeds');
    const loud = await tg.waitForMessage(ADMIN, new RegExp(`f3</b> BUY 2 lots \\(150\\) .* REJECTED: RMS:Margin Exceeds \\(leader ${id}\\)`));
    expect(loud.message_id).not.toBe(msg.message_id);
    const sent = tg.calls.find((c) => c.method === 'sendMessage' && String(c.payload.text).includes('REJECTED: RMS:Margin Exceeds'));
    expect(sent?.payload.disable_notification).toBe(false);
    const grouped = await waitLines(id, '⏳ <b>f1</b>.*\\n⏳ <b>f2</b>.*\\n❌ <b>f3</b> BUY 2 lots \\(150\\) .* rejected: RMS:Margin Exceeds');
    expect(grouped.message_id).toBe(msg.message_id);
    expect(sendsFor(id)).toHaveLength(1);
  });

  it("a 429 on an edit: the edit waits retry_after and the latest text follows", async () => {
    const { id, msg, copies } = await leaderBuys(122);
    const from = tg.calls.length;
    tg.failNext('editMessageText', { error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } });
    dhan.fill(copies.f1!, { price: 122 });
    await waitLines(id, '✅ <b>f1</b>.*\\n⏳ <b>f2</b>.*\\n⏳ <b>f3</b>.*');
    // The 429 met the first edit, whichever admin's it was; that chat's next edit came after retry_after.
    const isEdit = (c: ApiCall) => c.method === 'editMessageText' && tg.calls.indexOf(c) >= from;
    const refused = await tg.waitFor((c) => isEdit(c) && c.response?.ok === false);
    expect(refused.response).toMatchObject({ ok: false, error_code: 429, parameters: { retry_after: 1 } });
    const same = (c: ApiCall) => c.payload.chat_id === refused.payload.chat_id && c.payload.message_id === refused.payload.message_id;
    const retried = await tg.waitFor((c) => isEdit(c) && same(c) && c.response?.ok === true);
    expect(retried.at - refused.at).toBeGreaterThanOrEqual(950);
    expect(String(retried.payload.text)).toMatch(/✅ <b>f1<\/b>/);
    expect(sendsFor(id)).toHaveLength(1);
  });

  it('a message the user deleted is replaced by a new one with every line; later edits go to the new one', async () => {
    const { id, msg, copies } = await leaderBuys(123);
    tg.deleteMessage(ADMIN, msg.message_id);
    dhan.fill(copies.f1!, { price: 123 });
    const fresh = await waitLines(id, '✅ <b>f1</b>.*\\n⏳ <b>f2</b>.*\\n⏳ <b>f3</b>.*');
    expect(fresh.message_id).not.toBe(msg.message_id);
    expect(editsOf(msg.message_id).at(-1)?.response).toMatchObject({ ok: false, description: 'Bad Request: message to edit not found' });
    expect(sendsFor(id)).toHaveLength(2);
    dhan.fill(copies.f2!, { price: 123 });
    await waitLines(id, '✅ <b>f1</b>.*\\n✅ <b>f2</b>.*\\n⏳ <b>f3</b>.*');
    expect(editsOf(fresh.message_id).some((c) => c.response?.ok)).toBe(true);
    expect(orderMessages(id)).toHaveLength(1);
  });

  it("a message Telegram will no longer edit (older than 48 h) is replaced by a new one", async () => {
    const { id, msg, copies } = await leaderBuys(124);
    tg.ageMessage(ADMIN, msg.message_id, 49 * 3600);
    dhan.fill(copies.f3!, { price: 124 });
    const fresh = await waitLines(id, '⏳ <b>f1</b>.*\\n⏳ <b>f2</b>.*\\n✅ <b>f3</b>.*');
    expect(fresh.message_id).not.toBe(msg.message_id);
    expect(editsOf(msg.message_id).at(-1)?.response).toMatchObject({ ok: false, description: "Bad Request: message can't be edited" });
    // The old message stays as it was; the new one carries on.
    expect(orderMessages(id).map((m) => m.message_id)).toEqual([msg.message_id, fresh.message_id]);
  });

  it('after a restart, a fill edits the message sent before it', async () => {
    const { id, msg, copies } = await leaderBuys(125);
    const dbPath = app.cfg.databasePath;
    await app.stop();
    const before: ApiCall[] = [...tg.calls];
    app = await start(dhan, tg, dbPath);
    dhan.fill(copies.f2!, { price: 125 });
    const after = await waitLines(id, '⏳ <b>f1</b>.*\\n✅ <b>f2</b>.*\\n⏳ <b>f3</b>.*');
    expect(after.message_id).toBe(msg.message_id);
    expect(tg.calls.filter((c) => !before.includes(c) && c.method === 'sendMessage' && String(c.payload.text).includes(`order ${id}`))).toEqual([]);
  });
});
