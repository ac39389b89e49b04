/**
 * /drift and the Sync button. Sync takes two taps: the first shows the orders it would place,
 * the second places them — only if the plan is still the one shown (a changed plan is shown again).
 * Same auth as commands (the gate runs first); Sync needs the admin role.
 */
import type { Bot } from 'grammy';
import { istTime } from '../domain/time.js';
import type { BotContext } from './auth.js';
import type { CommandDeps, CommandSpec } from './commands.js';
import { driftListKeyboard, driftListText, syncConfirmKeyboard, syncPlanText } from './drift-views.js';
import { escapeHtml } from './format.js';
import { replyHtml } from './reply.js';
import { describeCopy } from './views.js';

/** Sync requests waiting for their second tap, by drift id; they lapse after two minutes. */
const syncRequests = new Map<string, { signature: string; expiresAt: number }>();
const SYNC_TTL_MS = 120_000;

export const DRIFT_COMMANDS: CommandSpec[] = [
  {
    name: 'drift',
    usage: '/drift',
    description: 'Followers whose position differs from the scaled leader, with Sync buttons',
    role: 'viewer',
    async run(ctx, _args, d) {
      if (!d.drift) return replyHtml(ctx, 'The drift watch is not running.');
      const scan = d.drift.scan();
      const kb = driftListKeyboard(scan);
      await replyHtml(ctx, driftListText(scan), kb ? { reply_markup: kb } : {});
      return `${scan.items.length} drifting`;
    },
  },
];

/** The /status line: how many instruments drift now (null: no drift watch). */
export function driftStatusLine(d: CommandDeps): string | null {
  if (!d.drift) return null;
  const n = d.drift.count();
  return n === 0 ? 'Drift: none' : `⚖️ Drift: ${n} instrument(s) differ from the scaled leader — /drift`;
}

export function registerDriftCallbacks(bot: Bot<BotContext>, d: CommandDeps, audit: (ctx: BotContext, action: string, args: string, outcome: string) => void): void {
  bot.callbackQuery(/^dr:([0-9a-f]{10}):([1yn])$/, async (ctx) => {
    const [, id = '', step] = ctx.match;
    if (ctx.role !== 'admin') {
      await ctx.answerCallbackQuery({ text: 'Sync needs the admin role.', show_alert: true });
      audit(ctx, 'button sync', `${id} ${step}`, 'denied: viewer');
      return;
    }
    const drift = d.drift;
    if (!drift) {
      await ctx.answerCallbackQuery({ text: 'The drift watch is not running.', show_alert: true });
      return;
    }
    if (step === '1') {
      await ctx.answerCallbackQuery();
      const plan = drift.plan(id);
      if ('none' in plan) {
        await replyHtml(ctx, `Nothing to sync: ${escapeHtml(plan.none)}.`);
        audit(ctx, 'button sync', `${id} step1`, plan.none);
        return;
      }
      if (plan.legs.length === 0) {
        await replyHtml(ctx, syncPlanText(plan));
        audit(ctx, 'button sync', `${id} step1`, 'nothing placeable');
        return;
      }
      syncRequests.set(id, { signature: plan.signature, expiresAt: d.clock.now() + SYNC_TTL_MS });
      await replyHtml(ctx, syncPlanText(plan), { reply_markup: syncConfirmKeyboard(id, plan.legs.length) });
      audit(ctx, 'button sync', `${id} step1`, `proposed ${plan.legs.length}`);
      return;
    }
    const req = syncRequests.get(id);
    // Exactly one tap wins: the request is consumed here.
    if (!req || !syncRequests.delete(id)) {
      await ctx.answerCallbackQuery({ text: 'This sync request is gone (done, cancelled or lapsed); send /drift again.', show_alert: true });
      return;
    }
    if (step === 'n') {
      await ctx.answerCallbackQuery({ text: 'Cancelled: nothing placed.' });
      await ctx.editMessageText('Sync cancelled: nothing was placed.').catch(() => {});
      audit(ctx, 'button sync', `${id} cancel`, 'cancelled');
      return;
    }
    if (req.expiresAt < d.clock.now()) {
      await ctx.answerCallbackQuery({ text: 'This sync request has lapsed; send /drift again.', show_alert: true });
      return;
    }
    await ctx.answerCallbackQuery({ text: 'Syncing…' });
    const r = drift.sync(id, ctx.from.id, req.signature);
    if (r.kind === 'none') {
      await ctx.editMessageText(`Nothing placed: ${escapeHtml(r.reason)}.`, { parse_mode: 'HTML' }).catch(() => {});
      audit(ctx, 'button sync', `${id} confirm`, r.reason);
      return;
    }
    if (r.kind === 'changed') {
      // Never place what was not shown: show the new plan and ask again.
      syncRequests.set(id, { signature: r.plan.signature, expiresAt: d.clock.now() + SYNC_TTL_MS });
      await ctx
        .editMessageText(syncPlanText(r.plan, '🔁 <b>The drift changed since you looked</b>: nothing placed yet'), { parse_mode: 'HTML', reply_markup: syncConfirmKeyboard(id, r.plan.legs.length) })
        .catch(() => {});
      audit(ctx, 'button sync', `${id} confirm`, 'changed: asked again');
      return;
    }
    const notes = r.plan.notes.map((n) => `\n⚠ ${escapeHtml(n)}`).join('');
    await ctx
      .editMessageText(`🔁 Sync sent by ${ctx.from.id} at ${istTime(d.clock.now())} IST: ${r.placed.length} market order(s).\n${r.placed.map((c) => `• ${escapeHtml(c.followerId)}: ${describeCopy(c)}`).join('\n')}${notes}`, { parse_mode: 'HTML' })
      .catch(() => {});
    audit(ctx, 'button sync', `${id} confirm`, `placed ${r.placed.length}`);
  });
}
