/**
 * The floor: the same transport stack with no logic. A `ws` client logs in to the leader's order
 * socket; each frame → JSON.parse → (PENDING only) one POST /orders per follower through
 * createHttpClient (axios, keep-alive agent; one client per follower like the Dhan adapter), fire
 * and forget. No SQLite, no planning, no queue, no rate limit.
 */
import WebSocket from 'ws';
import type { AxiosInstance } from 'axios';
import { createHttpClient } from '../src/infra/http.js';
import { LEADER_CLIENT, followerClient, startTapedFake } from './fake-tape.js';
import { drive, type Follower, type Plan, type RunResult, type Workload } from './workload.js';

/** Runs the same plan (order counts) as the tandem run it is compared with. */
export async function runFloor(n: number, w: Workload, plan: Plan): Promise<RunResult> {
  const { fake, tape } = await startTapedFake();
  const leaderToken = fake.addAccount(LEADER_CLIENT);
  const followers: (Follower & { http: AxiosInstance; headers: Record<string, string> })[] = [];
  for (let k = 0; k < n; k += 1) {
    const clientId = followerClient(k);
    const token = fake.addAccount(clientId);
    followers.push({
      clientId,
      token,
      tag: (leaderOrderId) => `b${leaderOrderId}x${k}`,
      http: createHttpClient(fake.apiUrl, { timeoutMs: 5_000, headers: { 'content-type': 'application/json', accept: 'application/json' } }),
      headers: { 'access-token': token, 'client-id': clientId },
    });
  }
  // Warm each keep-alive connection, as the adapter's keep-warm GET does.
  await Promise.all(followers.map((f) => f.http.get('/profile', { headers: f.headers })));

  const ws = new WebSocket(fake.wsUrl, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ LoginReq: { MsgCode: 42, ClientId: LEADER_CLIENT, Token: leaderToken }, UserType: 'SELF' }));
  await fake.waitForLogin(LEADER_CLIENT, { ok: true });
  ws.on('message', (data: Buffer) => {
    const d = (JSON.parse(data.toString()) as { Data: Record<string, string | number> }).Data;
    if (d.Status !== 'PENDING') return;
    for (const [k, f] of followers.entries()) {
      const body = {
        dhanClientId: f.clientId,
        correlationId: `b${d.OrderNo}x${k}`,
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
      f.http.post('/orders', body, { headers: f.headers }).catch(() => {});
    }
  });
  try {
    return (await drive(fake, tape, followers, w, plan)).result;
  } finally {
    ws.terminate();
    for (const f of followers) (f.http.defaults.httpAgent as { destroy(): void }).destroy();
    await fake.close();
  }
}
