/**
 * Fake Dhan API v2 for tests: REST under `/v2`, the order-update WebSocket at `/`, and the compact
 * scrip master at `/scrip-master.csv`, all on one 127.0.0.1 port. Behaviour follows
 * shared/reference/dhan-api.md; every place where it is a guess says GUESS (here and in fakes/dhan/).
 *
 *   const fake = await startFakeDhan();
 *   const token = fake.addAccount('1000000001');
 *   new DhanBroker({ ..., apiUrl: fake.apiUrl, wsUrl: fake.wsUrl, accessToken: token });
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { DhanBook, type Answer, type FakeDhanHoldingSeed, type FakeDhanOvernightSeed } from './dhan/book.js';
import { DHAN_FAKE_INSTRUMENTS, DHAN_SCRIP_MASTER_HEADER, fakeDhanInstrument, scripMasterLine, syntheticOptionLines } from './dhan/instruments.js';
import { DATA_ERR, DhanQuotes } from './dhan/quotes.js';
import { DhanSocketHub, type LoginRecord } from './dhan/socket.js';
import { ERR, istIso, istValidity, mintToken, pushFrame, restOrder, type FakeDhanOrder } from './dhan/wire.js';

export { DHAN_FAKE_INSTRUMENTS, DHAN_FAKE_TRADABLE, fakeDhanInstrument } from './dhan/instruments.js';
export type { FakeDhanInstrument } from './dhan/instruments.js';
export type { FakeDhanOrder, FakeDhanTrade } from './dhan/wire.js';
export type { FakeDhanHoldingSeed, FakeDhanOvernightSeed } from './dhan/book.js';
export type { LoginRecord } from './dhan/socket.js';
export { ERR as DHAN_ERRORS } from './dhan/wire.js';

/**
 * Order writes, 'book' (GET /orders, the order book), 'lookup' (GET /orders/{id} and
 * /orders/external/{correlationId}), 'holdings' (GET /holdings), 'quote' (POST /marketfeed/ltp),
 * or 'any' request.
 */
export type FakeDhanOp = 'place' | 'modify' | 'cancel' | 'book' | 'lookup' | 'holdings' | 'quote' | 'any';
/**
 * An HTTP answer (JSON `body`, or a raw `html` page as a proxy in front of the API sends), 'hang'
 * (never answer, do nothing), or 'accept-then-hang' (do it, never answer).
 */
export type FakeDhanFault = { status: number; body: unknown } | { status: number; html: string } | 'hang' | 'accept-then-hang';

export interface PlaceRequestRecord {
  body: Record<string, unknown>;
  /** performance.now() at arrival. */
  at: number;
  /** HTTP status answered; undefined while (or when forever) unanswered. */
  status?: number;
  /** The `access-token` header the request carried. */
  token: string;
}

export interface UserOrderSpec {
  securityId: string;
  exchangeSegment?: string;
  transactionType: 'BUY' | 'SELL';
  quantity: number;
  /** Dhan spelling: LIMIT (default), MARKET, STOP_LOSS, STOP_LOSS_MARKET. */
  orderType?: string;
  productType?: string;
  price?: number;
  triggerPrice?: number;
  validity?: 'DAY' | 'IOC';
  amo?: boolean;
}

export interface FakeDhanOptions {
  /** Order requests (place/modify/cancel) per second per account before 429 DH-904. Default 10. */
  orderRatePerSec?: number;
  /** TRANSIT → PENDING delay; 0 (default) = immediate but asynchronous. */
  transitDelayMs?: number;
  /** Server protocol ping period. Default 10 s. */
  pingMs?: number;
  /** Delay of the TCP reset after a bad login. Default 10 ms (measured). */
  badLoginResetMs?: number;
  /** Synthetic option rows appended to the scrip master (streaming tests). Default 0. */
  extraScripRows?: number;
  /**
   * What GET /holdings answers for an account with no holdings: 'error' (default, production:
   * HTTP 500 DH-1111 "No holdings available") or 'empty-array' (the sandbox: 200 []).
   */
  emptyHoldings?: 'error' | 'empty-array';
  /** Market-quote requests per client per second before 429 805. Default 1 (reference §8). */
  quoteRatePerSec?: number;
  /** Called for every order-update push right before its frame is written to the sockets (bench: `at` = performance.now()). */
  onPush?: (order: Readonly<FakeDhanOrder>, at: number) => void;
}

export interface FakeDhan {
  readonly apiUrl: string;
  readonly wsUrl: string;
  readonly instrumentsUrl: string;
  /** Register an account; returns its token (minted when not given). */
  addAccount(clientId: string, token?: string): string;
  /** The account's current token. */
  token(clientId: string): string;
  /** A leader placing from the web app: no correlation id, pushes TRANSIT then PENDING. */
  placeAsUser(clientId: string, spec: UserOrderSpec): FakeDhanOrder;
  modifyAsUser(orderId: string, change: { quantity?: number; price?: number; triggerPrice?: number; orderType?: string; validity?: string }): FakeDhanOrder;
  cancelAsUser(orderId: string): FakeDhanOrder;
  /** Trade `qty` (default all remaining) at `price`; partial → PART_TRADED. */
  fill(orderId: string, f: { price: number; qty?: number }): FakeDhanOrder;
  reject(orderId: string, reason: string): FakeDhanOrder;
  orders(clientId: string): FakeDhanOrder[];
  /**
   * Seed the account's opening delivery holdings (replaces any before). `qty` is the opening
   * quantity (DP + T1; `t1Qty` says how much of it is T1, default 0). GET /holdings then shows
   * `totalQty = qty` all day, while `availableQty` drops as CNC sells of it fill.
   */
  setHoldings(clientId: string, holdings: readonly FakeDhanHoldingSeed[]): void;
  /**
   * Seed one position carried in from earlier days (`qty` signed; 0 removes it). It shows in
   * GET /positions as `carryForwardBuyQty`/`carryForwardSellQty`, with today's fills added on top.
   */
  setOvernightPosition(clientId: string, position: FakeDhanOvernightSeed): void;
  /** Every POST /orders received for the client, in arrival order. */
  placeRequests(clientId: string): PlaceRequestRecord[];
  /** Login attempts on the order socket (all clients when omitted). */
  logins(clientId?: string): LoginRecord[];
  waitForLogin(clientId: string, opts?: { count?: number; ok?: boolean; timeoutMs?: number }): Promise<LoginRecord[]>;
  /** Logged-in order sockets of the client right now. */
  connectedSockets(clientId: string): number;
  /** Reset sockets (TCP RST, no close frame); returns how many. */
  dropSockets(clientId?: string): number;
  /** The client's open order sockets stay open (pings go on) but get nothing more; new ones are normal. */
  silenceSockets(clientId: string): number;
  /** From now on every push is sent `n` times (1 = normal). */
  duplicatePushes(n: number): void;
  /** While muted, the client's order sockets stay open but no order update is pushed to them (lost, not queued). */
  mutePushes(clientId: string, muted?: boolean): void;
  /** The next `times` matching requests of the client get `fault` instead of the normal answer. */
  injectError(clientId: string, op: FakeDhanOp, fault: FakeDhanFault, times?: number): void;
  /** Drop the account's injected faults not yet used up. */
  clearErrors(clientId: string): void;
  /** Kill the token: REST answers 401 DH-901 (or, with 'invalid-token', 400 DH-906 "Invalid Token"). */
  expireToken(clientId: string, mode?: 'dh901' | 'invalid-token'): void;
  /** Generate a new token as on web.dhan.co (the old one dies: one active token per client); returns it. */
  issueToken(clientId: string): string;
  setTransitDelay(ms: number): void;
  /** The last traded price POST /marketfeed/ltp answers for an instrument (null: none, left out). */
  setLtp(segment: string, securityId: string, price: number | null): void;
  /** The client's plan has no Data APIs: market quote answers 401 `{"data":{"806":…},"status":"failed"}`. */
  refuseMarketData(clientId: string, refused?: boolean): void;
  /** POST /marketfeed/ltp requests received for the client (answered, refused or limited). */
  quoteCalls(clientId: string): number;
  close(): Promise<void>;
}

interface Account {
  clientId: string;
  token: string;
  tokenExpiresAt: number;
  dead: false | 'dh901' | 'invalid-token';
  sodLimit: number;
  orderTimes: number[];
  places: PlaceRequestRecord[];
  faults: { op: FakeDhanOp; fault: FakeDhanFault; left: number }[];
}

const json = (res: ServerResponse, a: Answer) => {
  res.writeHead(a.status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(a.body));
};

export async function startFakeDhan(opts: FakeDhanOptions = {}): Promise<FakeDhan> {
  const accounts = new Map<string, Account>();
  const hung = new Set<ServerResponse>();
  const mutedPushes = new Set<string>();
  const rate = opts.orderRatePerSec ?? 10;
  const sockets = new DhanSocketHub(
    (clientId, token) => {
      const a = accounts.get(clientId);
      return !!a && !a.dead && a.token === token;
    },
    { pingMs: opts.pingMs ?? 10_000, badLoginResetMs: opts.badLoginResetMs ?? 10 },
  );
  const onPush = opts.onPush;
  const quotes = new DhanQuotes(opts.quoteRatePerSec ?? 1);
  const book = new DhanBook({ transitDelayMs: opts.transitDelayMs ?? 0 }, (o) => {
    const frame = pushFrame(o);
    onPush?.(o, performance.now());
    if (!mutedPushes.has(o.clientId)) sockets.push(o.clientId, frame);
  });

  const account = (clientId: string): Account => {
    const a = accounts.get(clientId);
    if (!a) throw new Error(`fake dhan: no account ${clientId}`);
    return a;
  };
  const order = (orderId: string): FakeDhanOrder => {
    const o = book.get(orderId);
    if (!o) throw new Error(`fake dhan: no order ${orderId}`);
    return o;
  };
  const expectOk = (a: Answer, what: string) => {
    if (a.status !== 200) throw new Error(`fake dhan: ${what} refused: ${JSON.stringify(a.body)}`);
  };

  /** Who is calling: by token (live or dead), else by the client-id header. */
  const identify = (req: IncomingMessage): Account | undefined => {
    const token = req.headers['access-token'];
    for (const a of accounts.values()) if (a.token === token) return a;
    const cid = req.headers['client-id'] ?? req.headers.dhanclientid;
    return typeof cid === 'string' ? accounts.get(cid) : undefined;
  };

  const authError = (req: IncomingMessage, a: Account | undefined): Answer | null => {
    if (!a || a.token !== req.headers['access-token']) return { status: 401, body: ERR.invalidAuth };
    if (a.dead === 'invalid-token') return { status: 400, body: ERR.invalidTokenOrderError };
    if (a.dead || Date.now() > a.tokenExpiresAt) return { status: 401, body: ERR.invalidAuth };
    // GUESS: a client-id header naming another client is treated as an auth failure.
    const cid = req.headers['client-id'] ?? req.headers.dhanclientid;
    if (cid !== undefined && cid !== a.clientId) return { status: 401, body: ERR.invalidAuth };
    return null;
  };

  const route = (a: Account, method: string, path: string, body: Record<string, unknown>): Answer => {
    const seg = path.split('/').filter(Boolean).map(decodeURIComponent);
    const [head, second, third] = seg;
    if (head === 'orders') {
      if (method === 'POST' && seg.length === 1) return book.place(a.clientId, body, 'P');
      if (method === 'PUT' && seg.length === 2 && second) return book.modify(a.clientId, second, body);
      if (method === 'DELETE' && seg.length === 2 && second) return book.cancel(a.clientId, second);
      if (method === 'GET' && seg.length === 1) return { status: 200, body: book.list(a.clientId).map(restOrder) };
      if (method === 'GET' && second === 'external' && third && seg.length === 3) {
        const o = book.byCorrelationId(a.clientId, third);
        return o ? { status: 200, body: restOrder(o) } : { status: 404, body: ERR.noSuchOrder };
      }
      if (method === 'GET' && seg.length === 2 && second) {
        const o = book.get(second);
        // Measured: an unknown id answers 200 []. GUESS: a known one answers the documented object.
        return { status: 200, body: o && o.clientId === a.clientId ? restOrder(o) : [] };
      }
    }
    if (head === 'trades' && method === 'GET' && seg.length <= 2) {
      return {
        status: 200,
        body: book.tradesOf(a.clientId, second).map((t) => ({
          dhanClientId: t.clientId, orderId: t.orderId, exchangeOrderId: order(t.orderId).exchangeOrderId, exchangeTradeId: t.tradeId,
          transactionType: t.transactionType, exchangeSegment: t.exchangeSegment, productType: t.productType, orderType: order(t.orderId).orderType,
          tradingSymbol: fakeDhanInstrument(t.securityId, t.exchangeSegment)?.symbol ?? '', securityId: t.securityId,
          tradedQuantity: t.quantity, tradedPrice: t.price,
        })),
      };
    }
    if (method === 'GET' && head === 'positions' && seg.length === 1) return { status: 200, body: book.positions(a.clientId) };
    if (method === 'GET' && head === 'holdings' && seg.length === 1) {
      const rows = book.holdings(a.clientId);
      if (rows) return { status: 200, body: rows };
      return opts.emptyHoldings === 'empty-array' ? { status: 200, body: [] } : { status: 500, body: ERR.noHoldings };
    }
    if (method === 'GET' && head === 'fundlimit') return { status: 200, body: book.funds(a.clientId, a.sodLimit) };
    if (method === 'GET' && head === 'profile') {
      return {
        status: 200,
        body: { dhanClientId: a.clientId, tokenValidity: istValidity(a.tokenExpiresAt), activeSegment: 'Equity, Derivative, Currency, Commodity', ddpi: 'Active', mtf: 'Active', dataPlan: 'Active', dataValidity: '2027-01-01 09:00:00.0' },
      };
    }
    if (head === 'RenewToken') {
      if (method !== 'GET') return { status: 400, body: ERR.input }; // measured: POST → 400 DH-905
      const minted = mintToken(a.clientId);
      a.token = minted.token; // the old token dies at once (documented)
      a.tokenExpiresAt = minted.expiresAt;
      return {
        status: 200,
        body: { dhanClientId: a.clientId, dhanClientName: `Fake ${a.clientId}`, dhanClientUcc: `UCC${a.clientId.slice(-4)}`, givenPowerOfAttorney: false, accessToken: minted.token, expiryTime: istIso(minted.expiresAt) },
      };
    }
    // GUESS: the real body for an unknown path is not documented.
    return { status: 404, body: { errorType: 'Input_Exception', errorCode: 'DH-905', errorMessage: `No route ${method} /${seg.join('/')}` } };
  };

  const opOf = (method: string, path: string): FakeDhanOp | 'read' => {
    if (!/^\/orders(\/|$)/.test(path)) return 'read';
    if (method === 'POST' && path === '/orders') return 'place';
    if (method === 'PUT') return 'modify';
    if (method === 'DELETE') return 'cancel';
    return 'read';
  };

  const serveCsv = (res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'text/csv' });
    // Written line by line (chunked), so a client that buffers the whole body is not what works.
    res.write(`${DHAN_SCRIP_MASTER_HEADER}\n`);
    for (const i of DHAN_FAKE_INSTRUMENTS) res.write(`${scripMasterLine(i)}\n`);
    let chunk = '';
    for (const line of syntheticOptionLines(opts.extraScripRows ?? 0)) {
      chunk += `${line}\n`;
      if (chunk.length > 64_000) {
        res.write(chunk);
        chunk = '';
      }
    }
    res.end(chunk);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    if (method === 'GET' && url.pathname === '/scrip-master.csv') return serveCsv(res);
    if (!url.pathname.startsWith('/v2/')) return json(res, { status: 404, body: { error: 'not found' } });
    const path = url.pathname.slice(3);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: Record<string, unknown> = {};
    if (raw.trim()) {
      try {
        const parsed: unknown = JSON.parse(raw);
        body = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
      } catch {
        return json(res, { status: 400, body: ERR.input }); // GUESS: malformed JSON → DH-905
      }
    }
    const a = identify(req);
    const op = opOf(method, path);
    const isQuote = method === 'POST' && path === '/marketfeed/ltp';
    if (isQuote && a) quotes.note(a.clientId);
    const record: PlaceRequestRecord | null = op === 'place' && a ? { body, at: performance.now(), token: String(req.headers['access-token'] ?? '') } : null;
    if (record && a) a.places.push(record);
    const answer = (x: Answer) => {
      if (record) record.status = x.status;
      json(res, x);
    };
    const denied = authError(req, a);
    if (denied || !a) return answer(isQuote ? DATA_ERR.authFailed() : denied ?? { status: 401, body: ERR.invalidAuth });
    const faultOp = method === 'GET' && path === '/orders' ? 'book' : method === 'GET' && path === '/holdings' ? 'holdings' : isQuote ? 'quote' : op;
    const isLookup = method === 'GET' && /^\/orders\/[^/]/.test(path);
    const fault = a.faults.find((f) => f.left > 0 && (f.op === 'any' || f.op === faultOp || (f.op === 'lookup' && isLookup)));
    if (fault) {
      fault.left -= 1;
      if (fault.fault === 'hang') return void hung.add(res);
      if (fault.fault === 'accept-then-hang') {
        route(a, method, path, body);
        return void hung.add(res);
      }
      if ('html' in fault.fault) {
        if (record) record.status = fault.fault.status;
        res.writeHead(fault.fault.status, { 'content-type': 'text/html' });
        return void res.end(fault.fault.html);
      }
      return answer(fault.fault);
    }
    if (op !== 'read') {
      const now = performance.now();
      a.orderTimes = a.orderTimes.filter((t) => now - t < 1000);
      // GUESS: only requests let through count against the window.
      if (a.orderTimes.length >= rate) return answer({ status: 429, body: ERR.rateLimit });
      a.orderTimes.push(now);
    }
    if (isQuote) return answer(quotes.answer(a.clientId, req.headers['client-id'], body));
    return answer(route(a, method, path, body));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) json(res, { status: 500, body: { ...ERR.internal, errorMessage: String(err) } });
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (new URL(req.url ?? '/', 'http://fake').pathname !== '/') return socket.destroy();
    sockets.handleUpgrade(req, socket, head);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const userSpec = (s: UserOrderSpec): Record<string, unknown> => {
    const segment = s.exchangeSegment ?? fakeDhanInstrument(s.securityId)?.segment;
    if (!segment) throw new Error(`fake dhan: unknown security ${s.securityId}; pass exchangeSegment`);
    const b: Record<string, unknown> = {
      transactionType: s.transactionType, exchangeSegment: segment, productType: s.productType ?? 'MARGIN', orderType: s.orderType ?? 'LIMIT',
      validity: s.validity ?? 'DAY', securityId: s.securityId, quantity: s.quantity, afterMarketOrder: s.amo ?? false,
    };
    if (s.price !== undefined) b.price = s.price;
    if (s.triggerPrice !== undefined) b.triggerPrice = s.triggerPrice;
    return b;
  };

  return {
    apiUrl: `http://127.0.0.1:${port}/v2`,
    wsUrl: `ws://127.0.0.1:${port}/`,
    instrumentsUrl: `http://127.0.0.1:${port}/scrip-master.csv`,
    addAccount(clientId, token) {
      const minted = mintToken(clientId);
      const t = token ?? minted.token;
      // sodLimit 1,000,000: the sandbox's measured availabelBalance. A given token is valid for 24 h like a minted one.
      accounts.set(clientId, { clientId, token: t, tokenExpiresAt: minted.expiresAt, dead: false, sodLimit: 1_000_000, orderTimes: [], places: [], faults: [] });
      return t;
    },
    token: (clientId) => account(clientId).token,
    placeAsUser(clientId, spec) {
      account(clientId);
      const a = book.place(clientId, userSpec(spec), 'N');
      expectOk(a, 'placeAsUser');
      return { ...order((a.body as { orderId: string }).orderId) };
    },
    modifyAsUser(orderId, change) {
      const o = order(orderId);
      const a = book.modify(o.clientId, orderId, { dhanClientId: o.clientId, orderId, orderType: change.orderType ?? o.orderType, validity: change.validity ?? o.validity, ...change });
      expectOk(a, 'modifyAsUser');
      return { ...o };
    },
    cancelAsUser(orderId) {
      const o = order(orderId);
      expectOk(book.cancel(o.clientId, orderId), 'cancelAsUser');
      return { ...o };
    },
    fill: (orderId, f) => book.fill(orderId, f.price, f.qty),
    reject: (orderId, reason) => book.reject(orderId, reason),
    orders: (clientId) => book.list(clientId).map((o) => ({ ...o })),
    setHoldings(clientId, holdings) {
      account(clientId);
      book.setHoldings(clientId, holdings);
    },
    setOvernightPosition(clientId, position) {
      account(clientId);
      book.setOvernightPosition(clientId, position);
    },
    placeRequests: (clientId) => account(clientId).places.map((p) => ({ ...p })),
    logins: (clientId) => sockets.loginRecords(clientId),
    waitForLogin: (clientId, o) => sockets.waitForLogin(clientId, o),
    connectedSockets: (clientId) => sockets.connected(clientId),
    dropSockets: (clientId) => sockets.drop(clientId),
    silenceSockets: (clientId) => sockets.silence(clientId),
    duplicatePushes(n) {
      sockets.copies = Math.max(1, Math.floor(n));
    },
    mutePushes(clientId, muted = true) {
      if (muted) mutedPushes.add(clientId);
      else mutedPushes.delete(clientId);
    },
    injectError(clientId, op, fault, times = 1) {
      account(clientId).faults.push({ op, fault, left: times });
    },
    clearErrors(clientId) {
      account(clientId).faults = [];
    },
    expireToken(clientId, mode = 'dh901') {
      // GUESS: sockets already logged in stay open (Dhan's behaviour for a live socket is unknown).
      account(clientId).dead = mode;
    },
    issueToken(clientId) {
      const a = account(clientId);
      const minted = mintToken(clientId);
      a.token = minted.token;
      a.tokenExpiresAt = minted.expiresAt;
      a.dead = false;
      return minted.token;
    },
    setTransitDelay(ms) {
      book.transitDelayMs = ms;
    },
    setLtp: (segment, securityId, price) => quotes.setLtp(segment, securityId, price),
    refuseMarketData(clientId, refused = true) {
      account(clientId);
      quotes.refuse(clientId, refused);
    },
    quoteCalls: (clientId) => quotes.count(clientId),
    async close() {
      book.close();
      sockets.close();
      for (const res of hung) res.destroy();
      hung.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
