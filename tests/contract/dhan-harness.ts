/** Shared setup for tests that drive DhanBroker against the fake Dhan over loopback. */
import pino from 'pino';
import { DhanBroker, type DhanBrokerOptions } from '../../src/brokers/dhan/dhan-broker.js';
import type { StreamState } from '../../src/brokers/port.js';
import type { BrokerOrder, InstrumentRef } from '../../src/domain/order.js';
import { fakeDhanInstrument, startFakeDhan, type FakeDhan, type FakeDhanOptions } from '../fakes/dhan.js';

export const silentLogger = pino({ level: 'silent' });

/** NIFTY 26000 CE, lot 75, from the fake's instrument list. */
export function niftyOption(): InstrumentRef & { lotSize: number } {
  const i = fakeDhanInstrument('61345');
  if (!i) throw new Error('fake instrument 61345 missing');
  return { segment: i.segment, securityId: i.securityId, symbol: i.symbol, lotSize: i.lotSize };
}

/** Short stream timings so reconnect tests run in well under a second per cycle. */
export const FAST_WS = { readyAfterMs: 250, baseDelayMs: 40, maxDelayMs: 400 } as const;

export interface DhanRig {
  fake: FakeDhan;
  broker: DhanBroker;
  clientId: string;
  token: string;
  states: StreamState[];
  updates: BrokerOrder[];
  /** Resolve when the stream reaches `state` for the n-th time (counting from now), or fail after `ms`. */
  nextState(state: StreamState, ms?: number): Promise<void>;
  /** Resolve with the first update (seen or future) matching `pred`. */
  update(pred: (u: BrokerOrder) => boolean, ms?: number): Promise<BrokerOrder>;
  close(): Promise<void>;
}

export async function dhanRig(o: { fake?: FakeDhanOptions; broker?: Partial<DhanBrokerOptions>; clientId?: string; badToken?: boolean } = {}): Promise<DhanRig> {
  const fake = await startFakeDhan(o.fake);
  const clientId = o.clientId ?? '1100000001';
  const token = fake.addAccount(clientId);
  const broker = new DhanBroker({
    accountId: 'f1',
    clientId,
    accessToken: o.badToken ? `${token.slice(0, -4)}XXXX` : token,
    apiUrl: fake.apiUrl,
    wsUrl: fake.wsUrl,
    logger: silentLogger,
    ws: FAST_WS,
    ...o.broker,
  });
  const states: StreamState[] = [];
  const updates: BrokerOrder[] = [];
  const stateWaiters = new Set<(s: StreamState) => void>();
  const updateWaiters = new Set<(u: BrokerOrder) => void>();
  broker.subscribe({
    onUpdate: (u) => {
      updates.push(u);
      for (const w of [...updateWaiters]) w(u);
    },
    onState: (s) => {
      states.push(s);
      for (const w of [...stateWaiters]) w(s);
    },
  });
  return {
    fake,
    broker,
    clientId,
    token,
    states,
    updates,
    nextState(state, ms = 5000) {
      return new Promise((resolve, reject) => {
        const w = (s: StreamState) => {
          if (s !== state) return;
          clearTimeout(timer);
          stateWaiters.delete(w);
          resolve();
        };
        const timer = setTimeout(() => {
          stateWaiters.delete(w);
          reject(new Error(`stream state ${state} not reached within ${ms} ms; states: ${states.join(' → ')}`));
        }, ms);
        stateWaiters.add(w);
      });
    },
    update(pred, ms = 5000) {
      const seen = updates.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const w = (u: BrokerOrder) => {
          if (!pred(u)) return;
          clearTimeout(timer);
          updateWaiters.delete(w);
          resolve(u);
        };
        const timer = setTimeout(() => {
          updateWaiters.delete(w);
          reject(new Error(`no matching update within ${ms} ms; saw ${JSON.stringify(updates.map((u) => [u.orderId, u.status, u.filledQty]))}`));
        }, ms);
        updateWaiters.add(w);
      });
    },
    async close() {
      await broker.stop();
      await fake.close();
    },
  };
}
