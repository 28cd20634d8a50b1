import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  badGateway, badRequest, forbidden, gatewayTimeout, internalError, notAcceptable, notFound, serviceUnavailable,
  statusFailure, tooManyRequests, unauthorized, unsupportedMediaType, type StatusResponse,
} from './status.js';

test('statusFailure serialises exactly as the apiserver writes a Forbidden Status (reference §8)', () => {
  const status = statusFailure({ code: 403, reason: 'Forbidden', message: 'no', details: { name: 'db', group: '', kind: 'secrets' } });
  assert.equal(
    JSON.stringify(status),
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"no","reason":"Forbidden","details":{"name":"db","group":"","kind":"secrets"},"code":403}',
  );
});

test('statusFailure omits details when none are given', () => {
  assert.equal(
    JSON.stringify(statusFailure({ code: 400, reason: 'BadRequest', message: 'bad' })),
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"bad","reason":"BadRequest","code":400}',
  );
});

const helpers: Array<[string, StatusResponse, number, string]> = [
  ['badRequest', badRequest('m'), 400, 'BadRequest'],
  ['unauthorized', unauthorized('m'), 401, 'Unauthorized'],
  ['forbidden', forbidden('m', { name: 'n' }), 403, 'Forbidden'],
  ['notFound', notFound('m'), 404, 'NotFound'],
  ['notAcceptable', notAcceptable('m'), 406, 'NotAcceptable'],
  ['unsupportedMediaType', unsupportedMediaType('m'), 415, 'UnsupportedMediaType'],
  ['tooManyRequests', tooManyRequests('m', 5), 429, 'TooManyRequests'],
  ['internalError', internalError('m'), 500, 'InternalError'],
  ['badGateway', badGateway('m'), 502, 'InternalError'],
  ['serviceUnavailable', serviceUnavailable('m'), 503, 'ServiceUnavailable'],
  ['gatewayTimeout', gatewayTimeout('m'), 504, 'Timeout'],
];
for (const [name, response, code, reason] of helpers) {
  test(`${name} answers ${code} with a ${reason} Status whose code matches the HTTP status`, () => {
    assert.equal(response.statusCode, code);
    const body = JSON.parse(response.body) as Record<string, unknown>;
    assert.deepEqual([body.kind, body.apiVersion, body.status, body.reason, body.code, body.message], ['Status', 'v1', 'Failure', reason, code, 'm']);
    assert.equal(response.headers['content-type'], 'application/json');
    assert.equal(response.headers['content-length'], String(Buffer.byteLength(response.body)));
    assert.ok(response.body.endsWith('\n'));
    assert.deepEqual(JSON.parse(response.body), response.status);
  });
}

const retries: Array<[string, StatusResponse, string | undefined]> = [
  ['tooManyRequests sets Retry-After and details.retryAfterSeconds', tooManyRequests('held', 5), '5'],
  ['a fractional delay rounds up', tooManyRequests('held', 1.2), '2'],
  ['a zero delay becomes one second (client-go needs a positive value)', tooManyRequests('held', 0), '1'],
  ['a negative delay becomes one second', tooManyRequests('held', -3), '1'],
  ['a non-finite delay becomes one second', tooManyRequests('held', Number.NaN), '1'],
  ['serviceUnavailable with a delay sets Retry-After', serviceUnavailable('down', 30), '30'],
  ['serviceUnavailable without a delay sets none', serviceUnavailable('down'), undefined],
  ['forbidden never sets Retry-After', forbidden('no'), undefined],
];
for (const [title, response, header] of retries) {
  test(title, () => {
    assert.equal(response.headers['retry-after'], header);
    const details = response.status.details;
    assert.equal(details?.retryAfterSeconds === undefined ? undefined : String(details.retryAfterSeconds), header);
  });
}

test('a message is carried verbatim, JSON-escaped, including quotes and non-ASCII', () => {
  const message = 'rule "no-secrets" denies get secrets/db — ask approval 42';
  assert.equal((JSON.parse(forbidden(message).body) as { message: string }).message, message);
});
