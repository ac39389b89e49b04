/**
 * Fake Telegram Bot API server for end-to-end tests. The real grammY bot talks
 * HTTP to it via `new Bot(token, { client: { apiRoot: fake.apiRoot } })`.
 * Self-contained (node:http only); state lives in memory until reset()/close().
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TgUser { id: number; is_bot: boolean; first_name: string; username?: string }
export interface TgChat { id: number; type: 'private'; first_name?: string }
export interface TgEntity { type: string; offset: number; length: number }
export interface TgButton { text: string; callback_data?: string; url?: string }
export interface TgReplyMarkup { inline_keyboard?: TgButton[][]; [key: string]: unknown }
export interface TgPhotoSize { file_id: string; file_unique_id: string; width: number; height: number; file_size?: number }
export interface TgMessage {
  message_id: number; date: number; chat: TgChat; from: TgUser;
  text?: string; caption?: string; entities?: TgEntity[]; photo?: TgPhotoSize[];
  reply_markup?: TgReplyMarkup; edit_date?: number;
}
/** A stored message: the Telegram message plus the parse_mode the bot used. */
export interface StoredMessage extends TgMessage { parse_mode?: string }
export interface TgCallbackQuery { id: string; from: TgUser; message: TgMessage; chat_instance: string; data: string }
export interface TgUpdate { update_id: number; message?: TgMessage; callback_query?: TgCallbackQuery }
export interface ApiError { error_code: number; description: string; parameters?: { retry_after?: number; migrate_to_chat_id?: number } }
export type ApiEnvelope = { ok: true; result: unknown } | ({ ok: false } & ApiError);
export interface ApiCall {
  method: string; payload: Record<string, unknown>; at: number;
  contentType: string; bodyBytes: number;
  /** Filled in once the fake has answered (long polls stay undefined while pending). */
  response?: ApiEnvelope;
}
export interface SendTextOptions { firstName?: string; username?: string }
export interface BotCommand { command: string; description: string }

export interface FakeTelegram {
  readonly apiRoot: string; readonly token: string | undefined; readonly port: number;
  readonly botUser: TgUser;
  /** Live, append-only log of every API call (cleared in place by reset()). */
  readonly calls: readonly ApiCall[];
  sendText(fromUserId: number, text: string, opts?: SendTextOptions): TgMessage;
  click(fromUserId: number, message: TgMessage, callbackData: string): TgCallbackQuery;
  buttonData(message: TgMessage, labelSubstring: string): string;
  /** Current (post-edit, non-deleted) messages the bot sent to a chat, oldest first. */
  messages(chatId: number): StoredMessage[];
  /** Commands stored by setMyCommands for a scope (default scope when omitted). */
  commands(scope?: Record<string, unknown>, languageCode?: string): BotCommand[];
  pendingUpdates(): number;
  failNext(method: string, error: ApiError, times?: number): void;
  /** The user deletes a bot message: editing it then answers "message to edit not found". */
  deleteMessage(chatId: number, messageId: number): void;
  /** Make a message older: past 48 h an edit answers "message can't be edited". */
  ageMessage(chatId: number, messageId: number, seconds: number): void;
  /** Until unblockChat: every send or edit to this chat answers 403 (the user blocked the bot). */
  blockChat(chatId: number, description?: string): void;
  unblockChat(chatId: number): void;
  waitFor(predicate: (call: ApiCall) => boolean, timeoutMs?: number): Promise<ApiCall>;
  /** Latest bot message in the chat whose text/caption matches; may already exist. */
  waitForMessage(chatId: number, textMatch: string | RegExp, timeoutMs?: number): Promise<StoredMessage>;
  reset(): void;
  close(): Promise<void>;
}

type Payload = Record<string, unknown>;
type Outcome = { result: unknown } | ApiError;
interface PendingPoll { res: ServerResponse; call: ApiCall; limit: number; timer: NodeJS.Timeout }
interface Waiter { probe: () => boolean; reject: (err: Error) => void }

const HTML_TAGS = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'code', 'pre', 'a', 'span', 'tg-spoiler', 'tg-emoji', 'blockquote']);
const bad = (description: string): ApiError => ({ error_code: 400, description: `Bad Request: ${description}` });
const now = (): number => Math.floor(Date.now() / 1000);
const isRecord = (v: unknown): v is Payload => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
};
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const stableJson = (v: unknown): string => JSON.stringify(v, (_k, val: unknown) =>
  isRecord(val) ? Object.fromEntries(Object.entries(val).sort(([a], [b]) => a.localeCompare(b))) : val);

/** Light Telegram-HTML validation: only supported tags, properly nested. */
function htmlError(text: string): string | undefined {
  const stack: string[] = [];
  const at = (i: number): number => Buffer.byteLength(text.slice(0, i));
  for (let i = text.indexOf('<'); i !== -1; i = text.indexOf('<', i + 1)) {
    const m = /^<(\/?)([a-zA-Z][a-zA-Z0-9-]*)(\s[^<>]*)?>/.exec(text.slice(i));
    if (!m) return `Unexpected "<" at byte offset ${at(i)} (escape it as &lt;)`;
    const name = (m[2] ?? '').toLowerCase();
    if (m[1] === '/') {
      const open = stack.pop();
      if (open !== name) return open === undefined ? `Unexpected end tag at byte offset ${at(i)}`
        : `Unmatched end tag at byte offset ${at(i)}, expected "</${open}>", found "</${name}>"`;
    } else if (!HTML_TAGS.has(name)) {
      return `Unsupported start tag "${name}" at byte offset ${at(i)}`;
    } else stack.push(name);
  }
  const open = stack.pop();
  return open === undefined ? undefined : `Can't find end tag corresponding to start tag "${open}"`;
}
/** Text as Telegram measures it after entity parsing (UTF-16 units). */
function visibleText(text: string, parseMode: string | undefined): string {
  if (parseMode?.toUpperCase() !== 'HTML') return text;
  return text.replace(/<[^<>]*>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
}
function markupError(markup: unknown): string | undefined {
  if (markup === undefined) return undefined;
  if (!isRecord(markup)) return "can't parse reply keyboard markup JSON object";
  const rows = markup['inline_keyboard'];
  if (rows === undefined) return undefined;
  if (!Array.isArray(rows)) return 'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array';
  for (const btn of rows.flat() as unknown[]) {
    if (!isRecord(btn) || typeof btn['text'] !== 'string' || btn['text'] === '') return 'inline keyboard button text is empty';
    const data = btn['callback_data'];
    if (data !== undefined && (typeof data !== 'string' || Buffer.byteLength(data) < 1 || Buffer.byteLength(data) > 64)) return 'BUTTON_DATA_INVALID';
  }
  return undefined;
}
function parseMultipart(body: Buffer, contentType: string): Payload {
  const boundary = /boundary=("?)([^";]+)\1/.exec(contentType)?.[2];
  if (!boundary) return {};
  const out: Payload = {};
  const text = body.toString('utf8');
  const escaped = boundary.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
  // Only plain fields ("name=...\r\n\r\nvalue"); file parts carry a filename and are skipped.
  const re = new RegExp(`content-disposition:\\s*form-data;\\s*name="([^"]+)"\\r\\n\\r\\n([\\s\\S]*?)\\r\\n--${escaped}`, 'gi');
  for (const m of text.matchAll(re)) out[m[1] ?? ''] = m[2] ?? '';
  return out;
}
/** Form fields arrive as strings; decode JSON-looking ones (reply_markup, scope...). */
function decodeFields(fields: Payload): Payload {
  for (const [k, v] of Object.entries(fields)) {
    if (typeof v === 'string' && /^[[{]/.test(v)) { try { fields[k] = JSON.parse(v) as unknown; } catch { /* keep string */ } }
  }
  return fields;
}

export interface FakeTelegramOptions {
  token?: string;
  /**
   * Flood control on edits, as Telegram does it: a message edited again sooner than this after its
   * last send or edit answers 429 "Too Many Requests: retry after N" with `parameters.retry_after`.
   */
  editFloodMs?: number;
}

/** Bots' messages older than this cannot be edited ("message can't be edited"). */
const EDITABLE_SECONDS = 48 * 3600;

export async function startFakeTelegram(opts: FakeTelegramOptions = {}): Promise<FakeTelegram> {
  const token = opts.token;
  const botId = num(token?.split(':')[0]) ?? 1000;
  const botUser: TgUser = { id: botId, is_bot: true, first_name: 'Tandem Test', username: 'tandem_test_bot' };
  const calls: ApiCall[] = [];
  const chats = new Map<number, { nextId: number; messages: Map<number, StoredMessage> }>();
  const commandsByScope = new Map<string, BotCommand[]>();
  const faults = new Map<string, { error: ApiError; remaining: number }[]>();
  const openCallbacks = new Set<string>();
  const blocked = new Map<number, string>();
  /** When each message was last sent or edited (ms), for the edit flood limit. */
  const touchedAt = new Map<string, number>();
  let queue: TgUpdate[] = [];
  let nextUpdateId = 1;
  let nextCallbackId = 1;
  let pending: PendingPoll | undefined;
  let waiters: Waiter[] = [];

  const chatState = (chatId: number) => {
    let c = chats.get(chatId);
    if (!c) chats.set(chatId, (c = { nextId: 1, messages: new Map() }));
    return c;
  };
  const wire = (m: StoredMessage): TgMessage => {
    const { parse_mode: _pm, ...message } = structuredClone(m);
    return message;
  };
  const notify = (): void => { waiters = waiters.filter((w) => !w.probe()); };
  const respond = (res: ServerResponse, call: ApiCall | undefined, outcome: Outcome): void => {
    const envelope: ApiEnvelope = 'result' in outcome ? { ok: true, result: outcome.result } : { ok: false, ...outcome };
    if (call) call.response = envelope;
    if (!res.headersSent && !res.destroyed) {
      res.writeHead('result' in outcome ? 200 : outcome.error_code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(envelope));
    }
    notify();
  };
  const flushPoll = (): void => {
    if (!pending) return;
    const poll = pending;
    pending = undefined;
    clearTimeout(poll.timer);
    respond(poll.res, poll.call, { result: queue.slice(0, poll.limit) });
  };
  const enqueue = (update: Omit<TgUpdate, 'update_id'>): void => {
    queue.push({ update_id: nextUpdateId++, ...update });
    flushPoll();
  };

  function getUpdates(p: Payload, res: ServerResponse, call: ApiCall): Outcome | undefined {
    const offset = num(p['offset']);
    if (offset !== undefined && offset > 0) queue = queue.filter((u) => u.update_id >= offset);
    const limit = Math.min(100, Math.max(1, num(p['limit']) ?? 100));
    const timeout = Math.max(0, num(p['timeout']) ?? 0);
    // Like Telegram, a newer poll terminates the older one, which gets the 409.
    if (pending) {
      const old = pending;
      pending = undefined;
      clearTimeout(old.timer);
      respond(old.res, old.call, { error_code: 409, description: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running' });
    }
    if (queue.length > 0 || timeout === 0) return { result: queue.slice(0, limit) };
    const poll: PendingPoll = { res, call, limit, timer: setTimeout(() => flushPoll(), timeout * 1000) };
    pending = poll;
    // req 'close' fires once the body is read; only res 'close' signals a client abort.
    res.on('close', () => { if (pending === poll) { clearTimeout(poll.timer); pending = undefined; } });
    return undefined;
  }

  function storeBotMessage(chatId: number, fields: Partial<StoredMessage>): StoredMessage {
    const chat = chatState(chatId);
    const msg: StoredMessage = { message_id: chat.nextId++, date: now(), chat: { id: chatId, type: 'private' }, from: botUser, ...fields };
    chat.messages.set(msg.message_id, msg);
    return msg;
  }
  function findMessage(p: Payload): StoredMessage | undefined {
    const chatId = num(p['chat_id']);
    const id = num(p['message_id']);
    return chatId === undefined || id === undefined ? undefined : chats.get(chatId)?.messages.get(id);
  }

  const handlers: Record<string, (p: Payload, extra: { contentType: string; bodyBytes: number }) => Outcome> = {
    getme: () => ({ result: { ...botUser, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false, can_connect_to_business: false, has_main_web_app: false } }),
    deletewebhook: (p) => { if (p['drop_pending_updates'] === true || p['drop_pending_updates'] === 'true') queue = []; return { result: true }; },
    sendmessage: (p) => {
      const chatId = num(p['chat_id']);
      if (chatId === undefined) return bad('chat not found');
      const text = str(p['text']) ?? '';
      const parseMode = str(p['parse_mode']);
      const visible = visibleText(text, parseMode);
      if (visible.trim() === '') return bad('message text is empty');
      if (visible.length > 4096) return bad('message is too long');
      const htmlErr = parseMode?.toUpperCase() === 'HTML' ? htmlError(text) : undefined;
      if (htmlErr) return bad(`can't parse entities: ${htmlErr}`);
      const markupErr = markupError(p['reply_markup']);
      if (markupErr) return bad(markupErr);
      const msg = storeBotMessage(chatId, { text, parse_mode: parseMode, reply_markup: p['reply_markup'] as TgReplyMarkup | undefined });
      touchedAt.set(`${chatId}:${msg.message_id}`, Date.now());
      return { result: wire(msg) };
    },
    editmessagetext: (p) => {
      const msg = findMessage(p);
      if (!msg) return bad('message to edit not found');
      if (msg.text === undefined) return bad('there is no text in the message to edit');
      if (now() - msg.date > EDITABLE_SECONDS) return bad("message can't be edited");
      const key = `${msg.chat.id}:${msg.message_id}`;
      const since = Date.now() - (touchedAt.get(key) ?? 0);
      if (opts.editFloodMs !== undefined && since < opts.editFloodMs) {
        const retryAfter = Math.max(1, Math.ceil((opts.editFloodMs - since) / 1000));
        return { error_code: 429, description: `Too Many Requests: retry after ${retryAfter}`, parameters: { retry_after: retryAfter } };
      }
      const text = str(p['text']) ?? '';
      const parseMode = str(p['parse_mode']);
      const visible = visibleText(text, parseMode);
      if (visible.trim() === '') return bad('message text is empty');
      if (visible.length > 4096) return bad('message is too long');
      const htmlErr = parseMode?.toUpperCase() === 'HTML' ? htmlError(text) : undefined;
      if (htmlErr) return bad(`can't parse entities: ${htmlErr}`);
      const markup = p['reply_markup'] as TgReplyMarkup | undefined;
      const markupErr = markupError(markup);
      if (markupErr) return bad(markupErr);
      if (text === msg.text && parseMode === msg.parse_mode && stableJson(markup) === stableJson(msg.reply_markup)) {
        return bad('message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message');
      }
      Object.assign(msg, { text, parse_mode: parseMode, reply_markup: markup, edit_date: now() });
      touchedAt.set(key, Date.now());
      return { result: wire(msg) };
    },
    editmessagereplymarkup: (p) => {
      const msg = findMessage(p);
      if (!msg) return bad('message to edit not found');
      const markup = p['reply_markup'] as TgReplyMarkup | undefined;
      const markupErr = markupError(markup);
      if (markupErr) return bad(markupErr);
      if (stableJson(markup) === stableJson(msg.reply_markup)) {
        return bad('message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message');
      }
      Object.assign(msg, { reply_markup: markup, edit_date: now() });
      return { result: wire(msg) };
    },
    deletemessage: (p) => {
      const msg = findMessage(p);
      if (!msg) return bad('message to delete not found');
      chats.get(msg.chat.id)?.messages.delete(msg.message_id);
      return { result: true };
    },
    answercallbackquery: (p) => {
      const id = str(p['callback_query_id']) ?? '';
      if (!openCallbacks.delete(id)) return bad('query is too old and response timeout expired or query ID is invalid');
      return { result: true };
    },
    setmycommands: (p) => {
      const list = Array.isArray(p['commands']) ? (p['commands'] as unknown[]) : [];
      const commands: BotCommand[] = [];
      for (const c of list) {
        const command = isRecord(c) ? str(c['command']) : undefined;
        const description = isRecord(c) ? str(c['description']) : undefined;
        if (!command || !/^[a-z0-9_]{1,32}$/.test(command)) return bad('BOT_COMMAND_INVALID');
        if (!description || description.length > 256) return bad('BOT_COMMAND_DESCRIPTION_INVALID');
        commands.push({ command, description });
      }
      commandsByScope.set(scopeKey(p['scope'], p['language_code']), commands);
      return { result: true };
    },
    getmycommands: (p) => ({ result: commandsByScope.get(scopeKey(p['scope'], p['language_code'])) ?? [] }),
    deletemycommands: (p) => { commandsByScope.delete(scopeKey(p['scope'], p['language_code'])); return { result: true }; },
    sendphoto: (p, { bodyBytes }) => {
      const chatId = num(p['chat_id']);
      if (chatId === undefined) return bad('chat not found');
      const caption = str(p['caption']);
      if (caption !== undefined && visibleText(caption, str(p['parse_mode'])).length > 1024) return bad('message caption is too long');
      const htmlErr = caption !== undefined && str(p['parse_mode'])?.toUpperCase() === 'HTML' ? htmlError(caption) : undefined;
      if (htmlErr) return bad(`can't parse entities: ${htmlErr}`);
      const fileId = `photo-${chatId}-${chatState(chatId).nextId}`;
      const photo: TgPhotoSize[] = [{ file_id: fileId, file_unique_id: `u${fileId}`, width: 320, height: 240, file_size: bodyBytes }];
      const msg = storeBotMessage(chatId, { caption, parse_mode: str(p['parse_mode']), photo, reply_markup: p['reply_markup'] as TgReplyMarkup | undefined });
      return { result: wire(msg) };
    },
    sendchataction: () => ({ result: true }),
  };
  function scopeKey(scope: unknown, lang: unknown): string {
    return `${stableJson(scope ?? { type: 'default' })}|${str(lang) ?? ''}`;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    if (!m) return respond(res, undefined, { error_code: 404, description: 'Not Found' });
    if (token !== undefined && decodeURIComponent(m[1] ?? '') !== token) return respond(res, undefined, { error_code: 401, description: 'Unauthorized' });
    const method = m[2] ?? '';
    const contentType = req.headers['content-type'] ?? '';
    let payload: Payload = decodeFields(Object.fromEntries(url.searchParams));
    if (contentType.includes('application/json') && body.length > 0) {
      let parsed: unknown;
      try { parsed = JSON.parse(body.toString('utf8')); } catch { return respond(res, undefined, bad("can't parse JSON body")); }
      if (isRecord(parsed)) payload = { ...payload, ...parsed };
    } else if (contentType.includes('multipart/form-data')) {
      payload = { ...payload, ...decodeFields(parseMultipart(body, contentType)) };
    } else if (contentType.includes('application/x-www-form-urlencoded')) {
      payload = { ...payload, ...decodeFields(Object.fromEntries(new URLSearchParams(body.toString('utf8')))) };
    }
    const call: ApiCall = { method, payload, at: Date.now(), contentType, bodyBytes: body.length };
    calls.push(call);
    const key = method.toLowerCase();
    const refusal = /^(send|edit|copy|forward)/.test(key) ? blocked.get(num(payload['chat_id']) ?? NaN) : undefined;
    if (refusal) return respond(res, call, { error_code: 403, description: refusal });
    const fault = faults.get(key)?.[0];
    if (fault) {
      if (--fault.remaining <= 0) faults.get(key)?.shift();
      return respond(res, call, fault.error);
    }
    if (key === 'getupdates') {
      const outcome = getUpdates(payload, res, call);
      return outcome ? respond(res, call, outcome) : notify();
    }
    const handler = handlers[key];
    respond(res, call, handler ? handler(payload, { contentType, bodyBytes: body.length }) : { error_code: 404, description: 'Not Found: method not found' });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => respond(res, undefined, { error_code: 500, description: `Internal Server Error: ${String(err)}` }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  function waitUntil<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const first = probe();
      if (first !== undefined) return resolve(first);
      const waiter: Waiter = {
        probe: () => { const v = probe(); if (v === undefined) return false; clearTimeout(timer); resolve(v); return true; },
        reject: (err) => { clearTimeout(timer); reject(err); },
      };
      const timer = setTimeout(() => {
        waiters = waiters.filter((w) => w !== waiter);
        const recent = calls.slice(-10).map((c) => `  ${c.method} ${JSON.stringify(c.payload).slice(0, 160)} -> ${c.response ? (c.response.ok ? 'ok' : c.response.description) : 'pending'}`);
        reject(new Error(`Timed out after ${timeoutMs}ms waiting for ${what}. Last ${recent.length} of ${calls.length} calls:\n${recent.join('\n') || '  (none)'}`));
      }, timeoutMs);
      waiters.push(waiter);
    });
  }
  const from = (id: number, o?: SendTextOptions): TgUser => ({ id, is_bot: false, first_name: o?.firstName ?? `User${id}`, ...(o?.username ? { username: o.username } : {}) });
  const messages = (chatId: number): StoredMessage[] =>
    [...(chats.get(chatId)?.messages.values() ?? [])].filter((m) => m.from.is_bot).map((m) => structuredClone(m));

  return {
    apiRoot: `http://127.0.0.1:${port}`, token, port, botUser, calls,
    sendText(fromUserId, text, o) {
      const user = from(fromUserId, o);
      const chat = chatState(fromUserId);
      const command = text.startsWith('/') ? (text.split(/\s/)[0] ?? '') : '';
      const msg: StoredMessage = { message_id: chat.nextId++, date: now(), chat: { id: fromUserId, type: 'private', first_name: user.first_name }, from: user, text,
        ...(command ? { entities: [{ type: 'bot_command', offset: 0, length: command.length }] } : {}) };
      chat.messages.set(msg.message_id, msg);
      enqueue({ message: wire(msg) });
      return wire(msg);
    },
    click(fromUserId, message, callbackData) {
      const current = chats.get(message.chat.id)?.messages.get(message.message_id) ?? message;
      const query: TgCallbackQuery = { id: `cbq-${nextCallbackId++}`, from: from(fromUserId), message: wire(current), chat_instance: `ci-${message.chat.id}`, data: callbackData };
      openCallbacks.add(query.id);
      enqueue({ callback_query: query });
      return structuredClone(query);
    },
    buttonData(message, labelSubstring) {
      const buttons = message.reply_markup?.inline_keyboard?.flat() ?? [];
      const hit = buttons.find((b) => b.text.includes(labelSubstring) && b.callback_data !== undefined);
      if (!hit?.callback_data) throw new Error(`No callback button matching "${labelSubstring}" in message ${message.message_id}; buttons: ${JSON.stringify(buttons.map((b) => b.text))}`);
      return hit.callback_data;
    },
    messages,
    commands: (scope, languageCode) => structuredClone(commandsByScope.get(scopeKey(scope, languageCode)) ?? []),
    pendingUpdates: () => queue.length,
    failNext(method, error, times = 1) {
      const key = method.toLowerCase();
      faults.set(key, [...(faults.get(key) ?? []), { error, remaining: times }]);
    },
    deleteMessage(chatId, messageId) { chats.get(chatId)?.messages.delete(messageId); },
    ageMessage(chatId, messageId, seconds) {
      const msg = chats.get(chatId)?.messages.get(messageId);
      if (!msg) throw new Error(`No message ${messageId} in chat ${chatId}`);
      msg.date -= seconds;
    },
    blockChat(chatId, description = 'Forbidden: bot was blocked by the user') { blocked.set(chatId, description); },
    unblockChat(chatId) { blocked.delete(chatId); },
    waitFor: (predicate, timeoutMs = 5000) => waitUntil(() => calls.find(predicate), timeoutMs, 'a matching API call'),
    waitForMessage: (chatId, textMatch, timeoutMs = 5000) => waitUntil(() => messages(chatId).reverse().find((m) => {
      const t = m.text ?? m.caption ?? '';
      return typeof textMatch === 'string' ? t.includes(textMatch) : textMatch.test(t);
    }), timeoutMs, `a message in chat ${chatId} matching ${String(textMatch)}`),
    reset() {
      calls.length = 0; chats.clear(); commandsByScope.clear(); faults.clear(); openCallbacks.clear(); blocked.clear(); touchedAt.clear(); queue = [];
    },
    async close() {
      const poll = pending;
      flushPoll(); // answer a hanging long poll with [] so the client is not left dangling
      if (poll && !poll.res.writableFinished) await new Promise((r) => { poll.res.once('finish', r); poll.res.once('close', r); });
      for (const w of waiters) w.reject(new Error('Fake Telegram closed'));
      waiters = [];
      await new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
    },
  };
}
