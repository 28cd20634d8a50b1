import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { isAirlockError } from '../errors.js';
import { createAuthenticator } from './authenticator.js';
import { openBuiltinIssuer } from './builtin-issuer.js';
import type { Identity } from './identity.js';
import { createVerificationCache } from './verification-cache.js';

const t0 = Date.UTC(2030, 0, 1);
const identity = (expiresAt: number): Identity => ({
  subject: 'agent:a', groups: ['ci'], issuer: 'https://idp.example.com', tokenId: 'j1', expiresAt, kind: 'agent', via: 'corp',
});

describe('verification cache', () => {
  const cases = [
    { name: 'served before exp', at: t0 + 10_000, exp: t0 / 1000 + 60, maxAgeMs: 60_000, served: true },
    { name: 'not served at exp, even within maxAge', at: t0 + 30_000, exp: t0 / 1000 + 30, maxAgeMs: 60_000, served: false },
    { name: 'not served after maxAge, even before exp', at: t0 + 61_000, exp: t0 / 1000 + 3600, maxAgeMs: 60_000, served: false },
    { name: 'not stored when already expired', at: t0, exp: t0 / 1000 - 1, maxAgeMs: 60_000, served: false },
  ];
  for (const c of cases) {
    test(`an entry is ${c.name}`, () => {
      const cache = createVerificationCache({ maxAgeMs: c.maxAgeMs });
      cache.set('d', identity(c.exp), t0);
      assert.equal(cache.get('d', c.at) !== undefined, c.served);
    });
  }

  test('the least recently used entry is dropped beyond maxEntries', () => {
    const cache = createVerificationCache({ maxEntries: 2 });
    const exp = t0 / 1000 + 60;
    cache.set('a', identity(exp), t0);
    cache.set('b', identity(exp), t0);
    assert.ok(cache.get('a', t0)); // a is now the most recent
    cache.set('c', identity(exp), t0);
    assert.equal(cache.size, 2);
    assert.ok(cache.get('a', t0));
    assert.equal(cache.get('b', t0), undefined);
    assert.ok(cache.get('c', t0));
  });

  test('a caller mutating a returned identity does not change what the cache serves', () => {
    const cache = createVerificationCache();
    cache.set('a', identity(t0 / 1000 + 60), t0);
    cache.get('a', t0)!.groups.push('admins');
    assert.deepEqual(cache.get('a', t0)!.groups, ['ci']);
  });
});

describe('verification cache in the authenticator', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'airlock-cache-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  test('a cached verification never outlives the token: past exp + skew it is refused as expired', async () => {
    let clock = t0;
    const builtin = await openBuiltinIssuer({ dataDir, issuer: 'https://airlock.example.com', now: () => clock });
    const auth = createAuthenticator({ issuers: [], builtin, now: () => clock, cache: { maxAgeMs: 3_600_000 } });
    const token = await builtin.mint({ subject: 'agent:a', ttlSeconds: 60 });
    await auth.authenticate(token);
    clock = t0 + 59_000;
    assert.equal((await auth.authenticate(token)).subject, 'agent:a');
    clock = t0 + 60_000 + 31_000; // beyond exp and the 30 s clock skew
    await assert.rejects(auth.authenticate(token), (err) => isAirlockError(err, 'AIRLOCK_AUTH_EXPIRED'));
  });

  test('a refused token is not cached: the same token is refused every time', async () => {
    const clock = t0;
    const builtin = await openBuiltinIssuer({ dataDir, issuer: 'https://airlock.example.com', now: () => clock - 3_600_000 });
    const auth = createAuthenticator({ issuers: [], builtin, now: () => clock });
    const expired = await builtin.mint({ subject: 'agent:a', ttlSeconds: 60 });
    for (let i = 0; i < 3; i++) {
      await assert.rejects(auth.authenticate(expired), (err) => isAirlockError(err, 'AIRLOCK_AUTH_EXPIRED'));
    }
  });
});
