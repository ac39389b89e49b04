/**
 * Deny by default: only configured user ids see or change anything. One check guards commands and
 * button presses alike; strangers are ignored (a callback gets a bare "Not authorised") and logged.
 */
import type { Context, MiddlewareFn } from 'grammy';
import type { Logger } from '../infra/logger.js';

export type Role = 'admin' | 'viewer';

export interface Roles {
  adminIds: number[];
  viewerIds: number[];
}

export function roleOf(roles: Roles, userId: number | undefined): Role | null {
  if (userId === undefined) return null;
  if (roles.adminIds.includes(userId)) return 'admin';
  if (roles.viewerIds.includes(userId)) return 'viewer';
  return null;
}

export type BotContext = Context & { role: Role };

/** Puts the caller's role on the context, or stops the update here. */
export function authMiddleware(roles: Roles, log: Logger): MiddlewareFn<BotContext> {
  return async (ctx, next) => {
    const role = roleOf(roles, ctx.from?.id);
    if (role && ctx.chat?.type === 'private') {
      ctx.role = role;
      return next();
    }
    if (ctx.callbackQuery) await ctx.answerCallbackQuery({ text: 'Not authorised' }).catch(() => {});
    log.warn({ from: ctx.from?.id, chat: ctx.chat?.id, kind: ctx.callbackQuery ? 'callback' : 'message' }, 'ignored an update from an unauthorised sender');
  };
}
