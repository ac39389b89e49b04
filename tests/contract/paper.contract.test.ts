import { PaperBroker } from '../../src/brokers/paper/paper-broker.js';
import { PriceBoard } from '../../src/infra/price-board.js';
import { runBrokerContract } from './broker-contract.js';

runBrokerContract('paper', async () => {
  const prices = new PriceBoard();
  const instrument = { segment: 'NSE_FNO' as const, securityId: '35001', symbol: 'NIFTY-TEST-CE' };
  return {
    broker: new PaperBroker('p1', prices),
    instrument,
    lotSize: 75,
    price: 100,
    fill: async (_orderId, price) => prices.publish(instrument, price),
    quotes: { setLtp: (i, price) => prices.publish(i, price) },
    close: async () => {},
  };
}, { faults: false });
