/**
 * The Kite ticker socket as an order stream: `wsUrl?api_key=…&access_token=…` through ResilientWs.
 * Text order frames become updates; binary frames (ticks, 1-byte heartbeats) only feed the data
 * watchdog; error/message frames are logged. Like the Dhan stream, a listener that throws or a frame
 * that cannot be read is logged and skipped: nothing from the socket can crash the process. A refused upgrade (403: token bad or expired, or a
 * plan without WebSocket access) reports `session_expired` once and stops reconnecting.
 */
import type { BrokerOrder } from '../../domain/order.js';
import type { Logger } from '../../infra/logger.js';
import { ResilientWs, type FramePulse } from '../../infra/resilient-ws.js';
import type { StreamState } from '../port.js';
import { parseKiteFrame, type KiteFrame } from './kite-frame.js';

export interface KiteStreamOptions {
  accountId: string;
  apiKey: string;
  wsUrl: string;
  token: () => string | null;
  logger: Logger;
  onOrder: (o: BrokerOrder) => void;
  onState: (s: StreamState, detail?: string) => void;
  /** Kite sends a heartbeat every couple of seconds; silence this long means a dead link. */
  idleTimeoutMs?: number;
  baseDelayMs?: number;
  /** Where the last frame's time is kept (heartbeats included), for /health. */
  pulse?: FramePulse | undefined;
}

export function kiteWsUrl(wsUrl: string, apiKey: string, token: string): string {
  const sep = wsUrl.includes('?') ? '&' : '?';
  return `${wsUrl}${sep}api_key=${encodeURIComponent(apiKey)}&access_token=${encodeURIComponent(token)}`;
}

export class KiteOrderStream {
  private ws: ResilientWs | null = null;

  constructor(private readonly o: KiteStreamOptions) {}

  get running(): boolean {
    return this.ws?.isRunning ?? false;
  }

  start(): void {
    if (this.ws) return;
    const log = this.o.logger;
    const account = this.o.accountId;
    const ws = new ResilientWs({
      name: `kite:${account}`,
      url: () => kiteWsUrl(this.o.wsUrl, this.o.apiKey, this.o.token() ?? ''),
      logger: log,
      headers: { 'X-Kite-Version': '3' },
      idleTimeoutMs: this.o.idleTimeoutMs ?? 10_000,
      baseDelayMs: this.o.baseDelayMs ?? 500,
      maxDelayMs: 30_000,
      fatalStatuses: [401, 403],
      ...(this.o.pulse ? { pulse: this.o.pulse } : {}),
    });
    this.ws = ws;
    ws.on('open', () => this.state('connected'));
    ws.on('refused', ({ status, body, fatal }) => {
      if (!fatal) {
        log.warn({ account, status }, 'kite stream upgrade refused, will retry');
        return;
      }
      log.warn({ account, status, body }, 'kite stream refused: token invalid or expired');
      this.state('session_expired', `WebSocket upgrade refused (${status}${body ? `: ${body.slice(0, 100)}` : ''})`);
    });
    // After a fatal refusal the client is no longer running: no 'disconnected' after 'session_expired'.
    ws.on('close', (code) => {
      if (ws.isRunning) this.state('disconnected', `socket closed (${code})`);
    });
    ws.on('reconnecting', () => this.state('connecting'));
    ws.on('wsError', (err) => log.debug({ account, err: err.message }, 'kite stream socket error'));
    ws.on('message', (data, isBinary) => {
      // Binary frames (ticks, 1-byte heartbeats) parse to nothing; they only fed the watchdog.
      let frame: KiteFrame;
      try {
        frame = parseKiteFrame(data, isBinary);
      } catch (err) {
        log.warn({ account, err: String(err) }, 'kite stream: skipped a frame that could not be read');
        return;
      }
      for (const e of frame.errors) log.warn({ account, frame: e }, 'kite stream frame');
      for (const m of frame.messages) log.info({ account, message: m }, 'kite stream message');
      for (const order of frame.orders) {
        try {
          this.o.onOrder(order);
        } catch (err) {
          log.error({ account, err: String(err), orderId: order.orderId }, 'kite order stream: a listener failed');
        }
      }
    });
    this.state('connecting');
    ws.start();
  }

  /** Report a state; a listener that throws is logged, never thrown into the socket's event loop. */
  private state(s: StreamState, detail?: string): void {
    try {
      this.o.onState(s, detail);
    } catch (err) {
      this.o.logger.error({ account: this.o.accountId, state: s, err: String(err) }, 'kite order stream: a state listener failed');
    }
  }

  async stop(): Promise<void> {
    const ws = this.ws;
    this.ws = null;
    if (!ws) return;
    ws.removeAllListeners();
    await ws.stop();
  }
}
