import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isAirlockError } from '../errors.js';
import { defaultAlgorithms, resolveIssuerConfig, type IssuerConfig } from './issuer-config.js';

const good: IssuerConfig = { name: 'okta', issuer: 'https://example.okta.com', audience: 'airlock' };

test('defaults: asymmetric algorithms, groups/sub claims, 30 s skew, auto kind', () => {
  const resolved = resolveIssuerConfig(good);
  assert.deepEqual(resolved.algorithms, [...defaultAlgorithms]);
  assert.deepEqual(resolved.audiences, ['airlock']);
  assert.equal(resolved.groupsClaim, 'groups');
  assert.equal(resolved.subjectClaim, 'sub');
  assert.equal(resolved.clockSkewSeconds, 30);
  assert.equal(resolved.kind, 'auto');
  assert.ok(!defaultAlgorithms.some((alg) => alg === 'none' || alg.startsWith('HS')));
});

const refused: Array<{ name: string; config: IssuerConfig; says: RegExp }> = [
  { name: 'alg none', config: { ...good, algorithms: ['RS256', 'none'] }, says: /"none" is refused/ },
  { name: 'an HMAC algorithm', config: { ...good, algorithms: ['HS256'] }, says: /"HS256" is refused.*HMAC/ },
  { name: 'an unknown algorithm', config: { ...good, algorithms: ['RS1'] }, says: /not supported/ },
  { name: 'an empty algorithm list', config: { ...good, algorithms: [] }, says: /empty/ },
  { name: 'a missing audience', config: { ...good, audience: [] }, says: /audience/ },
  { name: 'a plain-http issuer', config: { ...good, issuer: 'http://idp.example.com' }, says: /https.*allowInsecure/ },
  { name: 'a plain-http jwksUri', config: { ...good, jwksUri: 'http://idp.example.com/jwks' }, says: /jwksUri/ },
  { name: 'an issuer that is not a URL', config: { ...good, issuer: 'okta' }, says: /not a URL/ },
  { name: 'a negative clock skew', config: { ...good, clockSkewSeconds: -1 }, says: /clockSkewSeconds/ },
  { name: 'an unknown kind', config: { ...good, kind: 'robot' as never }, says: /kind/ },
];
for (const row of refused) {
  test(`config refuses ${row.name} with AIRLOCK_CONFIG_INVALID naming the issuer`, () => {
    assert.throws(() => resolveIssuerConfig(row.config),
      (err) => isAirlockError(err, 'AIRLOCK_CONFIG_INVALID') && row.says.test(err.message) && err.message.includes('"okta"'));
  });
}

test('plain http is accepted only with allowInsecure', () => {
  const resolved = resolveIssuerConfig({ ...good, issuer: 'http://127.0.0.1:8080', allowInsecure: true });
  assert.equal(resolved.issuer, 'http://127.0.0.1:8080');
});
