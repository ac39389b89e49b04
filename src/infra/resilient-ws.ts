/**
 * A reconnecting WebSocket client for broker push streams (see shared/reference/node-stack-notes §7):
 * full-jitter exponential backoff whose attempt counter resets only after a stable session, an
 * optional client ping with a pong deadline, an optional data watchdog (`idleTimeoutMs`) for feeds
 * that send app-level heartbeats, and an upgrade refusal hook: a refused upgrade whose HTTP status
 * is fatal (401/403 by default: bad or expired token) stops reconnecting instead of hammering.
 * A silence watchdog (`silentAfterMs`, only while `watchSilence()` says it matters, e.g. market
 * hours) replaces a socket that stays open but delivers no data frame at all: protocol pings and
 * pongs do not count, since a socket whose feed has died behind the server still answers them.
 * When the last data frame arrived is kept in a `FramePulse` (for /health).
 *
 * Events: `open`, `message(data, isBinary)`, `close(code, reason)`, `reconnecting({attempt, delayMs})`,
 * `refused({status, body, fatal})`, `wsError(err)`, `silent({silentMs})` (just before the watchdog closes it). It never emits `error`, so nothing crashes the
 * process for want of a listener.
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import type { Logger } from './logger.js';

export interface ResilientWsOptions {
  /** Read before every connect, so credentials may change between attempts. */
  url: () => string;
  logger: Logger;
  /** For log lines. */
  name: string;
  headers?: Record<string, string>;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** The backoff resets only once a session has stayed open this long. */
  stableAfterMs?: number;
  handshakeTimeoutMs?: number;
  /** Client ping period; 0 = off. */
  pingEveryMs?: number;
  pongTimeoutMs?: number;
  /** Reconnect when no frame at all arrives for this long; 0 = off. */
  idleTimeoutMs?: number;
  /** Upgrade refusals with these statuses stop the client (default 401, 403). */
  fatalStatuses?: number[];
  /** Replace the socket when no data frame arrived for this long while `watchSilence()`; 0 = off. */
  silentAfterMs?: number;
  /** Whether silence counts now (market hours); asked when the silence is due. Default: always. */
  watchSilence?: () => boolean;
  /** Where the last data frame's time is kept (shared with whoever reports on the stream). */
  pulse?: FramePulse;
}

/** When a stream's last data frame arrived (monotonic time), for /health. */
export class FramePulse {
  private last: number | null = null;

  beat(): void {
    this.last = performance.now();
  }

  /** ms since the last data frame; null before the first. */
  ageMs(): number | null {
    return this.last === null ? null : performance.now() - this.last;
  }
}

export interface Refusal {
  status: number;
  body: string;
  fatal: boolean;
}

export interface ResilientWsEvents {
  open: [];
  message: [data: WebSocket.RawData, isBinary: boolean];
  close: [code: number, reason: string];
  reconnecting: [info: { attempt: number; delayMs: number }];
  refused: [refusal: Refusal];
  wsError: [err: Error];
  silent: [info: { silentMs: number }];
}

export class ResilientWs extends EventEmitter<ResilientWsEvents> {
  private ws: WebSocket | null = null;
  private running = false;
  private attempt = 0;
  private refusal: Refusal | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private stableTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private pongTimer: NodeJS.Timeout | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private silenceTimer: NodeJS.Timeout | null = null;
  /** performance.now() of the last data frame on the current socket, or of its opening. */
  private lastDataAt = 0;
  readonly pulse: FramePulse;
  private readonly o: Required<Omit<ResilientWsOptions, 'headers' | 'pulse'>> & { headers: Record<string, string> };

  constructor(opts: ResilientWsOptions) {
    super();
    this.o = {
      headers: {},
      baseDelayMs: 500,
      maxDelayMs: 30_000,
      stableAfterMs: 10_000,
      handshakeTimeoutMs: 10_000,
      pingEveryMs: 0,
      pongTimeoutMs: 5_000,
      idleTimeoutMs: 0,
      fatalStatuses: [401, 403],
      silentAfterMs: 0,
      watchSilence: () => true,
      ...opts,
    };
    this.pulse = opts.pulse ?? new FramePulse();
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Connect and keep reconnecting until `stop()` or a fatal refusal. Idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempt = 0;
    this.connect();
  }

  /** Close (1000, then terminate after 1 s) and clear every timer. Idempotent. */
  async stop(): Promise<void> {
    this.running = false;
    this.clearTimers();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => ws.terminate(), 1000);
      ws.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'stop');
      else ws.terminate();
    });
  }

  send(data: string | Buffer): boolean {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(data);
    return true;
  }

  private connect(): void {
    if (!this.running) return;
    this.refusal = null;
    const ws = new WebSocket(this.o.url(), { headers: this.o.headers, handshakeTimeout: this.o.handshakeTimeoutMs, perMessageDeflate: false });
    this.ws = ws;
    ws.on('open', () => this.onOpen(ws));
    ws.on('message', (data, isBinary) => {
      this.armIdle(ws);
      this.lastDataAt = performance.now();
      this.pulse.beat();
      this.emit('message', data, isBinary);
    });
    ws.on('pong', () => {
      if (this.pongTimer) clearTimeout(this.pongTimer);
      this.pongTimer = null;
    });
    ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      let body = '';
      const done = () => {
        clearTimeout(cap);
        if (!this.refusal) this.refusal = { status, body: body.slice(0, 500), fatal: this.o.fatalStatuses.includes(status) };
        ws.terminate();
      };
      const cap = setTimeout(done, 500);
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (body.length < 2000) body += c;
      });
      res.on('end', done);
      res.on('error', done);
    });
    ws.on('error', (err) => {
      if (this.listenerCount('wsError') > 0) this.emit('wsError', err);
      else this.o.logger.debug({ ws: this.o.name, err: err.message }, 'websocket error');
    });
    ws.on('close', (code, reason) => this.onClose(ws, code, reason.toString()));
  }

  private onOpen(ws: WebSocket): void {
    if (ws !== this.ws) return;
    this.stableTimer = setTimeout(() => {
      this.attempt = 0;
    }, this.o.stableAfterMs);
    if (this.o.pingEveryMs > 0) {
      this.pingTimer = setInterval(() => {
        if (ws.readyState !== WebSocket.OPEN) return;
        ws.ping();
        if (!this.pongTimer) {
          this.pongTimer = setTimeout(() => {
            this.o.logger.warn({ ws: this.o.name }, 'no pong in time, reconnecting');
            ws.terminate();
          }, this.o.pongTimeoutMs);
        }
      }, this.o.pingEveryMs);
    }
    this.armIdle(ws);
    this.lastDataAt = performance.now();
    this.armSilence(ws, this.o.silentAfterMs);
    this.emit('open');
  }

  /**
   * Check for silence when it would be due. Outside the watched hours the check only repeats, so a
   * socket silent all night is replaced at the first check once the hours begin.
   */
  private armSilence(ws: WebSocket, inMs: number): void {
    if (this.o.silentAfterMs <= 0) return;
    this.silenceTimer = setTimeout(() => {
      this.silenceTimer = null;
      if (ws !== this.ws || ws.readyState !== WebSocket.OPEN) return;
      const quietMs = performance.now() - this.lastDataAt;
      if (quietMs < this.o.silentAfterMs) return this.armSilence(ws, this.o.silentAfterMs - quietMs);
      if (!this.o.watchSilence()) return this.armSilence(ws, this.o.silentAfterMs);
      this.emit('silent', { silentMs: Math.round(quietMs) });
      this.attempt = 0; // a planned replacement, not a failure: reconnect promptly
      ws.terminate();
    }, Math.max(10, Math.ceil(inMs)));
  }

  private armIdle(ws: WebSocket): void {
    if (this.o.idleTimeoutMs <= 0) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.o.logger.warn({ ws: this.o.name, idleMs: this.o.idleTimeoutMs }, 'no data in time, reconnecting');
      ws.terminate();
    }, this.o.idleTimeoutMs);
  }

  private onClose(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.ws) return;
    this.clearTimers();
    this.ws = null;
    const refusal = this.refusal;
    if (refusal?.fatal) this.running = false;
    if (refusal) this.emit('refused', refusal);
    this.emit('close', code, reason);
    if (!this.running) return;
    const cap = Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** Math.min(this.attempt, 20));
    const delayMs = Math.max(20, Math.round(Math.random() * cap));
    this.attempt += 1;
    this.emit('reconnecting', { attempt: this.attempt, delayMs });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delayMs);
  }

  private clearTimers(): void {
    for (const t of [this.stableTimer, this.idleTimer, this.pongTimer, this.silenceTimer]) if (t) clearTimeout(t);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.stableTimer = this.idleTimer = this.pongTimer = this.pingTimer = this.silenceTimer = null;
  }
}
