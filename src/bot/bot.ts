/**
 * The grammY bot: /whoami for anyone, then the auth gate, then the command registry and the
 * status buttons. Every command and button press is written to the audit log with its actor.
 */
import { autoRetry } from '@grammyjs/auto-retry';
import { Bot, GrammyError, HttpError } from 'grammy';
import type { UserFromGetMe } from 'grammy/types';
import { scrubber, type Logger } from '../infra/logger.js';
import { authMiddleware, roleOf, type BotContext, type Roles } from './auth.js';
import { COMMANDS, ratioChanged, tokenStates, type CommandDeps } from './commands.js';
import { RATIO_MAX } from '../config.js';
import { registerTradingCallbacks } from './trading-commands.js';
import { registerUnknownOutcomeCallbacks } from './unknown-buttons.js';
import { driftStatusLine, registerDriftCallbacks } from './drift-commands.js';
import { removeSecretMessage } from './token-commands.js';
import { escapeHtml } from './format.js';
import { statusKeyboard, statusText } from './views.js';
import { istTime } from '../domain/time.js';

export interface BotOptions {
  token: string;
  apiRoot: string;
  roles: Roles;
  deps: CommandDeps;
  logger: Logger;
  /** Skip getMe (console mode, tests). */
  botInfo?: UserFromGetMe;
}

export function createBot(o: BotOptions): Bot<BotContext> {
  const log = o.logger.child({ module: 'bot' });
  const bot = new Bot<BotContext>(o.token, { client: { apiRoot: o.apiRoot }, ...(o.botInfo ? { botInfo: o.botInfo } : {}) });
  bot.api.config.use(autoRetry({ maxRetryAttempts: 5, maxDelaySeconds: 30, rethrowInternalServerErrors: false }));
  const { store, clock } = o.deps;

  const audit = (ctx: BotContext, action: string, args: string, outcome: string) =>
    store.audit.record({ at: clock.now(), actorId: ctx.from?.id ?? null, role: ctx.role ?? roleOf(o.roles, ctx.from?.id) ?? 'stranger', chatId: ctx.chat?.id ?? null, action, args, outcome });

  // Anyone may ask who they are (ids only: nothing about accounts), to set up TELEGRAM_ADMIN_IDS.
  bot.command('whoami', async (ctx) => {
    await ctx.reply(`Your user id: <code>${ctx.from?.id}</code>\nThis chat id: <code>${ctx.chat.id}</code>`, { parse_mode: 'HTML' });
  });

  bot.use(authMiddleware(o.roles, log));

  for (const spec of COMMANDS) {
    bot.command(spec.name, async (ctx) => {
      const args = (typeof ctx.match === 'string' ? ctx.match : '').trim().split(/\s+/).filter(Boolean);
      // A command that carries a secret (/token) says what the audit log may keep.
      const shown = spec.redactArgs ? spec.redactArgs(args) : args.join(' ');
      if (spec.role === 'admin' && ctx.role !== 'admin') {
        // A refused command that carried a secret (a viewer's /token) still takes it out of the chat.
        const note = spec.redactArgs && shown !== args.join(' ') ? await removeSecretMessage(ctx) : '';
        audit(ctx, `/${spec.name}`, shown, 'denied: viewer');
        await ctx.reply(`/${spec.name} needs the admin role; you are a viewer.${note}`, { parse_mode: 'HTML' });
        return;
      }
      try {
        const outcome = await spec.run(ctx, args, o.deps);
        audit(ctx, `/${spec.name}`, shown, outcome ?? 'ok');
      } catch (e) {
        audit(ctx, `/${spec.name}`, shown, `error: ${scrubber.scrub((e as Error).message)}`);
        throw e;
      }
    });
  }

  bot.callbackQuery(/^st:([rpu])$/, async (ctx) => {
    const action = ctx.match[1];
    if (action !== 'r' && ctx.role !== 'admin') {
      await ctx.answerCallbackQuery({ text: 'Pause and resume need the admin role.' });
      audit(ctx, 'button status', action ?? '', 'denied: viewer');
      return;
    }
    await ctx.answerCallbackQuery();
    if (action === 'p') o.deps.control.pause({ kind: 'all' }, ctx.from.id);
    if (action === 'u') o.deps.control.resume({ kind: 'all' }, ctx.from.id);
    audit(ctx, 'button status', action ?? '', 'ok');
    const v = o.deps.control.status();
    const now = clock.now();
    await ctx
      .editMessageText(`${statusText(v, now, o.deps.control.pnlToday(), tokenStates(o.deps), driftStatusLine(o.deps))}\n<i>Updated ${istTime(now)} IST</i>`, { parse_mode: 'HTML', reply_markup: statusKeyboard(v) })
      .catch((e: unknown) => {
        if (!(e instanceof GrammyError && e.description.includes('not modified'))) throw e;
      });
  });

  bot.callbackQuery(/^ap:([A-Z0-9]{4,12}):([yn])$/, async (ctx) => {
    const [, id = '', yn] = ctx.match;
    if (ctx.role !== 'admin') {
      await ctx.answerCallbackQuery({ text: 'Viewers cannot approve or reject orders.', show_alert: true });
      audit(ctx, 'button approval', `${id} ${yn}`, 'denied: viewer');
      return;
    }
    const r = o.deps.control.decideApproval(id, yn === 'y' ? 'approve' : 'reject', ctx.from.id);
    if (r.won) {
      await ctx.answerCallbackQuery({ text: yn === 'y' ? 'Approved: placing now.' : 'Rejected: not copied.' });
    } else {
      const a = r.approval;
      const text = r.refused
        ? `Not copied: ${r.refused}.`
        : a
          ? `Already ${a.state} by ${a.decidedBy ?? 'tandem'} at ${a.decidedAt ? istTime(a.decidedAt) : '?'} IST.`
          : 'Unknown or expired request.';
      await ctx.answerCallbackQuery({ text, show_alert: true });
    }
    audit(ctx, 'button approval', `${id} ${yn}`, r.won ? (yn === 'y' ? 'approved' : 'rejected') : r.refused ? `not copied: ${r.refused}` : `lost: ${r.approval?.state ?? 'unknown'}`);
  });

  bot.callbackQuery(/^hr:([yn])$/, async (ctx) => {
    if (ctx.role !== 'admin') {
      await ctx.answerCallbackQuery({ text: 'Lifting a halt needs the admin role.', show_alert: true });
      audit(ctx, 'button halt-resume', ctx.match[1] ?? '', 'denied: viewer');
      return;
    }
    await ctx.answerCallbackQuery();
    if (ctx.match[1] === 'y' && o.deps.control.halted) {
      o.deps.control.resumeFromHalt(ctx.from.id);
      o.deps.control.resume({ kind: 'all' }, ctx.from.id);
      await ctx.editMessageText(`▶️ Halt lifted by ${ctx.from.id} at ${istTime(clock.now())} IST. Copying resumes from the next leader order.`).catch(() => {});
      audit(ctx, 'button halt-resume', 'y', 'resumed');
    } else {
      await ctx.editMessageText('Still halted.').catch(() => {});
      audit(ctx, 'button halt-resume', ctx.match[1] ?? '', 'stayed halted');
    }
  });

  bot.callbackQuery(/^rt:([a-z0-9_-]+):([0-9.]+)$/, async (ctx) => {
    const [, id = '', raw = ''] = ctx.match;
    if (ctx.role !== 'admin') {
      await ctx.answerCallbackQuery({ text: 'Changing a ratio needs the admin role.', show_alert: true });
      audit(ctx, 'button ratio', `${id} ${raw}`, 'denied: viewer');
      return;
    }
    const x = Number(raw);
    if (id === '-' || !o.deps.control.hasFollower(id) || !(x > 0 && x <= RATIO_MAX)) {
      await ctx.answerCallbackQuery({ text: 'Not changed.' });
      await ctx.editMessageText('Ratio not changed.').catch(() => {});
      audit(ctx, 'button ratio', `${id} ${raw}`, 'cancelled');
      return;
    }
    await ctx.answerCallbackQuery();
    const r = o.deps.control.setRatio(id, x, ctx.from.id);
    await ctx.editMessageText(ratioChanged(id, r), { parse_mode: 'HTML' }).catch(() => {});
    audit(ctx, 'button ratio', `${id} ${raw}`, `${r.old}->${r.next}`);
  });

  registerTradingCallbacks(bot, o.deps, audit);
  registerUnknownOutcomeCallbacks(bot, o.deps, audit);
  registerDriftCallbacks(bot, o.deps, audit);

  bot.on('callback_query:data', async (ctx) => {
    await ctx.answerCallbackQuery({ text: 'This button has expired.' });
  });

  bot.on('message:text', async (ctx) => {
    if (ctx.message.text.startsWith('/')) {
      await ctx.reply(`Unknown command ${escapeHtml(ctx.message.text.split(/\s/)[0] ?? '')}. Send /help for the list.`, { parse_mode: 'HTML' });
    }
  });

  bot.catch((err) => {
    const e = err.error;
    const what = e instanceof GrammyError ? `Telegram said: ${e.description}` : e instanceof HttpError ? 'network error talking to Telegram' : (e as Error)?.message;
    log.error({ update: err.ctx.update.update_id, err: what }, 'error while handling an update');
  });
  return bot;
}

/** Register the command menus: all commands for admins, read-only ones for viewers, none for strangers. */
export async function registerCommands(bot: Bot<BotContext>, roles: Roles, log: Logger): Promise<void> {
  const toMenu = (admin: boolean) =>
    COMMANDS.filter((c) => admin || c.role === 'viewer').map((c) => ({ command: c.name, description: c.description.slice(0, 256) }));
  try {
    await bot.api.deleteMyCommands();
    for (const id of roles.adminIds) await bot.api.setMyCommands(toMenu(true), { scope: { type: 'chat', chat_id: id } });
    for (const id of roles.viewerIds) await bot.api.setMyCommands(toMenu(false), { scope: { type: 'chat', chat_id: id } });
  } catch (e) {
    log.warn({ err: (e as Error).message }, 'could not register the command menus');
  }
}
