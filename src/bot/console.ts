/**
 * The chat on the terminal: without TELEGRAM_BOT_TOKEN the same bot runs, its updates read from
 * stdin (each line a message from the admin) and its outgoing API calls printed. Inline buttons
 * show as numbered choices; typing the number presses the button.
 */
import { createInterface } from 'node:readline';
import type { Bot } from 'grammy';
import type { Update, UserFromGetMe } from 'grammy/types';
import type { BotContext } from './auth.js';
import { htmlToPlain } from './format.js';

export const CONSOLE_BOT_INFO: UserFromGetMe = {
  id: 1,
  is_bot: true,
  first_name: 'tandem',
  username: 'tandem_console_bot',
  can_join_groups: false,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
  can_connect_to_business: false,
  has_main_web_app: false,
  has_topics_enabled: false,
  allows_users_to_create_topics: false,
} as UserFromGetMe;

interface Button {
  text: string;
  callback_data?: string;
}

interface ShownMessage {
  message_id: number;
  text: string;
  buttons: Button[];
}

function buttonsOf(markup: unknown): Button[] {
  const rows = (markup as { inline_keyboard?: Button[][] } | undefined)?.inline_keyboard;
  return rows ? rows.flat() : [];
}

export class ConsoleChat {
  private nextMessageId = 1;
  private updateId = 1;
  private readonly shown = new Map<number, ShownMessage>();
  /** The last message that had buttons: typed numbers press its buttons. */
  private lastWithButtons: ShownMessage | null = null;
  private rl: ReturnType<typeof createInterface> | null = null;

  constructor(
    private readonly bot: Bot<BotContext>,
    private readonly userId: number,
    private readonly out: NodeJS.WritableStream = process.stdout,
  ) {
    // Intercept every outgoing call: nothing goes to the network.
    // Edits are answered as Telegram answers them (an unknown message, an unchanged text).
    bot.api.config.use(async (_prev, method, payload) => {
      const p = payload as Record<string, unknown>;
      const refused = method === 'editMessageText' ? this.editRefusal(p) : null;
      if (refused) return { ok: false, error_code: 400, description: `Bad Request: ${refused}` } as never;
      return { ok: true, result: this.handle(method, p) } as never;
    });
  }

  private print(prefix: string, html: string, buttons: Button[]): void {
    const body = htmlToPlain(html)
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n');
    const choices = buttons.length ? `\n  ${buttons.map((b, i) => `[${i + 1}] ${b.text}`).join('   ')}` : '';
    this.out.write(`\n${prefix}\n${body}${choices}\n`);
  }

  private editRefusal(p: Record<string, unknown>): string | null {
    const shown = this.shown.get(Number(p.message_id));
    if (!shown) return 'message to edit not found';
    const same = shown.text === String(p.text ?? '') && JSON.stringify(shown.buttons) === JSON.stringify(buttonsOf(p.reply_markup));
    return same ? 'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message' : null;
  }

  private handle(method: string, p: Record<string, unknown>): unknown {
    const chat = { id: Number(p.chat_id ?? this.userId), type: 'private' as const, first_name: 'you' };
    switch (method) {
      case 'sendMessage': {
        const msg: ShownMessage = { message_id: this.nextMessageId++, text: String(p.text ?? ''), buttons: buttonsOf(p.reply_markup) };
        this.shown.set(msg.message_id, msg);
        // Only recent messages can still be edited or pressed (older ones answer "not found"); keep the map small.
        if (this.shown.size > 200) this.shown.delete(this.shown.keys().next().value!);
        if (msg.buttons.length) this.lastWithButtons = msg;
        this.print('🤖 tandem', msg.text, msg.buttons);
        return { message_id: msg.message_id, date: Math.floor(Date.now() / 1000), chat, text: msg.text };
      }
      case 'editMessageText': {
        const id = Number(p.message_id);
        const msg: ShownMessage = { message_id: id, text: String(p.text ?? ''), buttons: buttonsOf(p.reply_markup) };
        this.shown.set(id, msg);
        if (msg.buttons.length) this.lastWithButtons = msg;
        else if (this.lastWithButtons?.message_id === id) this.lastWithButtons = null;
        this.print(`🤖 tandem (edited message ${id})`, msg.text, msg.buttons);
        return { message_id: id, date: Math.floor(Date.now() / 1000), chat, text: msg.text };
      }
      case 'sendPhoto': {
        // The terminal cannot show the picture: it says that one came, how big, and its caption.
        const data = (p.photo as { fileData?: unknown } | undefined)?.fileData;
        const size = Buffer.isBuffer(data) ? ` (${Math.round(data.length / 1024)} KB PNG)` : '';
        this.print(`🤖 tandem 🖼 picture${size}`, String(p.caption ?? ''), []);
        return { message_id: this.nextMessageId++, date: Math.floor(Date.now() / 1000), chat, photo: [], caption: String(p.caption ?? '') };
      }
      case 'answerCallbackQuery':
        if (p.text) this.out.write(`  (${String(p.text)})\n`);
        return true;
      case 'deleteMessage':
        this.shown.delete(Number(p.message_id));
        return true;
      default:
        return true;
    }
  }

  /** Feed one typed line to the bot. */
  async input(line: string): Promise<void> {
    const text = line.trim();
    if (!text) return;
    const from = { id: this.userId, is_bot: false, first_name: 'you' };
    const chat = { id: this.userId, type: 'private' as const, first_name: 'you' };
    const date = Math.floor(Date.now() / 1000);
    const n = Number(text);
    const target = this.lastWithButtons;
    let update: Update;
    if (Number.isInteger(n) && target && n >= 1 && n <= target.buttons.length) {
      const b = target.buttons[n - 1]!;
      update = {
        update_id: this.updateId++,
        callback_query: {
          id: String(this.updateId),
          from,
          chat_instance: 'console',
          data: b.callback_data ?? '',
          message: { message_id: target.message_id, date, chat, text: target.text },
        },
      } as Update;
    } else {
      const command = text.startsWith('/') ? (text.split(/\s/)[0] ?? '') : '';
      update = {
        update_id: this.updateId++,
        message: {
          message_id: this.nextMessageId++,
          date,
          chat,
          from,
          text,
          ...(command ? { entities: [{ type: 'bot_command', offset: 0, length: command.length }] } : {}),
        },
      } as Update;
    }
    await this.bot.handleUpdate(update);
  }

  start(input: NodeJS.ReadableStream = process.stdin): void {
    this.out.write('\n💬 Chat console: type /status, /pause, /resume, /ratio 0.5 or /help (numbers press buttons).\n');
    this.rl = createInterface({ input, terminal: false });
    this.rl.on('line', (line) => {
      void this.input(line).catch((e: unknown) => this.out.write(`  (error: ${(e as Error).message})\n`));
    });
  }

  stop(): void {
    this.rl?.close();
    this.rl = null;
  }
}
