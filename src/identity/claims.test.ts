import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JWTPayload } from 'jose';
import { isAirlockError } from '../errors.js';
import { readClaim, readClientId, readGroups, readSubject } from './claims.js';

const claims = {
  sub: 'u1',
  groups: ['ci', 'ci', '', 7, 'ops'],
  realm_access: { roles: ['admin', 'viewer'] },
  'https://example.com/groups': ['auth0-team'],
  single: 'only-one',
  azp: 'kubectl',
  client_id: 'other',
};

const groupRows: Array<{ name: string; claim: string; prefix?: string; groups: string[] }> = [
  { name: 'an array keeps its string members once, in order', claim: 'groups', groups: ['ci', 'ops'] },
  { name: 'a dotted path walks nested objects (Keycloak)', claim: 'realm_access.roles', groups: ['admin', 'viewer'] },
  { name: 'a claim named with dots is read literally first (Auth0)', claim: 'https://example.com/groups', groups: ['auth0-team'] },
  { name: 'a single string is one group', claim: 'single', groups: ['only-one'] },
  { name: 'a missing claim means no groups', claim: 'nope.deeper', groups: [] },
  { name: 'the prefix is added to each group', claim: 'groups', prefix: 'corp:', groups: ['corp:ci', 'corp:ops'] },
];
for (const row of groupRows) {
  test(`groups: ${row.name}`, () => {
    assert.deepEqual(readGroups(claims, row.claim, row.prefix ?? ''), row.groups);
  });
}

test('readClaim does not walk into arrays or inherited properties', () => {
  assert.equal(readClaim(claims, 'groups.0'), undefined);
  assert.equal(readClaim(claims, 'sub.length'), undefined);
  assert.equal(readClaim({ a: {} }, 'a.constructor'), undefined);
});

test('readSubject prefixes the configured claim and refuses a missing or empty one', () => {
  assert.equal(readSubject(claims, 'sub', 'okta:'), 'okta:u1');
  for (const bad of [{}, { sub: '' }, { sub: 42 }] as JWTPayload[]) {
    assert.throws(() => readSubject(bad, 'sub', ''), (err) => isAirlockError(err, 'AIRLOCK_AUTH_CLAIMS'));
  }
});

test('readClientId prefers azp, then client_id', () => {
  assert.equal(readClientId(claims), 'kubectl');
  assert.equal(readClientId({ client_id: 'ci' }), 'ci');
  assert.equal(readClientId({}), undefined);
});
