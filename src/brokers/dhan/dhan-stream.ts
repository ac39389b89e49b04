/**
 * The Dhan order-update stream: a ResilientWs (backoff + jitter, protocol pings, no data watchdog:
 * an idle account is silent for hours), the MsgCode 42 login on every (re)connect, frames parsed by
 * parseDhanFrame and fanned out through the account's StreamHub.
 *
 * Dhan never acknowledges a login; it resets the socket ~10 ms after a bad one (reference §6.6). So:
 * - `connected` is reported once a socket has survived `readyAfterMs` after the login;
 * - a socket that dies before that is a "quick reset": reconnecting pauses while the token is checked
 *   over REST (`checkToken`, GET /profile). A dead token → `session_expired`, ONCE, and the stream
 *   stays down until `restart()` (a new token); otherwise it reconnects after a backoff of its own
 *   (quick resets are counted so a flapping login still slows down).
 * Other states: `connecting` at start, `disconnected` when a socket drops (a reconnect follows),
 * `stopped` is the broker's business.
 */
import type WebSocket from 'ws';
import type { Logger } from '../../infra/logger.js';
import { FramePulse, ResilientWs } from '../../infra/resilient-ws.js';
import type { StreamState } from '../port.js';
import type { StreamHub } from '../stream-hub.js';
import { parseDhanFrame } from './dhan-frame.js';

export interface DhanStreamTuning {
  /** A socket counts as logged in once it stayed open this long. Default 1000. */
  readyAfterMs?: number;
  /** Reconnect backoff (ResilientWs full jitter), also used after quick resets. Defaults 500 / 30_000. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  stableAfterMs?: number;
  /** Protocol pings. Defaults 10_000 / 10_000. */
  pingEveryMs?: number;
  pongTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  /**
   * Silence watchdog (a leader's stream): no order frame for this long while `watchSilence()` (market
   * hours) → the socket is replaced quietly (state `connecting`, no outage alert) and the `connected`
   * that follows makes the engine read the book. Dhan sends no heartbeat, so an idle account's socket
   * is renewed this often in market hours. 0 (default) = off.
   */
  silentAfterMs?: number;
  watchSilence?: () => boolean;
  /** Where the last frame's time is kept, for /health. */
  pulse?: FramePulse;
}

export interface DhanStreamOptions {
  url: string;
  clientId: string;
  /** Read at each login, so a replaced token is used on the next connect. */
  token: () => string;
  hub: StreamHub;
  logger: Logger;
  /** Is the token still good? 'unknown' (network trouble) keeps retrying. */
  checkToken: () => Promise<'valid' | 'dead' | 'unknown'>;
  tuning?: DhanStreamTuning;
}

export class DhanOrderStream {
  private ws: ResilientWs | null = null;
  private running = false;
  private expired = false;
  private generation = 0;
  private quickResets = 0;
  private openedAt: number | null = null;
  private ready = false;
  private fatalRefusal = false;
  private readyTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private closing: Promise<void> | null = null;
  /** The watchdog closed the socket for silence: its close is a planned replacement, not an outage. */
  private replacingSilent = false;
  private readonly t: Required<DhanStreamTuning>;

  constructor(private readonly o: DhanStreamOptions) {
    this.t = {
      readyAfterMs: 1000,
      baseDelayMs: 500,
      maxDelayMs: 30_000,
      stableAfterMs: 10_000,
      pingEveryMs: 10_000,
      pongTimeoutMs: 10_000,
      handshakeTimeoutMs: 10_000,
      silentAfterMs: 0,
      watchSilence: () => true,
      pulse: new FramePulse(),
      ...o.tuning,
    };
  }

  /** When the last frame arrived (any socket of this stream), for /health. */
  get pulse(): FramePulse {
    return this.t.pulse;
  }

  /** True after the stream gave up because the token is dead. */
  get sessionExpired(): boolean {
    return this.expired;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.expired = false;
    this.quickResets = 0;
    this.generation += 1;
    this.setState('connecting');
    this.ws = this.createSocket(this.generation);
    this.ws.start();
  }

  /** Stop, then start again (after a new token). */
  async restart(): Promise<void> {
    await this.stop();
    this.start();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.generation += 1;
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    await Promise.all([ws?.stop(), this.closing]);
  }

  private createSocket(gen: number): ResilientWs {
    const ws = new ResilientWs({
      url: () => this.o.url,
      name: `dhan-orders:${this.o.clientId}`,
      logger: this.o.logger,
      baseDelayMs: this.t.baseDelayMs,
      maxDelayMs: this.t.maxDelayMs,
      stableAfterMs: this.t.stableAfterMs,
      handshakeTimeoutMs: this.t.handshakeTimeoutMs,
      pingEveryMs: this.t.pingEveryMs,
      pongTimeoutMs: this.t.pongTimeoutMs,
      idleTimeoutMs: 0,
      silentAfterMs: this.t.silentAfterMs,
      watchSilence: this.t.watchSilence,
      pulse: this.t.pulse,
    });
    ws.on('silent', ({ silentMs }) => {
      if (gen !== this.generation) return;
      this.replacingSilent = true;
      this.o.logger.info({ silentMs }, 'dhan order stream silent in market hours; replacing the socket, then the book is read');
    });
    ws.on('open', () => {
      if (gen !== this.generation) return;
      this.openedAt = performance.now();
      this.ready = false;
      ws.send(this.loginMessage());
      this.readyTimer = setTimeout(() => {
        this.readyTimer = null;
        if (gen !== this.generation) return;
        this.ready = true;
        this.quickResets = 0;
        this.o.logger.info('dhan order stream connected');
        this.setState('connected');
      }, this.t.readyAfterMs);
    });
    ws.on('message', (data: WebSocket.RawData) => {
      if (gen === this.generation) this.onFrame(rawText(data));
    });
    ws.on('refused', (r) => {
      this.o.logger.warn({ status: r.status, fatal: r.fatal }, 'dhan order stream upgrade refused');
      if (r.fatal) this.fatalRefusal = true;
    });
    ws.on('close', (code: number) => {
      if (gen !== this.generation) return;
      if (this.readyTimer) clearTimeout(this.readyTimer);
      this.readyTimer = null;
      const quick = (this.openedAt !== null && !this.ready) || this.fatalRefusal;
      const silent = this.replacingSilent;
      this.openedAt = null;
      this.ready = false;
      this.fatalRefusal = false;
      this.replacingSilent = false;
      if (!this.running) return;
      if (silent && !quick) {
        this.setState('connecting', 'replacing a silent socket');
        return;
      }
      this.o.logger.warn({ code, quick }, 'dhan order stream down');
      this.setState('disconnected', quick ? 'reset right after login' : `socket closed (${code})`);
      if (quick) {
        // Pause reconnecting: stop() inside 'close' cancels the reconnect ResilientWs would schedule.
        this.closing = ws.stop();
        void this.afterQuickReset(gen);
      }
    });
    return ws;
  }

  private async afterQuickReset(gen: number): Promise<void> {
    this.quickResets += 1;
    const verdict = await this.o.checkToken().catch(() => 'unknown' as const);
    if (gen !== this.generation || !this.running) return;
    this.o.logger.warn({ quickResets: this.quickResets, verdict }, 'dhan order stream reset right after login; token checked');
    if (verdict === 'dead') {
      this.running = false;
      if (!this.expired) {
        this.expired = true;
        this.setState('session_expired', 'Dhan refused the order-update login: access token invalid or expired');
      }
      return;
    }
    const cap = Math.min(this.t.maxDelayMs, this.t.baseDelayMs * 2 ** Math.min(this.quickResets, 20));
    const delay = Math.round(cap / 2 + Math.random() * (cap / 2));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (gen !== this.generation || !this.running) return;
      this.setState('connecting');
      this.ws?.start();
    }, delay);
  }

  /** Report a state; a listener that throws is logged, never thrown into the socket's events. */
  private setState(s: StreamState, detail?: string): void {
    try {
      this.o.hub.setState(s, detail);
    } catch (err) {
      this.o.logger.error({ err: String(err), state: s }, 'dhan order stream: a state listener failed');
    }
  }

  private loginMessage(): string {
    return JSON.stringify({ LoginReq: { MsgCode: 42, ClientId: this.o.clientId, Token: this.o.token() }, UserType: 'SELF' });
  }

  private onFrame(text: string): void {
    const { orders, errors } = parseDhanFrame(text);
    if (errors.length > 0) this.o.logger.warn({ errors, bytes: text.length }, 'dhan order stream: skipped part of a frame');
    for (const order of orders) {
      try {
        this.o.hub.update(order);
      } catch (err) {
        this.o.logger.error({ err: String(err), orderId: order.orderId }, 'dhan order stream: a listener failed');
      }
    }
  }

  private clearTimers(): void {
    if (this.readyTimer) clearTimeout(this.readyTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.readyTimer = this.retryTimer = null;
  }
}

function rawText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
