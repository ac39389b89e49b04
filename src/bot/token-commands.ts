/**
 * The morning login from the chat: /login shows how to get a token, /token hands it over. The
 * message carrying a token is deleted as soon as it is read, the reply never repeats it, and the
 * audit log records the account only (redactArgs).
 */
import { istDateTime } from '../domain/time.js';
import type { BotContext } from './auth.js';
import type { CommandDeps, CommandSpec } from './commands.js';
import { escapeHtml } from './format.js';
import { replyHtml as reply } from './reply.js';
import { brokerName, loginText } from './token-alerts.js';

const NO_PREVIEW = { link_preview_options: { is_disabled: true } };

function validAccounts(d: CommandDeps): string {
  const ids = d.sessions?.accountIds ?? [];
  return ids.length ? ids.map(escapeHtml).join(', ') : 'none (paper followers and the simulated leader need no login)';
}

/** The account named in `arg`, or a reply-ready explanation listing the valid ones. */
function pickAccount(arg: string | undefined, d: CommandDeps, usage: string): { id: string } | { error: string } {
  const id = arg?.toLowerCase();
  if (id && d.sessions?.has(id)) return { id };
  const what = arg ? `Unknown account “${escapeHtml(arg)}”.` : 'Which account?';
  return { error: `${what} Usage: ${escapeHtml(usage)}\nValid accounts: ${validAccounts(d)}.` };
}

/** Delete the message that carried a secret; false when Telegram would not. */
async function deleteSecret(ctx: BotContext): Promise<boolean> {
  try {
    await ctx.deleteMessage();
    return true;
  } catch {
    return false;
  }
}

/**
 * Delete the message that carried a secret, whoever sent it (a viewer's /token is refused, but its
 * token must not stay in the chat either); the line telling the sender what happened to it.
 */
export async function removeSecretMessage(ctx: BotContext): Promise<string> {
  return (await deleteSecret(ctx))
    ? '\n<i>Your message with the token was deleted from this chat.</i>'
    : '\n⚠️ I could not delete your message with the token: please delete it yourself.';
}

export const TOKEN_COMMANDS: CommandSpec[] = [
  {
    name: 'login',
    usage: '/login <account>',
    description: 'How to get a new broker token for an account (Kite link or Dhan steps)',
    role: 'admin',
    async run(ctx, args, d) {
      const a = pickAccount(args[0], d, '/login <account>');
      if ('error' in a) return reply(ctx, a.error);
      const l = d.sessions!.login(a.id)!;
      await reply(ctx, loginText(a.id, l.help()), NO_PREVIEW);
      return a.id;
    },
  },
  {
    name: 'token',
    usage: '/token <account> <token or Kite redirect address>',
    description: 'Give an account its new broker token (your message is deleted)',
    role: 'admin',
    redactArgs: (args) => [args[0] ?? '', args.length > 1 ? '[redacted]' : ''].filter(Boolean).join(' '),
    async run(ctx, args, d) {
      const value = args.slice(1).join(' ');
      // First of all: the secret leaves the chat, whatever happens next.
      const note = value ? await removeSecretMessage(ctx) : '';
      const a = pickAccount(args[0], d, '/token <account> <token>');
      if ('error' in a) {
        await reply(ctx, `${a.error}${note}`);
        return value ? 'unknown account (token discarded)' : 'unknown account';
      }
      const l = d.sessions!.login(a.id)!;
      const id = escapeHtml(a.id);
      if (!value) {
        const what = l.broker === 'kite' ? 'the address Kite sent you to (with request_token=…), or the request token' : 'the access token';
        await reply(ctx, `Send ${what}: <code>/token ${id} &lt;value&gt;</code>. /login ${id} shows how to get it.`);
        return `${a.id}: no value`;
      }
      const r = await d.sessions!.submit(a.id, value);
      const broker = brokerName(l.help());
      if (!r.ok) {
        await reply(ctx, `❌ <b>${id}</b>: the token was not accepted — ${broker} said: “${escapeHtml(r.reason)}”\nThe old token is unchanged. /login ${id} to try again.${note}`);
        return `${a.id}: refused: ${r.reason}`;
      }
      const until = r.session.expiresAt ? `valid until ${istDateTime(r.session.expiresAt)} IST` : 'expiry unknown';
      const who = r.who ? ` (${escapeHtml(r.who)})` : '';
      const back = r.resumed ? `\n${id} was stopped: it is back, copies resume from the next leader order.` : '';
      await reply(ctx, `✅ <b>${id}</b>: new ${broker} token${who} stored and in use, ${until}.${back}${note}`);
      return `${a.id}: accepted${r.resumed ? ', resumed' : ''}`;
    },
  },
];
