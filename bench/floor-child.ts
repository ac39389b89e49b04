/**
 * The floor, as its own process: the same transport stack as tandem's Dhan adapters with no logic.
 * A `ws` client logs in to the leader's order socket; each frame → JSON.parse → (PENDING only) one
 * POST /orders per follower through the fastest bare HTTP client of the same run (http-clients.ts:
 * undici, node:http or axios; keep-alive, one client per follower like the Dhan adapter), fire and
 * forget. No SQLite, no planning, no queue, no rate limit.
 *
 * IPC: the parent sends a FloorSetup; this process warms each keep-alive connection (as the
 * adapter's keep-warm GET does), opens the socket, sends the login and answers 'ready'; on 'stop'
 * it closes everything and exits.
 */
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { barePoster, type ClientName } from './http-clients.js';

export interface FloorSetup {
  apiUrl: string;
  wsUrl: string;
  leader: { clientId: string; token: string };
  followers: { clientId: string; token: string }[];
  /** The HTTP client the copies go out on (the run's fastest). */
  client: Exclude<ClientName, 'tandem'>;
}

/** The correlation id the floor gives follower k's copy of a leader order. */
export const floorTag = (leaderOrderId: string, k: number) => `b${leaderOrderId}x${k}`;

async function serve(s: FloorSetup): Promise<() => void> {
  const followers = s.followers.map((f) => ({
    clientId: f.clientId,
    http: barePoster(s.client, s.apiUrl, { 'content-type': 'application/json', accept: 'application/json', 'access-token': f.token, 'client-id': f.clientId }),
  }));
  await Promise.all(followers.map((f) => f.http.get('/profile')));

  const ws = new WebSocket(s.wsUrl, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ LoginReq: { MsgCode: 42, ClientId: s.leader.clientId, Token: s.leader.token }, UserType: 'SELF' }));
  ws.on('message', (data: Buffer) => {
    const d = (JSON.parse(data.toString()) as { Data: Record<string, string | number> }).Data;
    if (d.Status !== 'PENDING') return;
    for (const [k, f] of followers.entries()) {
      const body = {
        dhanClientId: f.clientId,
        correlationId: floorTag(String(d.OrderNo), k),
        transactionType: d.TxnType === 'B' ? 'BUY' : 'SELL',
        exchangeSegment: 'NSE_FNO',
        productType: 'MARGIN',
        orderType: 'LIMIT',
        validity: 'DAY',
        securityId: d.SecurityId,
        quantity: d.Quantity,
        price: d.Price,
        afterMarketOrder: false,
      };
      f.http.post('/orders', JSON.stringify(body)).catch(() => {});
    }
  });
  return () => {
    ws.terminate();
    for (const f of followers) void f.http.close();
  };
}

// As a child process (forked by floor.ts).
if (process.send && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let close: (() => void) | null = null;
  process.on('message', (m: FloorSetup | 'stop') => {
    if (m === 'stop') {
      close?.();
      process.exit(0);
    }
    serve(m).then(
      (c) => {
        close = c;
        process.send!('ready');
      },
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  });
}
