/**
 * A 2xx answer whose body is not what the call returns (an HTML page from a proxy, an empty body,
 * a success envelope without its list) is an unknown outcome — BrokerUnavailable — never an empty
 * result: an empty order book or a "no such order" would allow a second placement.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DhanBroker } from '../../src/brokers/dhan/dhan-broker.js';
import { KiteBroker } from '../../src/brokers/kite/kite-broker.js';
import { BrokerUnavailable } from '../../src/brokers/port.js';
import { startFakeDhan, type FakeDhan } from '../fakes/dhan.js';
import { niftyOption, silentLogger } from './dhan-harness.js';

const PAGE = '<!DOCTYPE html><html><head><title>502</title></head><body>upstream busy</body></html>';

describe('Dhan: a malformed 2xx body is an unknown outcome', () => {
  const CLIENT = '1100000077';
  let fake: FakeDhan;
  let broker: DhanBroker;

  beforeAll(async () => {
    fake = await startFakeDhan();
    const token = fake.addAccount(CLIENT);
    broker = new DhanBroker({ accountId: 'f1', clientId: CLIENT, accessToken: token, apiUrl: fake.apiUrl, wsUrl: fake.wsUrl, logger: silentLogger });
  });
  afterEach(() => fake.clearErrors(CLIENT));
  afterAll(() => fake.close());

  const place = () =>
    broker.placeOrder({ tag: 'tdmmalformed1', instrument: niftyOption(), side: 'BUY', orderType: 'LIMIT', product: 'MARGIN', validity: 'DAY', amo: false, quantity: 75, price: 100 });

  it('a look-up by tag answered 200 with an HTML page rejects with BrokerUnavailable, not "no such order"', async () => {
    fake.injectError(CLIENT, 'lookup', { status: 200, html: PAGE }, 1);
    const err = await broker.findOrderByTag('tdmnotthere').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrokerUnavailable);
    expect((err as Error).message).toMatch(/order by correlation id: HTTP 200 answer is not JSON \("<!DOCTYPE html>/);
    // The same look-up, answered properly, is a definite miss.
    await expect(broker.findOrderByTag('tdmnotthere')).resolves.toBeNull();
  });

  it('the order book answered 200 with an HTML page, or with an object instead of a list, is no empty book', async () => {
    fake.injectError(CLIENT, 'book', { status: 200, html: PAGE }, 1);
    await expect(broker.orders()).rejects.toBeInstanceOf(BrokerUnavailable);
    fake.injectError(CLIENT, 'book', { status: 200, body: { status: 'ok' } }, 1);
    await expect(broker.orders()).rejects.toThrow(/order book: 2xx answer is not a list/);
    // Behind a by-tag miss the book is read too: a page there is no proof of absence either.
    fake.injectError(CLIENT, 'book', { status: 200, html: PAGE }, 1);
    await expect(broker.findOrderByTag('tdmnotthere')).rejects.toBeInstanceOf(BrokerUnavailable);
    await expect(broker.orders()).resolves.toEqual([]);
  });

  it('a placement answered 200 with an HTML page is an unknown outcome (looked up by tag), not a rejection', async () => {
    fake.injectError(CLIENT, 'place', { status: 200, html: PAGE }, 1);
    await expect(place()).rejects.toBeInstanceOf(BrokerUnavailable);
  });

  it('positions answered 200 with an empty body reject too', async () => {
    fake.injectError(CLIENT, 'any', { status: 200, html: '' }, 1);
    await expect(broker.positions()).rejects.toThrow(/positions: HTTP 200 answer is not JSON \(empty body\)/);
  });
});

describe('Kite: a malformed 2xx body is an unknown outcome', () => {
  let server: Server;
  let broker: KiteBroker;
  /** What the stub answers to every request: status, content type, body. */
  let reply: { status: number; type: string; body: string } = { status: 200, type: 'application/json', body: '{}' };

  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.writeHead(reply.status, { 'content-type': reply.type });
      res.end(reply.body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    broker = new KiteBroker({ accountId: 'k1', apiKey: 'kapikey', accessToken: 'ktoken', apiUrl: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}`, logger: silentLogger });
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const json = (body: unknown) => ({ status: 200, type: 'application/json', body: JSON.stringify(body) });

  it('an HTML page with status 200 on the order book: BrokerUnavailable, not "no such order"', async () => {
    reply = { status: 200, type: 'text/html', body: PAGE };
    await expect(broker.findOrderByTag('tdmkite1')).rejects.toBeInstanceOf(BrokerUnavailable);
    await expect(broker.orders()).rejects.toBeInstanceOf(BrokerUnavailable);
  });

  it('a success envelope without the list: BrokerUnavailable; with an empty list: a definite miss', async () => {
    reply = json({ status: 'success', data: null });
    await expect(broker.findOrderByTag('tdmkite1')).rejects.toThrow(/Kite orders: success answer without a list/);
    reply = json({ status: 'success', data: {} });
    await expect(broker.orders()).rejects.toBeInstanceOf(BrokerUnavailable);
    reply = json({ status: 'success', data: [] });
    await expect(broker.findOrderByTag('tdmkite1')).resolves.toBeNull();
  });

  it('positions without their net list: BrokerUnavailable, not flat', async () => {
    reply = json({ status: 'success', data: { day: [] } });
    await expect(broker.positions()).rejects.toBeInstanceOf(BrokerUnavailable);
  });
});
