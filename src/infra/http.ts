/**
 * HTTP clients for broker REST: one keep-alive agent per broker host (Node's global agent drops
 * idle sockets after 5 s), no redirects (the native transport, faster and safer), short deadlines
 * for order calls. Never add automatic retries here: a re-sent POST can place an order twice.
 */
import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance } from 'axios';

export function createHttpClient(baseURL: string, opts: { timeoutMs?: number; headers?: Record<string, string> } = {}): AxiosInstance {
  const agentOpts = { keepAlive: true, keepAliveMsecs: 1000, maxSockets: 16, maxFreeSockets: 8, timeout: 120_000, scheduling: 'lifo' as const };
  return axios.create({
    baseURL,
    timeout: opts.timeoutMs ?? 5_000,
    maxRedirects: 0,
    httpAgent: new http.Agent(agentOpts),
    httpsAgent: new https.Agent(agentOpts),
    headers: opts.headers,
    // Every status is returned, so adapters map broker error bodies themselves.
    validateStatus: () => true,
    proxy: false,
  });
}
