/**
 * The broker REST transport of the copy path (issue 16): JSON request → `{status, data, headers}`
 * on an undici Pool (keep-alive) per account. Measured against bare `node:http` and axios for one
 * order POST on loopback, in the same run (bench/http-clients.ts): undici spends the least main-
 * thread CPU per request, axios 2.5–3.5× as much, and every follower's copy pays it on the hot path.
 * axios stays for what is off that path (instrument downloads, the Kite token exchange).
 *
 * It keeps the contract the adapters were written against (axios with `validateStatus: () => true`):
 * - every status is an answer (the adapters map broker error bodies themselves); no redirects;
 * - `data` is the body parsed as JSON, or the raw text when it is not JSON ('' when empty), so a
 *   proxy's HTML page is seen for what it is;
 * - `timeoutMs` is a deadline on the whole call, not socket idleness; it fails with code
 *   `ECONNABORTED` ("timeout of N ms exceeded"), network failures with their own code
 *   (ECONNREFUSED, ECONNRESET, …), always as a `TransportError`.
 * Never add automatic retries here: a re-sent POST can place an order twice.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Pool } from 'undici';

export interface JsonRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path below the base URL, e.g. `/orders` (query string included, already encoded). */
  url: string;
  /** The body, serialised by the caller (JSON or a form). */
  data?: string;
  headers?: Record<string, string>;
}

export interface JsonAnswer {
  status: number;
  data: unknown;
  headers: IncomingHttpHeaders;
}

export interface JsonTransport {
  request(r: JsonRequest): Promise<JsonAnswer>;
  /** Closes the kept-alive connections. */
  close(): void;
}

/** A call that got no answer: `code` as Node or axios name it (ECONNABORTED for the deadline). */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export function createJsonTransport(baseURL: string, opts: { timeoutMs?: number; headers?: Record<string, string> } = {}): JsonTransport {
  const base = new URL(baseURL);
  if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new Error(`not an http(s) URL: ${baseURL}`);
  // Keep-alive as the axios agent had it (16 sockets, LIFO); an idle socket is let go after 60 s or the server's own hint.
  const pool = new Pool(base.origin, { connections: 16, pipelining: 1, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 120_000, headersTimeout: 0, bodyTimeout: 0 });
  const prefix = base.pathname.replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const defaults: Record<string, string> = { accept: 'application/json, text/plain, */*' };
  for (const [k, v] of Object.entries(opts.headers ?? {})) defaults[k.toLowerCase()] = v;

  return {
    async request(r: JsonRequest): Promise<JsonAnswer> {
      const headers: Record<string, string> = { ...defaults };
      for (const [k, v] of Object.entries(r.headers ?? {})) headers[k.toLowerCase()] = v;
      if (r.data === undefined) delete headers['content-type'];
      else headers['content-type'] ??= 'application/json';
      // One deadline on the whole call (connect, answer and body), not socket idleness.
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), timeoutMs);
      try {
        const res = await pool.request({ method: r.method, path: prefix + r.url, headers, body: r.data, signal: abort.signal });
        const text = await res.body.text();
        return { status: res.statusCode, data: parseBody(text), headers: res.headers };
      } catch (e) {
        if (abort.signal.aborted) throw new TransportError(`timeout of ${timeoutMs}ms exceeded`, 'ECONNABORTED');
        throw asTransportError(e);
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => void pool.destroy().catch(() => {}),
  };
}

/** JSON when it parses, else the text itself ('' for an empty body): as axios answers with silent JSON parsing. */
function parseBody(text: string): unknown {
  if (text === '') return '';
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function asTransportError(e: unknown): TransportError {
  if (e instanceof TransportError) return e;
  const x = e as { code?: unknown; message?: unknown } | null;
  return new TransportError(typeof x?.message === 'string' ? x.message : String(e), typeof x?.code === 'string' ? x.code : 'ERR_NETWORK');
}
