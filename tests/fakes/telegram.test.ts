import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bot, GrammyError, InlineKeyboard, InputFile } from 'grammy';
import { autoRetry } from '@grammyjs/auto-retry';
import { startFakeTelegram, type FakeTelegram } from './telegram.js';

const TOKEN = '123:TEST';
const OWNER = 42;

describe('fake Telegram with a polling grammY bot', () => {
  let fake: FakeTelegram;
  let bot: Bot;
  let running: Promise<void>;
  const errors: unknown[] = [];

  beforeAll(async () => {
    fake = await startFakeTelegram({ token: TOKEN });
    bot = new Bot(TOKEN, { client: { apiRoot: fake.apiRoot } });
    bot.api.config.use(autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 5 }));
    bot.catch((err) => { errors.push(err); });
    bot.command('ping', (ctx) => ctx.reply('pong'));
    bot.command('menu', (ctx) => ctx.reply('<b>Menu</b>', {
      parse_mode: 'HTML',
      reply_markup: new InlineKeyboard().text('Pause', 'v1:pause').text('Resume', 'v1:resume'),
    }));
    bot.callbackQuery(/^v1:(\w+)$/, async (ctx) => {
      await ctx.answerCallbackQuery();
      await ctx.editMessageText(`Done: ${ctx.match[1] ?? '?'}`);
    });
    await new Promise<void>((resolve) => {
      running = bot.start({ timeout: 1, drop_pending_updates: true, onStart: () => resolve() });
    });
  });

  afterAll(async () => {
    if (bot.isRunning()) await bot.stop();
    await running;
    await fake.close();
  });

  it('answers /ping through a real long poll', async () => {
    expect(fake.calls.slice(0, 2).map((c) => c.method)).toEqual(['getMe', 'deleteWebhook']);
    fake.sendText(OWNER, '/ping');
    const msg = await fake.waitForMessage(OWNER, 'pong');
    expect(msg).toMatchObject({ chat: { id: OWNER }, from: { is_bot: true }, text: 'pong' });
    expect(errors).toEqual([]);
  });

  it('auto-retry resends a sendMessage that got 429 retry_after=1', async () => {
    fake.failNext('sendMessage', { error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } });
    const before = fake.calls.length;
    fake.sendText(OWNER, '/ping');
    await fake.waitFor((c) => fake.calls.indexOf(c) >= before && c.method === 'sendMessage' && c.response?.ok === true);
    const sends = fake.calls.slice(before).filter((c) => c.method === 'sendMessage');
    expect(sends.map((c) => c.response?.ok)).toEqual([false, true]);
    expect(sends[0]?.response).toMatchObject({ error_code: 429, parameters: { retry_after: 1 } });
    expect((sends[1]?.at ?? 0) - (sends[0]?.at ?? 0)).toBeGreaterThanOrEqual(900);
    expect(errors).toEqual([]);
  });

  it('clicks an inline button: answerCallbackQuery + editMessageText', async () => {
    fake.sendText(OWNER, '/menu');
    const menu = await fake.waitForMessage(OWNER, 'Menu');
    expect(menu.parse_mode).toBe('HTML');
    fake.click(OWNER, menu, fake.buttonData(menu, 'Pause'));
    const edited = await fake.waitForMessage(OWNER, 'Done: pause');
    expect(edited.message_id).toBe(menu.message_id);
    expect(edited.reply_markup).toBeUndefined();
    expect(fake.calls.some((c) => c.method === 'answerCallbackQuery' && c.response?.ok === true)).toBe(true);
    expect(() => fake.buttonData(menu, 'Nope')).toThrow(/Pause/);
  });

  it('bot.stop() confirms the offset with limit 1', async () => {
    await bot.stop();
    await running;
    const polls = fake.calls.filter((c) => c.method === 'getUpdates');
    const last = polls.at(-1);
    expect(last?.payload).toMatchObject({ limit: 1 });
    expect(fake.pendingUpdates()).toBe(0);
  });
});

describe('fake Telegram API validation (direct bot.api calls)', () => {
  let fake: FakeTelegram;
  let bot: Bot;
  beforeAll(async () => {
    fake = await startFakeTelegram({ token: TOKEN });
    bot = new Bot(TOKEN, { client: { apiRoot: fake.apiRoot } });
  });
  afterAll(async () => { await fake.close(); });

  const rejects = async (p: Promise<unknown>, code: number, description: RegExp): Promise<void> => {
    const err = await p.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(GrammyError);
    expect((err as GrammyError).error_code).toBe(code);
    expect((err as GrammyError).description).toMatch(description);
  };

  it('validates text, HTML and edits like Telegram', async () => {
    await rejects(bot.api.sendMessage(OWNER, 'x'.repeat(4097)), 400, /message is too long/);
    await rejects(bot.api.sendMessage(OWNER, ' '), 400, /message text is empty/);
    await rejects(bot.api.sendMessage(OWNER, '<b>bold<i>x</b></i>', { parse_mode: 'HTML' }), 400, /^Bad Request: can't parse entities: Unmatched end tag/);
    await rejects(bot.api.sendMessage(OWNER, 'price < 5', { parse_mode: 'HTML' }), 400, /can't parse entities/);
    await rejects(bot.api.sendMessage(OWNER, '<b>open', { parse_mode: 'HTML' }), 400, /Can't find end tag/);
    const html = `<b>${'y'.repeat(4096)}</b>`; // tags don't count towards the limit
    await bot.api.sendMessage(OWNER, html, { parse_mode: 'HTML' });

    const kb = new InlineKeyboard().text('A', 'a');
    const m = await bot.api.sendMessage(OWNER, 'hello', { reply_markup: kb });
    await rejects(bot.api.editMessageText(OWNER, m.message_id, 'hello', { reply_markup: kb }), 400, /message is not modified/);
    await rejects(bot.api.editMessageText(OWNER, 9999, 'x'), 400, /message to edit not found/);
    await bot.api.editMessageReplyMarkup(OWNER, m.message_id, { reply_markup: new InlineKeyboard().text('B', 'b') });
    expect(fake.messages(OWNER).at(-1)?.reply_markup?.inline_keyboard?.[0]?.[0]?.text).toBe('B');
    await rejects(bot.api.sendMessage(OWNER, 'x', { reply_markup: new InlineKeyboard().text('L', 'z'.repeat(65)) }), 400, /BUTTON_DATA_INVALID/);
    await bot.api.deleteMessage(OWNER, m.message_id);
    expect(fake.messages(OWNER).map((x) => x.message_id)).not.toContain(m.message_id);
  });

  it('commands per scope, photos, unknown methods, faults and bad tokens', async () => {
    const scope = { type: 'chat' as const, chat_id: OWNER };
    await bot.api.setMyCommands([{ command: 'status', description: 'Show status' }], { scope });
    expect(await bot.api.getMyCommands({ scope })).toEqual([{ command: 'status', description: 'Show status' }]);
    expect(await bot.api.getMyCommands()).toEqual([]);
    expect(fake.commands(scope)).toHaveLength(1);

    const photo = await bot.api.sendPhoto(OWNER, new InputFile(Buffer.from('fakepng'), 'chart.png'), { caption: 'P&L chart' });
    expect(photo.photo?.length).toBeGreaterThan(0);
    const photoCall = fake.calls.find((c) => c.method === 'sendPhoto');
    expect(photoCall?.contentType).toMatch(/^multipart\/form-data/);
    expect(photoCall?.payload).toMatchObject({ chat_id: String(OWNER), caption: 'P&L chart' });
    expect(fake.messages(OWNER).at(-1)?.caption).toBe('P&L chart');

    await rejects(bot.api.raw.getChat({ chat_id: OWNER }), 404, /method not found/);
    fake.failNext('sendChatAction', { error_code: 403, description: 'Forbidden: bot was blocked by the user' }, 2);
    await rejects(bot.api.sendChatAction(OWNER, 'typing'), 403, /blocked/);
    await rejects(bot.api.sendChatAction(OWNER, 'typing'), 403, /blocked/);
    expect(await bot.api.sendChatAction(OWNER, 'typing')).toBe(true);

    const stranger = new Bot('999:WRONG', { client: { apiRoot: fake.apiRoot } });
    await rejects(stranger.api.getMe(), 401, /Unauthorized/);
    await expect(fake.waitFor((c) => c.method === 'neverCalled', 50)).rejects.toThrow(/Timed out after 50ms.*\n.*sendChatAction/s);
  });

  it('a newer getUpdates terminates an older pending one with 409', async () => {
    fake.reset();
    const first = bot.api.getUpdates({ timeout: 5 });
    await fake.waitFor((c) => c.method === 'getUpdates');
    const second = bot.api.getUpdates({ timeout: 5 });
    await rejects(first, 409, /Conflict: terminated by other getUpdates request/);
    fake.sendText(OWNER, 'hi');
    const updates = await second;
    expect(updates.map((u) => u.message?.text)).toEqual(['hi']);
  });
});
