/**
 * Which HTTP client sends an order fastest (issue 16, "the floor on the fastest stack"): one Dhan
 * order POST on loopback, keep-alive, through bare `node:http`, `undici` (Pool), axios (as
 * createHttpClient builds it) and tandem's own transport (src/infra/json-http.ts), in the same run, against one answering server in another process
 * (so its work is not counted). Two shapes, as the copy path sends them:
 * - `single`: one request at a time (one follower);
 * - `fan20`: 20 requests started in the same event-loop turn, one per follower connection.
 * Per client: latency percentiles (request start → answer parsed) and main-thread CPU per request
 * (process.cpuUsage over the timed loop, so the client's own work, JSON parse included).
 *
 * Run alone: `npx tsx bench/http-clients.ts [requests]`; the bench runs it as a child process
 * (run.ts) and uses the fastest for the floor.
 */
import { fork } from 'node:child_process';
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { Pool } from 'undici';
import { createHttpClient } from '../src/infra/http.js';
import { createJsonTransport, type JsonTransport } from '../src/infra/json-http.js';
import { summarize, type Summary } from './stats.js';

export type ClientName = 'node:http' | 'undici' | 'axios' | 'tandem';
export interface ClientResult {
  client: ClientName;
  shape: 'single' | 'fan20';
  latencyMs: Summary;
  cpuUsPerRequest: number;
}
export interface HttpClientsResult {
  requests: number;
  results: ClientResult[];
  fastest: Exclude<ClientName, 'tandem'>;
}

const ANSWER = JSON.stringify({ orderId: '112111182198', orderStatus: 'PENDING' });
const BODY = JSON.stringify({
  dhanClientId: '1000000001',
  correlationId: 'b1x0',
  transactionType: 'BUY',
  exchangeSegment: 'NSE_FNO',
  productType: 'MARGIN',
  orderType: 'LIMIT',
  validity: 'DAY',
  securityId: '52175',
  quantity: 75,
  price: 120.5,
  afterMarketOrder: false,
});
const HEADERS = { 'access-token': 'x'.repeat(200), 'client-id': '1000000001', 'content-type': 'application/json', accept: 'application/json' };

type Send = () => Promise<unknown>;

/** A bare client for one account: POST a serialised JSON body, resolve with the parsed answer. No deadline, no mapping. */
export interface BarePoster {
  post(path: string, body: string): Promise<unknown>;
  /** A GET whose answer is read and dropped (to warm the connection). */
  get(path: string): Promise<void>;
  close(): Promise<void>;
}

export function barePoster(client: Exclude<ClientName, 'tandem'>, baseURL: string, headers: Record<string, string>): BarePoster {
  const base = new URL(baseURL);
  const prefix = base.pathname.replace(/\/+$/, '');
  if (client === 'axios') {
    const x = createHttpClient(baseURL, { timeoutMs: 5_000, headers });
    return { post: (path, body) => x.post(path, body).then((r) => r.data), get: (path) => x.get(path).then(() => {}), close: async () => (x.defaults.httpAgent as http.Agent).destroy() };
  }
  if (client === 'undici') {
    const p = new Pool(base.origin, { connections: 16, pipelining: 1 });
    return {
      post: (path, body) => p.request({ method: 'POST', path: prefix + path, headers, body }).then((r) => r.body.json()),
      get: (path) => p.request({ method: 'GET', path: prefix + path, headers }).then((r) => r.body.dump()),
      close: () => p.close() };
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16, scheduling: 'lifo' });
  const send = (method: string, path: string, body?: string) =>
    new Promise<string>((resolve, reject) => {
      const h = body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) };
      const req = http.request({ hostname: base.hostname, port: base.port, path: prefix + path, method, agent, headers: h }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  return {
    post: (path, body) => send('POST', path, body).then((t) => JSON.parse(t) as unknown),
    get: (path) => send('GET', path).then(() => {}),
    close: async () => agent.destroy(),
  };
}

/** One sender per connection ("follower"), per client. */
function senders(client: ClientName, base: string, n: number): { send: Send[]; close: () => Promise<void> } {
  if (client === 'tandem') {
    const xs: JsonTransport[] = Array.from({ length: n }, () => createJsonTransport(base, { timeoutMs: 5_000, headers: HEADERS }));
    return {
      send: xs.map((t) => () => t.request({ method: 'POST', url: '/orders', data: BODY }).then((r) => r.data)),
      close: async () => xs.forEach((t) => t.close()),
    };
  }
  const xs = Array.from({ length: n }, () => barePoster(client, base, HEADERS));
  return { send: xs.map((x) => () => x.post('/orders', BODY)), close: async () => void (await Promise.all(xs.map((x) => x.close()))) };
}

async function measure(client: ClientName, base: string, shape: 'single' | 'fan20', requests: number): Promise<ClientResult> {
  const width = shape === 'single' ? 1 : 20;
  const s = senders(client, base, width);
  const rounds = Math.max(1, Math.floor(requests / width));
  const lat: number[] = [];
  const round = async () => {
    await Promise.all(
      s.send.map(async (send) => {
        const t = performance.now();
        await send();
        lat.push(performance.now() - t);
      }),
    );
  };
  for (let i = 0; i < Math.min(50, rounds); i += 1) await round(); // warm: connections, JIT
  lat.length = 0;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < rounds; i += 1) await round();
  const cpu = process.cpuUsage(cpu0);
  await s.close();
  return { client, shape, latencyMs: summarize(lat), cpuUsPerRequest: (cpu.user + cpu.system) / (rounds * width) };
}

/** The answering server, as a child process: Dhan's placement answer to every request. */
function serve(): void {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(ANSWER) });
      res.end(ANSWER);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as { port: number }).port }));
  process.on('message', (m) => m === 'stop' && server.close(() => process.exit(0)));
}

export async function compareHttpClients(requests = 3000): Promise<HttpClientsResult> {
  const child = fork(import.meta.filename, ['--serve'], { execArgv: process.execArgv.filter((a) => !a.startsWith('--cpu-prof')), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((res) => child.once('message', (m) => res((m as { port: number }).port)));
  const base = `http://127.0.0.1:${port}`;
  const results: ClientResult[] = [];
  try {
    // Interleaved, twice, so a slow patch of the machine does not land on one client only; the better of the two counts.
    for (const shape of ['single', 'fan20'] as const) {
      for (const client of ['axios', 'node:http', 'undici', 'tandem'] as const) {
        const a = await measure(client, base, shape, requests);
        const b = await measure(client, base, shape, requests);
        results.push(a.cpuUsPerRequest <= b.cpuUsPerRequest ? a : b);
      }
    }
  } finally {
    child.send('stop');
  }
  const cpu = (c: ClientName) => results.filter((r) => r.client === c).reduce((a, r) => a + r.cpuUsPerRequest, 0);
  // The floor's stack: the fastest of the three bare clients (tandem's transport is measured, not a candidate).
  const fastest = (['node:http', 'undici', 'axios'] as const).reduce((best, c) => (cpu(c) < cpu(best) ? c : best));
  return { requests, results, fastest };
}

export function renderHttpClients(r: HttpClientsResult): string[] {
  const out = [`HTTP clients, one Dhan order POST on loopback, keep-alive (${r.requests} requests per case; server in another process):`];
  out.push('| client | shape | p50 ms | p99 ms | main-thread CPU µs / request |', '|---|---|---|---|---|');
  for (const x of r.results) out.push(`| ${x.client}${x.client === r.fastest ? ' (fastest)' : ''} | ${x.shape} | ${x.latencyMs.p50.toFixed(3)} | ${x.latencyMs.p99.toFixed(3)} | ${x.cpuUsPerRequest.toFixed(0)} |`);
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes('--serve')) serve();
  else {
    const n = Number(process.argv[2] ?? 3000);
    compareHttpClients(n).then(
      (r) => {
        // Forked by the bench: the result goes to it (it prints the table); run alone: the table.
        if (process.send) process.send(r);
        else console.log(renderHttpClients(r).join('\n'));
      },
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  }
}
