import { describe, expect, it } from 'vitest';
import { dhanHttpError, dhanNetworkError, isLookupMiss } from '../../src/brokers/dhan/dhan-errors.js';
import { BrokerRateLimited, BrokerRejected, BrokerUnavailable, SessionExpired } from '../../src/brokers/port.js';

const body = (errorCode: string, errorMessage: string, errorType = 'Order_Error') => ({ errorType, errorCode, errorMessage });

describe('dhanHttpError', () => {
  it.each([
    ['401 DH-901', 401, body('DH-901', 'Client ID or user generated access token is invalid or expired.', 'Invalid_Authentication'), SessionExpired],
    ['400 DH-906 Invalid Token', 400, body('DH-906', 'Invalid Token'), SessionExpired],
    ['401 with a non-JSON body', 401, '<html>nope</html>', SessionExpired],
    ['data API 808', 401, { data: { '808': 'Authentication Failed - Client ID or Token invalid' }, status: 'failed' }, SessionExpired],
    ['data API 807 with 400', 400, { data: { '807': 'Access token expired' }, status: 'failed' }, SessionExpired],
    ['429 DH-904', 429, body('DH-904', 'Too many requests on server from single user breaching rate limits. Try throttling API calls.', 'Rate_Limit'), BrokerRateLimited],
    ['429 without body', 429, '', BrokerRateLimited],
    ['DH-904 on a 400', 400, body('DH-904', 'slow down', 'Rate_Limit'), BrokerRateLimited],
    ['400 DH-905', 400, body('DH-905', 'Missing required fields, bad values for parameters etc.', 'Input_Exception'), BrokerRejected],
    ['400 DH-906 transit', 400, body('DH-906', 'Order is in Transit state'), BrokerRejected],
    ['400 DH-906 nothing to cancel', 400, body('DH-906', 'Nothing to Cancel . '), BrokerRejected],
    ['404 DH-906 lookup miss', 404, body('DH-906', 'Incorrect request for order and cannot be processed'), BrokerRejected],
    ['400 DH-911 invalid IP', 400, body('DH-911', 'Invalid IP'), BrokerRejected],
    ['403 no body', 403, '', BrokerRejected],
    ['500 DH-908', 500, body('DH-908', 'Internal Server Error'), BrokerUnavailable],
    ['500 DH-906 (one tester saw it)', 500, body('DH-906', 'Incorrect request for order and cannot be processed'), BrokerUnavailable],
    ['502 html', 502, '<html>bad gateway</html>', BrokerUnavailable],
    ['400 DH-909', 400, body('DH-909', 'Network Error'), BrokerUnavailable],
    ['302 redirect', 302, '', BrokerUnavailable],
  ] as const)('%s', (_name, status, b, cls) => {
    expect(dhanHttpError('acc1', status, b, 'place order')).toBeInstanceOf(cls);
  });

  it('keeps the message verbatim and the code on a rejection', () => {
    const e = dhanHttpError('acc1', 400, body('DH-906', 'Nothing to Cancel . '), 'cancel order') as BrokerRejected;
    expect(e.code).toBe('DH-906');
    expect(e.message).toBe('Nothing to Cancel . ');
    expect((dhanHttpError('acc1', 418, '', 'x') as BrokerRejected).code).toBe('HTTP-418');
  });

  it('names the account on SessionExpired and gives rate limits a retry delay', () => {
    expect((dhanHttpError('f7', 401, '', 'x') as SessionExpired).accountId).toBe('f7');
    expect((dhanHttpError('f7', 429, '', 'x') as BrokerRateLimited).retryAfterMs).toBe(1000);
    expect((dhanHttpError('f7', 503, '', 'x') as BrokerUnavailable).status).toBe(503);
  });

  it('isLookupMiss: only 404 DH-906 that is not a token error', () => {
    expect(isLookupMiss(404, body('DH-906', 'Incorrect request for order and cannot be processed'))).toBe(true);
    expect(isLookupMiss(404, body('DH-906', 'Invalid Token'))).toBe(false);
    expect(isLookupMiss(400, body('DH-906', 'Incorrect request for order and cannot be processed'))).toBe(false);
    expect(isLookupMiss(404, body('DH-905', 'x'))).toBe(false);
  });

  it('network errors are BrokerUnavailable with the cause named', () => {
    const e = dhanNetworkError(Object.assign(new Error('timeout of 300ms exceeded'), { code: 'ECONNABORTED' }), 'place order');
    expect(e).toBeInstanceOf(BrokerUnavailable);
    expect(e.message).toContain('ECONNABORTED');
  });
});
