/**
 * The copy path's REST transport (src/infra/json-http.ts) against a real loopback server: answers
 * of every kind come back as answers, failures as TransportError with a code, the deadline covers
 * the whole call, and a POST whose connection dies is never sent a second time.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJsonTransport, TransportError } from '../../src/infra/json-http.js';

type Handler = (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void;

let server: http.Server;
let base: string;
const handlers = new Map<string, Handler>();
const hits = new Map<string, number>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url!.replace(/^\/v2/, '').split('?')[0]!;
      hits.set(path, (hits.get(path) ?? 0) + 1);
      handlers.get(path)!(req, Buffer.concat(chunks).toString('utf8'), res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('json transport', () => {
  it('sends the body and headers below the base path and parses a JSON answer', async () => {
    handlers.set('/orders', (req, body, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-seen': `${req.method} ${req.url} ${req.headers['content-type']} ${req.headers['access-token']} ${body}` });
      res.end('{"orderId":"1","orderStatus":"PENDING"}');
    });
    const t = createJsonTransport(base, { headers: { 'Content-Type': 'application/json' } });
    const r = await t.request({ method: 'POST', url: '/orders?x=1', data: '{"a":1}', headers: { 'access-token': 'tok' } });
    expect(r).toMatchObject({ status: 200, data: { orderId: '1', orderStatus: 'PENDING' } });
    expect(r.headers['x-seen']).toBe('POST /v2/orders?x=1 application/json tok {"a":1}');
    t.close();
  });

  it('returns every status as an answer, a page that is not JSON as its text, an empty body as ""', async () => {
    handlers.set('/html', (_q, _b, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>Service Unavailable</html>'));
    handlers.set('/empty', (_q, _b, res) => res.writeHead(200).end());
    handlers.set('/err', (_q, _b, res) => res.writeHead(400, { 'content-type': 'application/json' }).end('{"errorCode":"DH-905"}'));
    handlers.set('/moved', (_q, _b, res) => res.writeHead(302, { location: '/elsewhere' }).end());
    const t = createJsonTransport(base);
    expect(await t.request({ method: 'GET', url: '/html' })).toMatchObject({ status: 200, data: '<html>Service Unavailable</html>' });
    expect(await t.request({ method: 'GET', url: '/empty' })).toMatchObject({ status: 200, data: '' });
    expect(await t.request({ method: 'GET', url: '/err' })).toMatchObject({ status: 400, data: { errorCode: 'DH-905' } });
    expect(await t.request({ method: 'GET', url: '/moved' })).toMatchObject({ status: 302 });
    expect(hits.get('/elsewhere')).toBeUndefined();
    t.close();
  });

  it('a call with no answer fails at the deadline with ECONNABORTED, once', async () => {
    handlers.set('/hang', () => {});
    const t = createJsonTransport(base, { timeoutMs: 150 });
    const t0 = performance.now();
    const e = await t.request({ method: 'POST', url: '/hang', data: '{}' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TransportError);
    expect((e as TransportError).code).toBe('ECONNABORTED');
    expect((e as Error).message).toBe('timeout of 150ms exceeded');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    expect(hits.get('/hang')).toBe(1);
    t.close();
  });

  it('the deadline covers a body that never ends', async () => {
    handlers.set('/trickle', (_q, _b, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"orderId":');
    });
    const t = createJsonTransport(base, { timeoutMs: 150 });
    const e = await t.request({ method: 'GET', url: '/trickle' }).catch((x: unknown) => x);
    expect((e as TransportError).code).toBe('ECONNABORTED');
    t.close();
  });

  it('a POST whose connection is cut is a TransportError and is not sent again', async () => {
    handlers.set('/cut', (req) => req.socket.destroy());
    const t = createJsonTransport(base);
    const e = await t.request({ method: 'POST', url: '/cut', data: '{"correlationId":"x"}' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TransportError);
    expect((e as TransportError).code).not.toBe('ECONNABORTED');
    expect(hits.get('/cut')).toBe(1);
    t.close();
  });

  it('nobody listening: ECONNREFUSED', async () => {
    const spare = http.createServer();
    await new Promise<void>((r) => spare.listen(0, '127.0.0.1', r));
    const port = (spare.address() as AddressInfo).port;
    await new Promise((r) => spare.close(r));
    const t = createJsonTransport(`http://127.0.0.1:${port}`);
    const e = await t.request({ method: 'GET', url: '/profile' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TransportError);
    expect((e as TransportError).code).toBe('ECONNREFUSED');
    t.close();
  });
});
