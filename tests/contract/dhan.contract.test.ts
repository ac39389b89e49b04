import { DhanBroker } from '../../src/brokers/dhan/dhan-broker.js';
import { DHAN_ERRORS, fakeDhanInstrument, startFakeDhan, type FakeDhanFault } from '../fakes/dhan.js';
import { runBrokerContract, type FaultKind } from './broker-contract.js';
import { FAST_WS, niftyOption, silentLogger } from './dhan-harness.js';

const FAULTS: Record<FaultKind, FakeDhanFault> = {
  rejected: { status: 400, body: DHAN_ERRORS.input },
  rate_limited: { status: 429, body: DHAN_ERRORS.rateLimit },
  unavailable: { status: 500, body: DHAN_ERRORS.internal },
  session_expired: { status: 401, body: DHAN_ERRORS.invalidAuth },
};

runBrokerContract('dhan', async () => {
  const fake = await startFakeDhan();
  const clientId = '1100000001';
  const accessToken = fake.addAccount(clientId);
  const { lotSize, ...instrument } = niftyOption();
  const broker = new DhanBroker({ accountId: 'f1', clientId, accessToken, apiUrl: fake.apiUrl, wsUrl: fake.wsUrl, logger: silentLogger, ws: FAST_WS });
  return {
    broker,
    instrument,
    lotSize,
    price: 100,
    fill: async (orderId, price) => {
      fake.fill(orderId, { price });
    },
    injectFault: (kind) => fake.injectError(clientId, 'place', FAULTS[kind]),
    quotes: {
      setLtp: (i, price) => fake.setLtp(i.segment, i.securityId, price),
      refuseMarketData: () => fake.refuseMarketData(clientId),
    },
    opening: {
      equity: { segment: 'NSE_EQ', securityId: '2885', symbol: fakeDhanInstrument('2885', 'NSE_EQ')?.symbol ?? 'RELIANCE' },
      equityPrice: 1300,
      setOvernightPosition: (i, product, qty, avgPrice) => fake.setOvernightPosition(clientId, { securityId: i.securityId, exchangeSegment: i.segment, productType: product, qty, avgPrice }),
      setHolding: (i, qty, avgPrice) => fake.setHoldings(clientId, [{ securityId: i.securityId, tradingSymbol: i.symbol, qty, avgPrice }]),
    },
    close: () => fake.close(),
  };
}, { faults: true, opening: true });
