/** The instruments the simulated leader trades, with plausible prices. */
import type { Instrument } from '../../domain/instrument.js';

export interface SimInstrument extends Instrument {
  startPrice: number;
}

export const SIM_UNIVERSE: SimInstrument[] = [
  { segment: 'NSE_FNO', securityId: '35001', symbol: 'NIFTY 30 DEC 24500 CALL', name: 'NIFTY', lotSize: 75, tickSize: 0.05, expiry: '2026-12-30', strike: 24500, optionType: 'CE', freezeQty: 1800, startPrice: 142.5 },
  { segment: 'NSE_FNO', securityId: '35012', symbol: 'BANKNIFTY DEC FUT', name: 'BANKNIFTY', lotSize: 35, tickSize: 0.05, expiry: '2026-12-30', strike: null, optionType: null, freezeQty: 900, startPrice: 52_180 },
  { segment: 'NSE_EQ', securityId: '2885', symbol: 'RELIANCE', name: 'RELIANCE', lotSize: 1, tickSize: 0.05, expiry: null, strike: null, optionType: null, freezeQty: null, startPrice: 1_312.4 },
  { segment: 'NSE_EQ', securityId: '1333', symbol: 'HDFCBANK', name: 'HDFCBANK', lotSize: 1, tickSize: 0.05, expiry: null, strike: null, optionType: null, freezeQty: null, startPrice: 1_688.0 },
];
