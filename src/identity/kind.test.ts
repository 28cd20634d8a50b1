import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JWTPayload } from 'jose';
import { decideKind, type KindInput } from './kind.js';

const base = (claims: JWTPayload, extra: Partial<KindInput> = {}): KindInput => ({
  configured: 'auto',
  claims,
  rawSubject: typeof claims.sub === 'string' ? claims.sub : '',
  subject: typeof claims.sub === 'string' ? claims.sub : '',
  trustKindClaim: false,
  ...extra,
});

const rows: Array<{ name: string; input: KindInput; kind: 'agent' | 'human' }> = [
  { name: 'an agent: subject is an agent', input: base({ sub: 'agent:deploy-bot', email: 'x@example.com' }), kind: 'agent' },
  { name: 'a prefix that makes the subject agent: counts', input: base({ sub: 'bot' }, { subject: 'agent:bot', rawSubject: 'bot' }), kind: 'agent' },
  { name: 'a client-credentials token (sub equals client id) is an agent', input: base({ sub: 'ci', name: 'CI' }, { clientId: 'ci' }), kind: 'agent' },
  { name: 'an Auth0 client-credentials token (gty) is an agent', input: base({ sub: 'x@clients', gty: 'client-credentials', name: 'n' }), kind: 'agent' },
  { name: 'a Keycloak service account is an agent', input: base({ sub: 'uuid', preferred_username: 'service-account-ci' }), kind: 'agent' },
  { name: 'a token with no human claims is an agent', input: base({ sub: 'uuid' }), kind: 'agent' },
  { name: 'a token with an email is a human', input: base({ sub: 'uuid', email: 'alice@example.com' }, { clientId: 'kubectl' }), kind: 'human' },
  { name: 'a token with preferred_username is a human', input: base({ sub: 'uuid', preferred_username: 'alice' }), kind: 'human' },
  { name: 'the issuer config kind wins over every guess', input: base({ sub: 'agent:x' }, { configured: 'human' }), kind: 'human' },
  { name: 'airlock_kind is honoured from the built-in issuer', input: base({ sub: 'agent:x', airlock_kind: 'human' }, { trustKindClaim: true }), kind: 'human' },
  { name: 'airlock_kind is ignored from any other issuer', input: base({ sub: 'uuid', email: 'e', airlock_kind: 'agent' }), kind: 'human' },
];

for (const row of rows) {
  test(`kind: ${row.name}`, () => {
    assert.equal(decideKind(row.input), row.kind);
  });
}
