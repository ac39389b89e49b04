/**
 * Fake Kite Connect v3 for tests: REST (node:http) and the ticker WebSocket (`ws`) on one
 * 127.0.0.1 port, speaking the wire described in shared/reference/kite-api.md: form bodies,
 * `Authorization: token key:token`, the error envelope, TokenException 403s, 19-digit string order
 * ids, a per-account order rate limit answering 429, 1-byte heartbeats and `{"type":"order"}` frames,
 * and the instruments CSV as exactly `text/csv` (gzip when asked). State lives in memory.
 *
 * GUESSES are marked where the reference does not say (mostly exact error messages). Choices:
 * - OPEN is NOT pushed on acceptance by default (what Zerodha staff describe); `pushOpenOnAccept`.
 * - `X-Kite-Version: 3` is required: without it, 400 InputException (GUESS: the real API may default).
 * - /instruments needs the auth header like every other call (GUESS).
 * - `injectError(…, 'any')` matches any order call (place, modify, cancel), never reads.
 * - `duplicatePushes(n)`: every later order frame is sent n times in all (1 = normal).
 * - `expireToken` also drops the account's sockets, so a reconnect meets the 403 (GUESS: Kite may
 *   leave an open socket up until it drops by itself).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { createHash, randomBytes } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { type FakeKiteAccount, KiteBook, type Params, newAccount, randomToken, seedHoldings, seedOvernightPosition } from './kite-book.js';
import { KiteQuotes } from './kite-quotes.js';
import { dayPositionRow, holdingRow, margins, positionRow, profile } from './kite-responses.js';
import { type KiteFailure, type KiteOrderRow, type KiteStatus, TOKEN_INVALID, TOO_MANY, fail, input, instrumentsCsv, orderPush } from './kite-wire.js';

export type KiteOp = 'place' | 'modify' | 'cancel';
export type KiteFault = { status: number; body: unknown } | 'hang' | 'accept-then-hang';

export interface PlaceRequest {
  variety: string;
  form: Params;
  /** performance.now() when the request arrived. */
  at: number;
  /** HTTP status answered (null while hanging). */
  status: number | null;
  orderId: string | null;
}

export interface UserOrder {
  tradingsymbol: string;
  exchange: string;
  transaction_type: 'BUY' | 'SELL';
  order_type: 'MARKET' | 'LIMIT' | 'SL' | 'SL-M';
  quantity: number;
  product: 'CNC' | 'NRML' | 'MIS';
  price?: number;
  trigger_price?: number;
  validity?: 'DAY' | 'IOC';
  tag?: string;
  variety?: 'regular' | 'amo';
}

/** An opening delivery holding, in Kite's identifiers (an NSE or BSE equity the fake lists). */
export interface FakeKiteHoldingSeed {
  tradingsymbol: string;
  exchange: 'NSE' | 'BSE';
  /** opening_quantity: settled + T1. */
  qty: number;
  avgPrice: number;
  /** Part of `qty` bought on the previous trading day (t1_quantity). Default 0. */
  t1Qty?: number;
}

/** A position carried in from earlier days, in Kite's identifiers; `qty` signed (short < 0). */
export interface FakeKiteOvernightSeed {
  tradingsymbol: string;
  exchange: string;
  product: 'CNC' | 'NRML' | 'MIS' | 'MTF';
  qty: number;
  avgPrice: number;
}

export interface FakeKiteOptions {
  /** Push an OPEN frame when an order is accepted (default false). */
  pushOpenOnAccept?: boolean;
  /** Order calls (place/modify/cancel) per account per calendar second (default 10). */
  orderRatePerSec?: number;
  /** Heartbeat period (default 1000 ms). */
  heartbeatMs?: number;
  /** Reject MARKET/SL-M without market_protection (default true, SEBI 2026). */
  requireMarketProtection?: boolean;
  /** ms an order sits in OPEN PENDING before OPEN (default 0). */
  openDelayMs?: number;
  /** Extra synthetic rows in /instruments (default 0). */
  syntheticInstruments?: number;
  /** Request-token lifetime (default 2 min). */
  requestTokenTtlMs?: number;
  /** /quote/ltp requests per api key per second before 429 (default 1, reference §5.1). */
  quoteRatePerSec?: number;
}

export interface FakeKite {
  readonly apiUrl: string;
  readonly wsUrl: string;
  readonly port: number;
  /** Mutable switches (e.g. `fake.config.pushOpenOnAccept = true`). */
  readonly config: {
    pushOpenOnAccept: boolean;
    requireMarketProtection: boolean;
    openDelayMs: number;
    orderRatePerSec: number;
    /** Refuse every WebSocket upgrade with 403 (a plan without WebSocket access). */
    refuseUpgrades: boolean;
    /** Leave `opening_quantity` out of holdings rows (an older API shape; clients must fall back). */
    omitOpeningQuantity: boolean;
  };
  /** Add an account; returns its access token. */
  addAccount(a: { apiKey: string; apiSecret: string; userId: string; accessToken?: string }): string;
  accessToken(apiKey: string): string | null;
  issueRequestToken(apiKey: string): string;
  placeAsUser(apiKey: string, o: UserOrder): string;
  modifyAsUser(apiKey: string, orderId: string, change: { quantity?: number; price?: number; trigger_price?: number; order_type?: string }): void;
  cancelAsUser(apiKey: string, orderId: string): void;
  fill(orderId: string, f: { price: number; qty?: number }): void;
  reject(orderId: string, reason: string): void;
  orders(apiKey: string): KiteOrderRow[];
  history(orderId: string): KiteOrderRow[];
  /**
   * Seed the account's opening delivery holdings (replaces any before). GET /portfolio/holdings then
   * shows `opening_quantity = qty` all day; CNC sells of it add to `used_quantity`.
   */
  setHoldings(apiKey: string, holdings: readonly FakeKiteHoldingSeed[]): void;
  /**
   * Seed one position carried in from earlier days (qty 0 removes it; before the day's fills in it).
   * Its `net` row then has `overnight_quantity = qty` and `quantity = qty + day buys − day sells`.
   */
  setOvernightPosition(apiKey: string, position: FakeKiteOvernightSeed): void;
  placeRequests(apiKey: string): PlaceRequest[];
  /** Every authenticated-looking REST request of an account (method, path, performance.now()). */
  requests(apiKey: string): { method: string; path: string; at: number }[];
  /** WebSocket upgrade attempts per api key, accepted or refused. */
  upgradeAttempts(apiKey: string): number;
  /** Open ticker sockets of an account. */
  socketCount(apiKey: string): number;
  /** Send a raw frame to an account's sockets (garbage, error/message frames, ticks). */
  pushRaw(apiKey: string, data: string | Buffer): void;
  dropSockets(apiKey?: string): void;
  duplicatePushes(n: number): void;
  injectError(apiKey: string, op: KiteOp | 'any', fault: KiteFault, times?: number): void;
  expireToken(apiKey: string): void;
  /** The last traded price GET /quote/ltp answers for a listed instrument (null: none, left out). */
  setLtp(exchange: string, tradingsymbol: string, price: number | null): void;
  /** The api key's plan has no market data: /quote/ltp answers 403 PermissionException. */
  refuseMarketData(apiKey: string, refused?: boolean): void;
  /** GET /quote/ltp requests received for the api key (answered, refused or limited). */
  quoteCalls(apiKey: string): number;
  close(): Promise<void>;
}

interface Injection {
  op: KiteOp | 'any';
  fault: KiteFault;
  left: number;
}

const AUTH = /^token\s+([^:\s]+):(\S+)$/;

export async function startFakeKite(opts: FakeKiteOptions = {}): Promise<FakeKite> {
  const config = {
    pushOpenOnAccept: opts.pushOpenOnAccept ?? false,
    requireMarketProtection: opts.requireMarketProtection ?? true,
    openDelayMs: opts.openDelayMs ?? 0,
    orderRatePerSec: opts.orderRatePerSec ?? 10,
    refuseUpgrades: false,
    omitOpeningQuantity: false,
  };
  const accounts = new Map<string, FakeKiteAccount>();
  const sockets = new Map<string, WebSocket[]>();
  const injections = new Map<string, Injection[]>();
  const placeLog = new Map<string, PlaceRequest[]>();
  const rate = new Map<string, { second: number; count: number }>();
  const hanging = new Set<ServerResponse>();
  const requestLog = new Map<string, { method: string; path: string; at: number }[]>();
  const upgrades = new Map<string, number>();
  let copies = 1;
  const quotes = new KiteQuotes(opts.quoteRatePerSec ?? 1);

  const sendFrame = (apiKey: string, data: string | Buffer) => {
    for (const ws of sockets.get(apiKey) ?? []) if (ws.readyState === ws.OPEN) ws.send(data);
  };
  const book = new KiteBook(config, (acc, row, status?: KiteStatus | 'UPDATE') => {
    const frame = orderPush(row, acc.userId, status);
    for (let i = 0; i < copies; i += 1) sendFrame(acc.apiKey, frame);
  });

  const accountOf = (apiKey: string): FakeKiteAccount => {
    const a = accounts.get(apiKey);
    if (!a) throw new Error(`fake kite: no account ${apiKey}`);
    return a;
  };
  const ownerOf = (orderId: string): FakeKiteAccount => {
    for (const a of accounts.values()) if (a.orders.has(orderId)) return a;
    throw new Error(`fake kite: no order ${orderId}`);
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    hanging.delete(res);
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  };
  const ok = (res: ServerResponse, data: unknown) => send(res, 200, { status: 'success', data });
  const failWith = (res: ServerResponse, f: KiteFailure) => send(res, f.status, f.body);

  /** The injected fault for this order call, consumed; undefined when none applies. */
  const takeFault = (apiKey: string, op: KiteOp): KiteFault | undefined => {
    const list = injections.get(apiKey) ?? [];
    const i = list.findIndex((x) => x.op === op || x.op === 'any');
    if (i < 0) return undefined;
    const inj = list[i] as Injection;
    inj.left -= 1;
    if (inj.left <= 0) list.splice(i, 1);
    return inj.fault;
  };

  const overRate = (apiKey: string): boolean => {
    const second = Math.floor(Date.now() / 1000);
    const r = rate.get(apiKey);
    if (!r || r.second !== second) {
      rate.set(apiKey, { second, count: 1 });
      return false;
    }
    r.count += 1;
    return r.count > config.orderRatePerSec;
  };

  async function readBody(req: IncomingMessage): Promise<Params> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const type = String(req.headers['content-type'] ?? '');
    if (!text || !type.includes('application/x-www-form-urlencoded')) return {};
    return Object.fromEntries(new URLSearchParams(text));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const params: Params = { ...Object.fromEntries(url.searchParams), ...(method === 'POST' || method === 'PUT' ? await readBody(req) : {}) };
    if (req.headers['x-kite-version'] !== '3') return failWith(res, input('Invalid or missing `X-Kite-Version` header.')); // GUESS

    if (path === '/session/token' && method === 'POST') return sessionToken(res, params);
    if (path === '/session/token' && method === 'DELETE') {
      const acc = accounts.get(params.api_key ?? '');
      if (!acc || acc.accessToken !== params.access_token) return failWith(res, TOKEN_INVALID());
      acc.accessToken = null;
      return ok(res, true);
    }

    const m = AUTH.exec(String(req.headers.authorization ?? ''));
    const acc = m ? accounts.get(m[1] as string) : undefined;
    const orderOp = orderRoute(method, path);
    if (acc) {
      const log = requestLog.get(acc.apiKey) ?? [];
      log.push({ method, path, at: performance.now() });
      requestLog.set(acc.apiKey, log);
      if (method === 'GET' && path === '/quote/ltp') quotes.note(acc.apiKey);
    }
    if (acc && orderOp?.op === 'place') {
      const entry: PlaceRequest = { variety: orderOp.variety, form: { ...params }, at: performance.now(), status: null, orderId: null };
      const log = placeLog.get(acc.apiKey) ?? [];
      log.push(entry);
      placeLog.set(acc.apiKey, log);
      res.on('finish', () => {
        entry.status = res.statusCode;
      });
    }
    let hangAfter = false;
    if (acc && orderOp) {
      const fault = takeFault(acc.apiKey, orderOp.op);
      if (fault === 'hang') {
        hanging.add(res);
        return;
      }
      if (fault === 'accept-then-hang') hangAfter = true;
      else if (fault) return send(res, fault.status, fault.body);
    }
    if (!m || !acc || !acc.accessToken || acc.accessToken !== m[2]) return failWith(res, TOKEN_INVALID());
    if (orderOp && overRate(acc.apiKey)) return failWith(res, TOO_MANY());
    if (method === 'GET' && path === '/quote/ltp') {
      const r = quotes.answer(acc.apiKey, url.searchParams.getAll('i'));
      return 'failure' in r ? failWith(res, r.failure) : ok(res, r.data);
    }

    const reply = (f: KiteFailure | null, data: unknown) => {
      if (hangAfter) {
        hanging.add(res);
        return;
      }
      if (f) failWith(res, f);
      else ok(res, data);
    };
    if (orderOp?.op === 'place') {
      const r = book.place(acc, orderOp.variety, params);
      if (typeof r !== 'string') return reply(r, null);
      const entry = placeLog.get(acc.apiKey)?.at(-1);
      if (entry) entry.orderId = r;
      return reply(null, { order_id: r });
    }
    if (orderOp) {
      const row = acc.orders.get(orderOp.orderId);
      if (row && row.variety !== orderOp.variety) return reply(input('Invalid `variety`.'), null); // GUESS
    }
    if (orderOp?.op === 'modify') return reply(book.modify(acc, orderOp.orderId, params), { order_id: orderOp.orderId });
    if (orderOp?.op === 'cancel') return reply(book.cancel(acc, orderOp.orderId), { order_id: orderOp.orderId });

    if (method === 'GET') {
      if (path === '/user/profile') return ok(res, profile(acc));
      if (path === '/user/margins') return ok(res, { equity: margins(acc), commodity: margins(acc, 0) });
      if (path === '/user/margins/equity') return ok(res, margins(acc));
      if (path === '/user/margins/commodity') return ok(res, margins(acc, 0));
      if (path === '/orders') return ok(res, [...acc.orders.values()]);
      if (path === '/trades') return ok(res, acc.trades);
      if (path === '/portfolio/positions') {
        const all = [...acc.positions.values()];
        return ok(res, { net: all.map(positionRow), day: all.filter((p) => p.buy_quantity > 0 || p.sell_quantity > 0).map(dayPositionRow) });
      }
      if (path === '/portfolio/holdings') {
        return ok(res, [...acc.holdings.values()].map((h) => {
          const row: Record<string, unknown> = holdingRow(acc, h);
          if (config.omitOpeningQuantity) delete row.opening_quantity;
          return row;
        }));
      }
      if (path === '/instruments') return instruments(req, res);
      const hist = /^\/orders\/([^/]+)$/.exec(path);
      if (hist) {
        const h = acc.history.get(hist[1] as string);
        return h ? ok(res, h) : failWith(res, input("Couldn't find that `order_id`.")); // GUESS
      }
      const tr = /^\/orders\/([^/]+)\/trades$/.exec(path);
      if (tr) return ok(res, acc.trades.filter((t) => t.order_id === tr[1]));
    }
    return failWith(res, fail(404, 'GeneralException', 'Route not found')); // GUESS: message
  }

  function sessionToken(res: ServerResponse, p: Params): void {
    if (!p.api_key || !p.request_token || !p.checksum) return failWith(res, input('Missing api_key, request_token or checksum.')); // GUESS
    const acc = accounts.get(p.api_key);
    if (!acc) return failWith(res, fail(403, 'TokenException', 'Invalid `api_key`.')); // GUESS
    const expected = createHash('sha256').update(acc.apiKey + p.request_token + acc.apiSecret).digest('hex');
    if (p.checksum !== expected) return failWith(res, fail(403, 'TokenException', 'Invalid `checksum`.'));
    const expiry = acc.requestTokens.get(p.request_token);
    acc.requestTokens.delete(p.request_token);
    if (expiry === undefined || expiry < Date.now()) return failWith(res, fail(403, 'TokenException', 'Token is invalid or has expired.'));
    acc.accessToken = randomToken();
    ok(res, {
      ...profile(acc),
      api_key: acc.apiKey,
      access_token: acc.accessToken,
      public_token: randomToken(),
      enctoken: randomToken(),
      refresh_token: '',
      silo: '',
      login_time: new Date(Date.now() + 5.5 * 3600_000).toISOString().slice(0, 19).replace('T', ' '),
    });
  }

  function instruments(req: IncomingMessage, res: ServerResponse): void {
    const gzip = String(req.headers['accept-encoding'] ?? '').includes('gzip');
    res.writeHead(200, { 'Content-Type': 'text/csv', ...(gzip ? { 'Content-Encoding': 'gzip' } : {}) });
    const csv = Readable.from(chunked(instrumentsCsv(opts.syntheticInstruments ?? 0)));
    (gzip ? csv.pipe(createGzip()) : csv).pipe(res);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) failWith(res, fail(500, 'GeneralException', e instanceof Error ? e.message : String(e)));
    });
  });
  const conns = new Set<Socket>();
  server.on('connection', (s) => {
    conns.add(s);
    s.on('close', () => conns.delete(s));
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const key = url.searchParams.get('api_key') ?? '';
    upgrades.set(key, (upgrades.get(key) ?? 0) + 1);
    const acc = accounts.get(key);
    const token = url.searchParams.get('access_token');
    if (config.refuseUpgrades || !acc || !acc.accessToken || acc.accessToken !== token) {
      const body = 'Authentication failed';
      socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const list = sockets.get(acc.apiKey) ?? [];
      list.push(ws);
      // Three connections per API key; a fourth disconnects the first (reference §4.1).
      while (list.length > 3) list.shift()?.terminate();
      sockets.set(acc.apiKey, list);
      ws.on('close', () => {
        const l = sockets.get(acc.apiKey) ?? [];
        sockets.set(acc.apiKey, l.filter((x) => x !== ws));
      });
      ws.on('error', () => {});
    });
  });
  const heartbeat = setInterval(() => {
    for (const list of sockets.values()) for (const ws of list) if (ws.readyState === ws.OPEN) ws.send(Buffer.from([0]));
  }, opts.heartbeatMs ?? 1000);

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const userParams = (o: Record<string, string | number | undefined>): Params =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]));

  return {
    apiUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    port,
    config,
    addAccount(a) {
      const acc = newAccount(a);
      accounts.set(a.apiKey, acc);
      return acc.accessToken as string;
    },
    accessToken: (apiKey) => accountOf(apiKey).accessToken,
    issueRequestToken(apiKey) {
      const token = randomBytes(16).toString('hex');
      accountOf(apiKey).requestTokens.set(token, Date.now() + (opts.requestTokenTtlMs ?? 120_000));
      return token;
    },
    placeAsUser(apiKey, o) {
      const { variety, ...rest } = o;
      const params = userParams({ market_protection: o.order_type === 'MARKET' || o.order_type === 'SL-M' ? -1 : undefined, ...rest });
      const r = book.place(accountOf(apiKey), variety ?? 'regular', params);
      if (typeof r !== 'string') throw new Error(`fake kite placeAsUser: ${r.body.message}`);
      return r;
    },
    modifyAsUser(apiKey, orderId, change) {
      const f = book.modify(accountOf(apiKey), orderId, userParams(change));
      if (f) throw new Error(`fake kite modifyAsUser: ${f.body.message}`);
    },
    cancelAsUser(apiKey, orderId) {
      const f = book.cancel(accountOf(apiKey), orderId);
      if (f) throw new Error(`fake kite cancelAsUser: ${f.body.message}`);
    },
    fill: (orderId, f) => book.fill(ownerOf(orderId), orderId, f.price, f.qty),
    reject: (orderId, reason) => book.reject(ownerOf(orderId), orderId, reason),
    orders: (apiKey) => [...accountOf(apiKey).orders.values()].map((r) => structuredClone(r)),
    history: (orderId) => structuredClone(ownerOf(orderId).history.get(orderId) ?? []),
    setHoldings: (apiKey, holdings) => seedHoldings(accountOf(apiKey), holdings),
    setOvernightPosition: (apiKey, position) => seedOvernightPosition(accountOf(apiKey), position),
    placeRequests: (apiKey) => [...(placeLog.get(apiKey) ?? [])],
    requests: (apiKey) => [...(requestLog.get(apiKey) ?? [])],
    upgradeAttempts: (apiKey) => upgrades.get(apiKey) ?? 0,
    socketCount: (apiKey) => (sockets.get(apiKey) ?? []).filter((ws) => ws.readyState === ws.OPEN).length,
    pushRaw: (apiKey, data) => sendFrame(apiKey, data),
    dropSockets(apiKey) {
      for (const [key, list] of sockets) if (!apiKey || key === apiKey) for (const ws of list) ws.terminate();
    },
    duplicatePushes(n) {
      copies = Math.max(1, Math.floor(n));
    },
    injectError(apiKey, op, fault, times = 1) {
      const list = injections.get(apiKey) ?? [];
      list.push({ op, fault, left: times });
      injections.set(apiKey, list);
    },
    setLtp: (exchange, tradingsymbol, price) => quotes.setLtp(exchange, tradingsymbol, price),
    refuseMarketData(apiKey, refused = true) {
      accountOf(apiKey);
      quotes.refuse(apiKey, refused);
    },
    quoteCalls: (apiKey) => quotes.count(apiKey),
    expireToken(apiKey) {
      accountOf(apiKey).accessToken = null;
      for (const ws of sockets.get(apiKey) ?? []) ws.terminate();
    },
    async close() {
      clearInterval(heartbeat);
      book.close();
      for (const res of hanging) res.destroy();
      hanging.clear();
      for (const list of sockets.values()) for (const ws of list) ws.terminate();
      wss.close();
      for (const s of conns) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Lines joined into ~64 KB chunks (one chunk per line makes streaming needlessly slow). */
function* chunked(lines: Iterable<string>): Generator<string> {
  let buf = '';
  for (const l of lines) {
    buf += l;
    if (buf.length >= 65_536) {
      yield buf;
      buf = '';
    }
  }
  if (buf) yield buf;
}

function orderRoute(method: string, path: string): { op: KiteOp; variety: string; orderId: string } | null {
  const place = /^\/orders\/(regular|amo|co|iceberg|auction)$/.exec(path);
  if (place && method === 'POST') return { op: 'place', variety: place[1] as string, orderId: '' };
  const one = /^\/orders\/(regular|amo|co|iceberg|auction)\/([^/]+)$/.exec(path);
  if (one && method === 'PUT') return { op: 'modify', variety: one[1] as string, orderId: one[2] as string };
  if (one && method === 'DELETE') return { op: 'cancel', variety: one[1] as string, orderId: one[2] as string };
  return null;
}
