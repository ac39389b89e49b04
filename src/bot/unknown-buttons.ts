/**
 * The two buttons under an `unknown` alert (a placement whose outcome tandem could not learn):
 * *It is there* reads the follower's book and adopts the order if its tag is in it; *Send it*
 * asks to confirm, and the second tap places the copy once more with the same tag. Admins only,
 * checked here like every other button (the auth gate has run first); every tap is audited.
 */
import { InlineKeyboard, type Bot } from 'grammy';
import { istTime } from '../domain/time.js';
import type { BotContext } from './auth.js';
import type { CommandDeps } from './commands.js';
import { unknownKeyboard, unknownText } from './alerts.js';
import { escapeHtml } from './format.js';
import { describeCopy } from './views.js';

type Audit = (ctx: BotContext, action: string, args: string, outcome: string) => void;

const ACTION = 'button unknown-outcome';

export function registerUnknownOutcomeCallbacks(bot: Bot<BotContext>, d: CommandDeps, audit: Audit): void {
  bot.callbackQuery(/^uo:(\d{1,12}):([asyn])$/, async (ctx) => {
    const [, raw = '', step = ''] = ctx.match;
    const id = Number(raw);
    const args = `${id} ${step}`;
    if (ctx.role !== 'admin') {
      await ctx.answerCallbackQuery({ text: 'Only an admin can settle an order in doubt.', show_alert: true });
      audit(ctx, ACTION, args, 'denied: viewer');
      return;
    }
    const copy = d.store.copies.get(id);
    if (!copy) {
      await ctx.answerCallbackQuery({ text: 'No such copy.', show_alert: true });
      audit(ctx, ACTION, args, 'no such copy');
      return;
    }
    const edit = (extra: string, markup?: InlineKeyboard) =>
      ctx.editMessageText(`${unknownText(copy)}${extra ? `\n\n${extra}` : ''}`, { parse_mode: 'HTML', ...(markup ? { reply_markup: markup } : {}) }).catch(() => {});
    const at = () => `${istTime(d.clock.now())} IST`;
    const who = escapeHtml(copy.followerId);

    if (step !== 'a' && step !== 'y' && copy.state !== 'unknown') {
      await ctx.answerCallbackQuery({ text: `Already settled: this copy is ${copy.state}.`, show_alert: true });
      await edit(`Settled: the copy is ${copy.state}.`);
      audit(ctx, ACTION, args, `settled: ${copy.state}`);
      return;
    }

    if (step === 's') {
      await ctx.answerCallbackQuery();
      await edit(
        `⚠️ <b>Send it?</b> ${describeCopy(copy)} goes to ${who}'s broker now, once, with tag <code>${escapeHtml(copy.tag)}</code>. If the first order did reach the broker, ${who} will hold it twice. Step 2 of 2.`,
        new InlineKeyboard().text('📤 Yes, send it once', `uo:${id}:y`).text('Back', `uo:${id}:n`),
      );
      audit(ctx, ACTION, args, 'confirm asked');
      return;
    }

    if (step === 'n') {
      await ctx.answerCallbackQuery({ text: 'Not sent.' });
      await edit('', unknownKeyboard(id));
      audit(ctx, ACTION, args, 'back');
      return;
    }

    if (step === 'y') {
      const r = d.control.sendUnknown(id, ctx.from.id);
      if (r.kind === 'sending') {
        await ctx.answerCallbackQuery({ text: 'Sending once more, same tag.' });
        await edit(`📤 Sent again by ${ctx.from.id} at ${at()} with the same tag. What the broker answers follows as a new alert.`);
        audit(ctx, ACTION, args, 'sent again');
      } else {
        await ctx.answerCallbackQuery({ text: `Not sent: ${r.reason}.`, show_alert: true });
        await edit(`Not sent: ${escapeHtml(r.reason)}.`, r.copy?.state === 'unknown' ? unknownKeyboard(id) : undefined);
        audit(ctx, ACTION, args, `refused: ${r.reason}`);
      }
      return;
    }

    // It is there: read the book again.
    const r = await d.control.adoptUnknown(id);
    switch (r.kind) {
      case 'adopted': {
        const then = r.cancelling ? '; the leader order is gone, so it is being cancelled' : '';
        await ctx.answerCallbackQuery({ text: `Found order ${r.order.orderId} (${r.order.status}): adopted${then}. Nothing was sent.`, show_alert: true });
        await edit(`🔎 Adopted by ${ctx.from.id} at ${at()}: order ${escapeHtml(r.order.orderId)} (${r.order.status}) with this tag is ${who}'s copy${then}. Nothing was sent.`);
        audit(ctx, ACTION, args, `adopted ${r.order.orderId}`);
        return;
      }
      case 'absent':
        await ctx.answerCallbackQuery({
          text: `No order with tag ${copy.tag} in ${copy.followerId}'s book (read ${istTime(r.readAt)} IST). Nothing adopted. If you are sure it is not there, tap Send it.`,
          show_alert: true,
        });
        audit(ctx, ACTION, args, 'not in the book');
        return;
      case 'read_failed':
        await ctx.answerCallbackQuery({ text: `Could not read ${copy.followerId}'s order book: ${r.error}`.slice(0, 190), show_alert: true });
        audit(ctx, ACTION, args, `book not read: ${r.error}`);
        return;
      case 'settled':
        await ctx.answerCallbackQuery({ text: `Already settled: this copy is ${r.copy?.state ?? 'gone'}.`, show_alert: true });
        await edit(`Settled: the copy is ${r.copy?.state ?? 'gone'}.`);
        audit(ctx, ACTION, args, `settled: ${r.copy?.state ?? 'gone'}`);
        return;
    }
  });
}
