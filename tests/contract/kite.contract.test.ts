/**
 * The broker contract against KiteBroker talking to the fake Kite over loopback.
 * The fake keeps Kite's documented behaviour of NOT pushing OPEN when an order is accepted, so the
 * harness's broker polls the order book every 50 ms (as the leader does, at ~1 s): the 'open'
 * update the contract waits for comes from the poll, fills/modifies/cancels from stream and poll.
 */
import { KiteBroker } from '../../src/brokers/kite/kite-broker.js';
import { kiteExchange, kiteProduct } from '../../src/brokers/kite/kite-codes.js';
import { createLogger } from '../../src/infra/logger.js';
import { testInstrument } from '../fakes/instruments.js';
import { startFakeKite, type KiteFault } from '../fakes/kite.js';
import { type FaultKind, runBrokerContract } from './broker-contract.js';

const err = (status: number, error_type: string, message: string): KiteFault => ({ status, body: { status: 'error', message, error_type, data: null } });

const FAULTS: Record<FaultKind, KiteFault> = {
  rejected: err(400, 'MarginException', 'Insufficient funds. Required margin is 95417.84 but available margin is 74251.80.'),
  rate_limited: err(429, 'NetworkException', 'Too many requests'),
  unavailable: err(503, 'NetworkException', "Couldn't connect to the OMS."),
  session_expired: err(403, 'TokenException', 'Incorrect `api_key` or `access_token`.'),
};

runBrokerContract(
  'kite',
  async () => {
    const fake = await startFakeKite();
    const apiKey = 'kitecontractkey';
    const accessToken = fake.addAccount({ apiKey, apiSecret: 'kitecontractsecret', userId: 'KC1234' });
    const inst = testInstrument('NIFTY_26000_CE');
    const equity = testInstrument('RELIANCE');
    if (!inst.kite || !equity.kite) throw new Error('test instruments must be listed by Kite');
    const broker = new KiteBroker({
      accountId: 'kf1',
      apiKey,
      accessToken,
      apiUrl: fake.apiUrl,
      wsUrl: fake.wsUrl,
      logger: createLogger({ level: 'silent', pretty: false }),
      pollIntervalMs: 50,
    });
    return {
      broker,
      instrument: { segment: inst.segment, securityId: inst.securityId, symbol: inst.kite.tradingsymbol },
      lotSize: inst.lotSize,
      price: inst.price,
      fill: async (orderId, price) => fake.fill(orderId, { price }),
      injectFault: (kind) => fake.injectError(apiKey, 'place', FAULTS[kind]),
      quotes: {
        setLtp: (i, price) => fake.setLtp(kiteExchange(i.segment), i.symbol, price),
        refuseMarketData: () => fake.refuseMarketData(apiKey),
      },
      opening: {
        equity: { segment: equity.segment, securityId: equity.securityId, symbol: equity.kite.tradingsymbol },
        equityPrice: equity.price,
        setOvernightPosition: (i, product, qty, avgPrice) =>
          fake.setOvernightPosition(apiKey, { tradingsymbol: i.symbol, exchange: kiteExchange(i.segment), product: kiteProduct(product) as 'CNC' | 'NRML' | 'MIS', qty, avgPrice }),
        setHolding: (i, qty, avgPrice) => fake.setHoldings(apiKey, [{ tradingsymbol: i.symbol, exchange: i.segment === 'BSE_EQ' ? 'BSE' : 'NSE', qty, avgPrice }]),
      },
      close: () => fake.close(),
    };
  },
  { faults: true, opening: true },
);
