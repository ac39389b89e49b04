/**
 * The fake order-update WebSocket (reference §6): upgrade always accepted, then a JSON login
 * `{"LoginReq":{"MsgCode":42,"ClientId","Token"},"UserType":"SELF"}`. A good login gets no answer at
 * all; a bad one gets a TCP reset ~10 ms later with no close frame (measured). Protocol pings every
 * `pingMs`. Pushes go to every logged-in socket of the order's client.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface LoginRecord {
  clientId: string | null;
  ok: boolean;
  at: number;
}

interface Waiter {
  probe: () => boolean;
}

export class DhanSocketHub {
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  private readonly all = new Set<WebSocket>();
  private readonly byClient = new Map<WebSocket, string>();
  private readonly logins: LoginRecord[] = [];
  private readonly waiters = new Set<Waiter>();
  private readonly pingTimer: NodeJS.Timeout;
  private readonly resetTimers = new Set<NodeJS.Timeout>();
  /** Sockets that stay open (pings go on) but are sent nothing more: a feed dead behind the server. */
  private readonly silent = new WeakSet<WebSocket>();
  /** Each push is sent this many times (duplicatePushes). */
  copies = 1;

  constructor(
    private readonly checkLogin: (clientId: string, token: string) => boolean,
    private readonly opts: { pingMs: number; badLoginResetMs: number },
  ) {
    // GUESS: the order-update docs say nothing about pings; 10 s is the market feed's documented cadence.
    this.pingTimer = setInterval(() => {
      for (const ws of this.all) if (ws.readyState === ws.OPEN) ws.ping();
    }, opts.pingMs);
  }

  handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws));
  }

  loginRecords(clientId?: string): LoginRecord[] {
    return this.logins.filter((l) => clientId === undefined || l.clientId === clientId).map((l) => ({ ...l }));
  }

  /** Resolve when at least `count` logins (of that outcome, when given) were seen for the client. */
  waitForLogin(clientId: string, opts: { count?: number; ok?: boolean; timeoutMs?: number } = {}): Promise<LoginRecord[]> {
    const count = opts.count ?? 1;
    const matching = () => this.logins.filter((l) => l.clientId === clientId && (opts.ok === undefined || l.ok === opts.ok));
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        probe: () => {
          if (matching().length < count) return false;
          clearTimeout(timer);
          this.waiters.delete(w);
          resolve(matching());
          return true;
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        reject(new Error(`fake dhan: ${count} login(s) for ${clientId} not seen within ${opts.timeoutMs ?? 5000} ms (saw ${matching().length})`));
      }, opts.timeoutMs ?? 5000);
      if (!w.probe()) this.waiters.add(w);
    });
  }

  /** Logged-in sockets of a client right now. */
  connected(clientId: string): number {
    let n = 0;
    for (const [ws, c] of this.byClient) if (c === clientId && ws.readyState === ws.OPEN) n += 1;
    return n;
  }

  push(clientId: string, frame: string): void {
    for (const [ws, c] of this.byClient) {
      if (c !== clientId || ws.readyState !== ws.OPEN || this.silent.has(ws)) continue;
      for (let i = 0; i < this.copies; i += 1) ws.send(frame);
    }
  }

  /** The client's open sockets go silent for good (sockets opened later are normal); returns how many. */
  silence(clientId: string): number {
    let n = 0;
    for (const [ws, c] of this.byClient) {
      if (c !== clientId || ws.readyState !== ws.OPEN || this.silent.has(ws)) continue;
      this.silent.add(ws);
      n += 1;
    }
    return n;
  }

  /** Kill sockets abruptly (TCP reset, no close frame), all or one client's. */
  drop(clientId?: string): number {
    let n = 0;
    for (const ws of this.all) {
      if (clientId !== undefined && this.byClient.get(ws) !== clientId) continue;
      reset(ws);
      n += 1;
    }
    return n;
  }

  close(): void {
    clearInterval(this.pingTimer);
    for (const t of this.resetTimers) clearTimeout(t);
    for (const ws of this.all) ws.terminate();
    this.wss.close();
  }

  private onConnection(ws: WebSocket): void {
    this.all.add(ws);
    ws.on('close', () => {
      this.all.delete(ws);
      this.byClient.delete(ws);
    });
    ws.on('error', () => {});
    ws.on('message', (data) => {
      if (this.byClient.has(ws)) return; // GUESS: anything after the login is ignored
      const { clientId, token } = readLogin(data.toString());
      const ok = clientId !== null && token !== null && this.checkLogin(clientId, token);
      this.logins.push({ clientId, ok, at: performance.now() });
      if (ok && clientId) this.byClient.set(ws, clientId);
      else {
        const t = setTimeout(() => {
          this.resetTimers.delete(t);
          reset(ws);
        }, this.opts.badLoginResetMs);
        this.resetTimers.add(t);
      }
      for (const w of [...this.waiters]) w.probe();
    });
  }
}

function readLogin(text: string): { clientId: string | null; token: string | null } {
  try {
    const m = JSON.parse(text) as { LoginReq?: { MsgCode?: unknown; ClientId?: unknown; Token?: unknown }; UserType?: unknown };
    const r = m.LoginReq;
    if (!r || r.MsgCode !== 42 || m.UserType !== 'SELF') return { clientId: typeof r?.ClientId === 'string' ? r.ClientId : null, token: null };
    return { clientId: typeof r.ClientId === 'string' ? r.ClientId : null, token: typeof r.Token === 'string' ? r.Token : null };
  } catch {
    return { clientId: null, token: null };
  }
}

/** TCP reset without a close frame, like Dhan's refusal of a bad login. */
function reset(ws: WebSocket): void {
  const sock = (ws as unknown as { _socket?: Socket })._socket;
  if (sock && typeof sock.resetAndDestroy === 'function') sock.resetAndDestroy();
  else ws.terminate();
}
