/**
 * The Kite ticker socket as an order stream: `wsUrl?api_key=…&access_token=…` through ResilientWs.
 * Text order frames become updates; binary frames (ticks, 1-byte heartbeats) only feed the data
 * watchdog; error/message frames are logged. A refused upgrade (403: token bad or expired, or a
 * plan without WebSocket access) reports `session_expired` once and stops reconnecting.
 */
import type { BrokerOrder } from '../../domain/order.js';
import type { Logger } from '../../infra/logger.js';
import { ResilientWs } from '../../infra/resilient-ws.js';
import type { StreamState } from '../port.js';
import { parseKiteFrame } from './kite-frame.js';

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
    });
    this.ws = ws;
    ws.on('open', () => this.o.onState('connected'));
    ws.on('refused', ({ status, body, fatal }) => {
      if (!fatal) {
        log.warn({ account, status }, 'kite stream upgrade refused, will retry');
        return;
      }
      log.warn({ account, status, body }, 'kite stream refused: token invalid or expired');
      this.o.onState('session_expired', `WebSocket upgrade refused (${status}${body ? `: ${body.slice(0, 100)}` : ''})`);
    });
    // After a fatal refusal the client is no longer running: no 'disconnected' after 'session_expired'.
    ws.on('close', (code) => {
      if (ws.isRunning) this.o.onState('disconnected', `socket closed (${code})`);
    });
    ws.on('reconnecting', () => this.o.onState('connecting'));
    ws.on('wsError', (err) => log.debug({ account, err: err.message }, 'kite stream socket error'));
    ws.on('message', (data, isBinary) => {
      // Binary frames (ticks, 1-byte heartbeats) parse to nothing; they only fed the watchdog.
      const frame = parseKiteFrame(data, isBinary);
      for (const e of frame.errors) log.warn({ account, frame: e }, 'kite stream frame');
      for (const m of frame.messages) log.info({ account, message: m }, 'kite stream message');
      for (const order of frame.orders) this.o.onOrder(order);
    });
    this.o.onState('connecting');
    ws.start();
  }

  async stop(): Promise<void> {
    const ws = this.ws;
    this.ws = null;
    if (!ws) return;
    ws.removeAllListeners();
    await ws.stop();
  }
}
