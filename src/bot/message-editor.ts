/**
 * Edits messages in place within Telegram's limits. Per message: at most one edit per interval
 * (~1 s; the latest text wins, the ones in between are never sent), a 429 waits its `retry_after`
 * and then sends whatever is latest, "message is not modified" counts as shown, and a message that
 * can no longer be edited ("message to edit not found", "message can't be edited") is reported
 * gone so its owner sends a new one. Network failures and 5xx are retried with a backoff, a few
 * times. (grammY's auto-retry already waits out short 429s inside the call; longer ones end here.)
 */
import { GrammyError } from 'grammy';
import type { Logger } from '../infra/logger.js';

/** Replaces a message's text (HTML). */
export type EditFn = (chatId: number, messageId: number, html: string) => Promise<void>;

export interface EditListener {
  /** Telegram shows `text` in the message now. */
  shown(chatId: number, messageId: number, text: string): void;
  /** The message cannot be edited any more (deleted, too old): send a new one. */
  gone(chatId: number, messageId: number): void;
}

export interface EditorOptions {
  /** Least time between two edits of one message (default 1000 ms). */
  minIntervalMs?: number;
  /** Tries per text on network failures before giving it up (default 5). */
  maxAttempts?: number;
}

interface Entry {
  readonly chatId: number;
  readonly messageId: number;
  latest: string;
  shown: string | null;
  /** performance.now() when the message was last sent or edited. */
  lastAt: number;
  timer: NodeJS.Timeout | null;
  /** The timer waits out a flood limit or a backoff (not a coalescing pause): idle() does not wait for it. */
  holding: boolean;
  running: Promise<void> | null;
  failures: number;
  /** The message can no longer be edited: nothing more is tried. */
  gone: boolean;
}

const GONE = /message to edit not found|message can't be edited|MESSAGE_ID_INVALID|message not found/i;
const NOT_MODIFIED = /message is not modified/i;
/** Settled, old entries are forgotten once the map holds this many. */
const PRUNE_AT = 500;

export class MessageEditor {
  private readonly entries = new Map<string, Entry>();
  /** The map is pruned when it reaches this size. */
  private pruneAt = PRUNE_AT;
  private readonly minIntervalMs: number;
  private readonly maxAttempts: number;
  private waiters: (() => void)[] = [];
  private stopped = false;

  constructor(
    private readonly edit: () => EditFn | null,
    private readonly listener: EditListener,
    private readonly log: Logger,
    opts: EditorOptions = {},
  ) {
    this.minIntervalMs = opts.minIntervalMs ?? 1000;
    this.maxAttempts = opts.maxAttempts ?? 5;
  }

  /** The message was just sent: its first edit waits the interval like any other. */
  sent(chatId: number, messageId: number, text: string): void {
    const e = this.entry(chatId, messageId, text);
    e.shown = text;
    e.lastAt = performance.now();
  }

  /** Show `text` in the message, as soon as the limits allow. */
  set(chatId: number, messageId: number, text: string): void {
    if (this.stopped) return;
    const e = this.entry(chatId, messageId, text);
    e.latest = text;
    this.schedule(e);
  }

  /** Resolves when no edit is under way or waiting out the interval (flood waits and backoffs are not awaited). */
  async idle(): Promise<void> {
    while ([...this.entries.values()].some((e) => e.running || (e.timer && !e.holding))) {
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const e of this.entries.values()) if (e.timer) clearTimeout(e.timer);
    await Promise.all([...this.entries.values()].map((e) => e.running));
    this.changed();
  }

  private entry(chatId: number, messageId: number, text: string): Entry {
    const key = `${chatId}:${messageId}`;
    let e = this.entries.get(key);
    if (!e) {
      if (this.entries.size >= this.pruneAt) {
        this.prune();
        // What is still there is live or recent: the next prune waits until as many more are added (amortised, not a scan per message).
        this.pruneAt = Math.max(PRUNE_AT, 2 * this.entries.size);
      }
      e = { chatId, messageId, latest: text, shown: null, lastAt: -Infinity, timer: null, holding: false, running: null, failures: 0, gone: false };
      this.entries.set(key, e);
    }
    return e;
  }

  /** Forget settled messages not touched for a while (their interval is long over). */
  private prune(): void {
    const old = performance.now() - 10 * this.minIntervalMs;
    for (const [k, e] of this.entries) if (!e.running && !e.timer && (e.latest === e.shown || e.gone) && e.lastAt < old) this.entries.delete(k);
  }

  private changed(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }

  private schedule(e: Entry, delayMs?: number, holding = false): void {
    if (this.stopped || e.gone || e.running || e.timer) return;
    if (e.latest === e.shown) return this.changed();
    const wait = delayMs ?? Math.max(0, e.lastAt + this.minIntervalMs - performance.now());
    e.holding = holding;
    e.timer = setTimeout(() => {
      e.timer = null;
      e.holding = false;
      e.running = this.run(e).finally(() => {
        e.running = null;
        this.schedule(e);
        this.changed();
      });
    }, wait);
    e.timer.unref?.();
  }

  private async run(e: Entry): Promise<void> {
    const edit = this.edit();
    const text = e.latest;
    if (!edit || text === e.shown) return;
    e.lastAt = performance.now();
    try {
      await edit(e.chatId, e.messageId, text);
      this.done(e, text);
    } catch (err) {
      this.failed(e, text, err);
    }
  }

  private done(e: Entry, text: string): void {
    e.shown = text;
    e.failures = 0;
    this.listener.shown(e.chatId, e.messageId, text);
  }

  private failed(e: Entry, text: string, err: unknown): void {
    const ctx = { chat: e.chatId, message: e.messageId };
    if (err instanceof GrammyError) {
      if (err.error_code === 400 && NOT_MODIFIED.test(err.description)) return this.done(e, text);
      if (err.error_code === 400 && GONE.test(err.description)) {
        this.log.info({ ...ctx, err: err.description }, 'message can no longer be edited; a new one is sent');
        e.gone = true;
        this.listener.gone(e.chatId, e.messageId);
        return;
      }
      if (err.error_code === 429) {
        const ms = Math.max(1, err.parameters.retry_after ?? 1) * 1000;
        this.log.warn({ ...ctx, retryInMs: ms }, 'Telegram flood limit on an edit; the latest text follows after the wait');
        return this.hold(e, ms);
      }
      if (err.error_code >= 400 && err.error_code < 500) {
        // Refused for good (bad HTML, chat blocked): this text is given up; a later change tries again.
        this.log.warn({ ...ctx, err: err.description }, 'edit refused; given up for this text');
        e.shown = text;
        return;
      }
    }
    e.failures += 1;
    if (e.failures >= this.maxAttempts) {
      this.log.error({ ...ctx, err: (err as Error).message }, 'edit failed; given up for this text');
      e.failures = 0;
      e.shown = text;
      return;
    }
    this.log.warn({ ...ctx, err: (err as Error).message }, 'edit failed; will retry');
    this.hold(e, Math.min(30_000, 1000 * 2 ** (e.failures - 1)));
  }

  /** Wait before the next try (run's finally would reschedule at once: the timer is set first). */
  private hold(e: Entry, ms: number): void {
    e.running = null;
    this.schedule(e, ms, true);
  }
}
