import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPlaceholder } from '../../masking/index.js';
import { resolveRequestInfo } from './request-info.js';
import { maskToken, maskTokenBody, tokenSectionOf } from './token-objects.js';

const placeholder = createPlaceholder('a-mask-key-of-sixteen-bytes-or-more');

describe('token objects', () => {
  it('knows where TokenRequest and TokenReview carry a token, and nothing else', () => {
    const at = (method: string, path: string) => tokenSectionOf(resolveRequestInfo(method, path));
    assert.equal(at('POST', '/api/v1/namespaces/ci/serviceaccounts/deployer/token'), 'status');
    assert.equal(at('POST', '/apis/authentication.k8s.io/v1/tokenreviews'), 'spec');
    assert.equal(at('GET', '/api/v1/namespaces/ci/serviceaccounts/deployer'), undefined);
    assert.equal(at('POST', '/apis/example.com/v1/namespaces/ci/serviceaccounts/x/token'), undefined, 'another group is another resource');
    assert.equal(at('GET', '/version'), undefined);
  });

  it('replaces the token with the HMAC placeholder Secret values get, leaving the rest', () => {
    const request = { kind: 'TokenRequest', spec: { audiences: ['a'] }, status: { token: 'eyJhbGciOi.secret.sig', expirationTimestamp: 'T' } };
    const masked = maskToken(request, 'status', placeholder) as typeof request;
    assert.equal(masked.status.token, placeholder.marker('token', 'eyJhbGciOi.secret.sig'));
    assert.equal(masked.status.expirationTimestamp, 'T');
    assert.deepEqual(masked.spec, request.spec);
    assert.equal(request.status.token, 'eyJhbGciOi.secret.sig', 'the input is not changed');
    assert.notEqual(maskToken({ status: { token: 'another' } }, 'status', placeholder), masked, 'two tokens, two markers');
  });

  it('leaves objects without a token as they are, and refuses a body that is not JSON', () => {
    const status = { kind: 'Status', code: 403 };
    assert.equal(maskToken(status, 'status', placeholder), status);
    const empty = { spec: { token: '' } };
    assert.equal(maskToken(empty, 'spec', placeholder), empty, 'an empty token is no token');
    const body = Buffer.from(JSON.stringify(status));
    assert.equal(maskTokenBody(body, 'status', placeholder), body);
    assert.equal(maskTokenBody(Buffer.from('not json'), 'status', placeholder), undefined);
    const minted = maskTokenBody(Buffer.from('{"status":{"token":"clear-token-value"}}'), 'status', placeholder)!;
    assert.ok(!minted.toString().includes('clear-token-value'));
  });
});
