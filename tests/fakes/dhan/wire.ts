/** The fake Dhan's wire formats: error bodies, REST rows, order-update pushes, tokens (reference §1–§6). */
import { randomBytes } from 'node:crypto';
import { fakeDhanInstrument } from './instruments.js';

export type DhanStatus = 'TRANSIT' | 'PENDING' | 'PART_TRADED' | 'TRADED' | 'CANCELLED' | 'REJECTED' | 'EXPIRED';

export interface FakeDhanOrder {
  clientId: string;
  orderId: string;
  exchangeOrderId: string;
  /** null for orders placed from the web app (they push `"CorrelationId":""`). */
  correlationId: string | null;
  status: DhanStatus;
  transactionType: 'BUY' | 'SELL';
  exchangeSegment: string;
  securityId: string;
  productType: string;
  /** Dhan REST spelling: LIMIT, MARKET, STOP_LOSS, STOP_LOSS_MARKET. */
  orderType: string;
  validity: string;
  quantity: number;
  filledQty: number;
  averageTradedPrice: number;
  lastTradedPrice: number;
  price: number;
  triggerPrice: number;
  afterMarketOrder: boolean;
  /** 'P' placed through the API, 'N' from the web/app (placeAsUser). */
  source: 'P' | 'N';
  /** omsErrorDescription / ReasonDescription: 'CONFIRMED' unless rejected. */
  reason: string;
  modifications: number;
  createdAt: number;
  updatedAt: number;
}

export interface FakeDhanTrade {
  clientId: string;
  orderId: string;
  tradeId: string;
  transactionType: 'BUY' | 'SELL';
  exchangeSegment: string;
  securityId: string;
  productType: string;
  quantity: number;
  price: number;
  at: number;
}

export interface DhanErrorBody {
  errorType: string;
  errorCode: string;
  errorMessage: string;
}

/** Error bodies as quoted verbatim in the reference (§1.6, §2.1). */
export const ERR = {
  invalidAuth: { errorType: 'Invalid_Authentication', errorCode: 'DH-901', errorMessage: 'Client ID or user generated access token is invalid or expired.' },
  invalidTokenOrderError: { errorType: 'Order_Error', errorCode: 'DH-906', errorMessage: 'Invalid Token' },
  rateLimit: { errorType: 'Rate_Limit', errorCode: 'DH-904', errorMessage: 'Too many requests on server from single user breaching rate limits. Try throttling API calls.' },
  input: { errorType: 'Input_Exception', errorCode: 'DH-905', errorMessage: 'Missing required fields, bad values for parameters etc.' },
  noSuchOrder: { errorType: 'Order_Error', errorCode: 'DH-906', errorMessage: 'Incorrect request for order and cannot be processed' },
  inTransit: { errorType: 'Order_Error', errorCode: 'DH-906', errorMessage: 'Order is in Transit state' },
  nothingToCancel: { errorType: 'Order_Error', errorCode: 'DH-906', errorMessage: 'Nothing to Cancel . ' },
  // Measured in production: GET /holdings on an empty portfolio (the sandbox answers 200 [] instead).
  noHoldings: { errorType: 'HOLDING_ERROR', errorCode: 'DH-1111', errorMessage: 'No holdings available' },
  // GUESS: the annexure names DH-908 but no body was ever quoted; errorType follows the others' style.
  internal: { errorType: 'Internal_Server_Error', errorCode: 'DH-908', errorMessage: 'Internal Server Error' },
} satisfies Record<string, DhanErrorBody>;

const IST_MS = 330 * 60_000;
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** IST `YYYY-MM-DD HH:MM:SS`. */
export function ist(ms: number): string {
  const d = new Date(ms + IST_MS);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** `/profile` tokenValidity: IST `DD/MM/YYYY HH:mm`. */
export function istValidity(ms: number): string {
  const d = new Date(ms + IST_MS);
  return `${pad(d.getUTCDate())}/${pad(d.getUTCMonth() + 1)}/${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/** RenewToken expiryTime: ISO-like IST without zone, e.g. `2026-01-01T00:00:00.000`. */
export function istIso(ms: number): string {
  const d = new Date(ms + IST_MS);
  return `${d.toISOString().slice(0, 23)}`;
}

/** A look-alike Dhan JWT (HS512 header, the claims seen in public tokens, a random signature). */
export function mintToken(clientId: string, lifetimeMs = 86_400_000): { token: string; expiresAt: number } {
  const iat = Math.floor(Date.now() / 1000);
  const exp = iat + Math.floor(lifetimeMs / 1000);
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const claims = { iss: 'dhan', partnerId: '', exp, iat, tokenConsumerType: 'SELF', webhookUrl: '', dhanClientId: clientId, nonce: randomBytes(6).toString('hex') };
  return { token: `${b64({ typ: 'JWT', alg: 'HS512' })}.${b64(claims)}.${randomBytes(48).toString('base64url')}`, expiresAt: exp * 1000 };
}

/** The REST order object (§3.5), as `GET /orders`, `/orders/{id}` and `/orders/external/{cid}` return it. */
export function restOrder(o: FakeDhanOrder): Record<string, unknown> {
  const inst = fakeDhanInstrument(o.securityId, o.exchangeSegment);
  const atExchange = o.status !== 'TRANSIT';
  return {
    dhanClientId: o.clientId,
    orderId: o.orderId,
    exchangeOrderId: atExchange ? o.exchangeOrderId : '',
    correlationId: o.correlationId ?? '',
    orderStatus: o.status,
    transactionType: o.transactionType,
    exchangeSegment: o.exchangeSegment,
    productType: o.productType,
    orderType: o.orderType,
    validity: o.validity,
    tradingSymbol: inst?.symbol ?? '',
    securityId: o.securityId,
    quantity: o.quantity,
    disclosedQuantity: 0,
    price: o.price,
    triggerPrice: o.triggerPrice,
    afterMarketOrder: o.afterMarketOrder,
    boProfitValue: 0,
    boStopLossValue: 0,
    legName: 'NA',
    createTime: ist(o.createdAt),
    updateTime: ist(o.updatedAt),
    exchangeTime: atExchange ? ist(o.updatedAt) : '0001-01-01 00:00:00',
    drvExpiryDate: inst?.expiry ?? '0001-01-01',
    drvOptionType: inst?.optionType === 'CE' ? 'CALL' : inst?.optionType === 'PE' ? 'PUT' : 'NA',
    drvStrikePrice: inst?.strike ?? 0,
    omsErrorCode: o.status === 'REJECTED' ? 'RMS' : null,
    omsErrorDescription: o.reason,
    algoId: '',
    remainingQuantity: o.quantity - o.filledQty,
    averageTradedPrice: o.averageTradedPrice,
    filledQty: o.filledQty,
  };
}

const SHORT_EXCHANGE: Record<string, [string, string]> = {
  NSE_EQ: ['NSE', 'E'], NSE_FNO: ['NSE', 'D'], BSE_EQ: ['BSE', 'E'], BSE_FNO: ['BSE', 'D'], MCX_COMM: ['MCX', 'M'], NSE_CURRENCY: ['NSE', 'C'], BSE_CURRENCY: ['BSE', 'C'],
};
const SHORT_PRODUCT: Record<string, string> = { CNC: 'C', INTRADAY: 'I', MARGIN: 'M', MTF: 'F', CO: 'V', BO: 'B' };
const SHORT_ORDER_TYPE: Record<string, string> = { LIMIT: 'LMT', MARKET: 'MKT', STOP_LOSS: 'SL', STOP_LOSS_MARKET: 'SLM' };

/**
 * An order-update push (§6.2): PascalCase `Data` with short codes, numbers as numbers, the camelCase
 * duplicate cluster of the live page, and `Remarks` twice like the official sample. Status is
 * UPPER case except CANCELLED, written "Cancelled" as in the official sample (GUESS: which statuses
 * really come in mixed case is not documented).
 */
export function pushFrame(o: FakeDhanOrder): string {
  const inst = fakeDhanInstrument(o.securityId, o.exchangeSegment);
  const [exchange, segment] = SHORT_EXCHANGE[o.exchangeSegment] ?? ['NSE', 'E'];
  const data = {
    Exchange: exchange, Segment: segment, Source: o.source, SecurityId: o.securityId, ClientId: o.clientId,
    ExchOrderNo: o.status === 'TRANSIT' ? '0' : o.exchangeOrderId, OrderNo: o.orderId,
    Product: SHORT_PRODUCT[o.productType] ?? o.productType, TxnType: o.transactionType === 'BUY' ? 'B' : 'S',
    OrderType: SHORT_ORDER_TYPE[o.orderType] ?? o.orderType, Validity: o.validity,
    DiscQuantity: 0, DiscQtyRem: 0, RemainingQuantity: o.quantity - o.filledQty, Quantity: o.quantity, TradedQty: o.filledQty,
    Price: o.price, TriggerPrice: o.triggerPrice, TradedPrice: o.lastTradedPrice, AvgTradedPrice: o.averageTradedPrice,
    AlgoOrdNo: '', OffMktFlag: o.afterMarketOrder ? '1' : '0',
    OrderDateTime: ist(o.createdAt), ExchOrderTime: ist(o.updatedAt), LastUpdatedTime: ist(o.updatedAt),
    Remarks: 'NR', MktType: 'NL', ReasonDescription: o.reason, LegNo: 1,
    Instrument: inst?.instrumentName ?? 'EQUITY', Symbol: inst?.symbol ?? '', ProductName: o.productType,
    Status: o.status === 'CANCELLED' ? 'Cancelled' : o.status,
    LotSize: inst?.lotSize ?? 1, StrikePrice: inst?.strike ?? 0, ExpiryDate: inst?.expiry ? `${inst.expiry} 14:30:00` : '0001-01-01 00:00:00',
    OptType: inst?.optionType ?? 'XX', DisplayName: inst?.customSymbol ?? '', Isin: '', Series: inst?.series ?? 'EQ',
    GoodTillDaysDate: ist(o.createdAt).slice(0, 10), RefLtp: o.price, TickSize: inst?.tickSize ?? 0.05, AlgoId: '0', Multiplier: 1,
    CorrelationId: o.correlationId ?? '',
    series: inst?.series ?? 'EQ', goodTillDaysDate: ist(o.createdAt).slice(0, 10), instrumentType: inst?.instrumentName ?? 'EQUITY',
    refLtp: o.price, tickSize: inst?.tickSize ?? 0.05, algoId: '0', multiplier: 1,
  };
  const json = JSON.stringify(data);
  // Duplicate key, as in the official sample: the second Remarks wins in JSON.parse.
  return `{"Data":${json.slice(0, -1)},"Remarks":""},"Type":"order_alert"}`;
}
