import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAirlockError } from '../../../errors.js';
import type { Identity } from '../../../identity/identity.js';
import { headerKeyEscape, impersonationHeaders, principalUid, type IdentityMapping } from './impersonation.js';

describe('headerKeyEscape', () => {
  // Rows from client-go's TestHeaderEscapeRoundTrip (transport/round_trippers_test.go), with the
  // exact escaped form client-go writes: non-token bytes and '%' as upper-case %XX.
  const rows: Array<{ name: string; key: string; escaped: string }> = [
    { name: 'alpha', key: 'alphabetical', escaped: 'alphabetical' },
    { name: 'alphanumeric', key: 'alph4num3r1c', escaped: 'alph4num3r1c' },
    { name: 'percent encoded', key: 'percent%20encoded', escaped: 'percent%2520encoded' },
    { name: 'almost percent encoded', key: 'almost%zzpercent%xxencoded', escaped: 'almost%25zzpercent%25xxencoded' },
    { name: 'illegal char & percent encoding', key: 'example.com/percent%20encoded', escaped: 'example.com%2Fpercent%2520encoded' },
    {
      name: 'weird unicode stuff',
      key: 'example.com/ᛒᚥᛏᛖᚥᚢとロビン',
      escaped: 'example.com%2F%E1%9B%92%E1%9A%A5%E1%9B%8F%E1%9B%96%E1%9A%A5%E1%9A%A2%E3%81%A8%E3%83%AD%E3%83%93%E3%83%B3',
    },
    { name: 'header legal chars (backslash is not one)', key: "abc123!#$+.-_*\\^`~|'", escaped: "abc123!#$+.-_*%5C^`~|'" },
    { name: 'legal path, illegal header', key: '@=:', escaped: '%40%3D%3A' },
    { name: "airlock's own key", key: 'airlock.dev/token-id', escaped: 'airlock.dev%2Ftoken-id' },
    { name: 'space and control bytes', key: 'a b\tc', escaped: 'a%20b%09c' },
  ];
  for (const row of rows) {
    it(`${row.name}: escapes as client-go and unescapes back to the key`, () => {
      const escaped = headerKeyEscape(row.key);
      assert.equal(escaped, row.escaped);
      assert.equal(decodeURIComponent(escaped), row.key, 'the apiserver (url.PathUnescape) gets the key back');
      assert.match(`impersonate-extra-${escaped}`, /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/, 'the header name is a valid HTTP token');
    });
  }
});

const agent: Identity = {
  subject: 'agent:deploy-bot',
  groups: ['ci', 'system:authenticated', 'ci'],
  issuer: 'https://airlock.example.com:8444',
  tokenId: 'jti-123',
  expiresAt: 2_000_000_000,
  kind: 'agent',
  via: 'builtin',
};
const serviceAccount: Identity = {
  subject: 'system:serviceaccount:ci:deployer',
  groups: ['system:serviceaccounts', 'system:serviceaccounts:ci', 'system:authenticated'],
  issuer: 'kubernetes:prod',
  tokenId: 'sa-jti',
  expiresAt: 2_000_000_000,
  kind: 'agent',
  via: 'kubernetes',
};
const base: IdentityMapping = { mode: 'impersonate', userPrefix: '', groupPrefix: '', groups: [], uid: false, extra: false };

describe('impersonationHeaders', () => {
  const rows: Array<{ name: string; identity: Identity; mapping: Partial<IdentityMapping>; expected: Record<string, string | string[]> }> = [
    { name: 'mode fixed sends no impersonation at all', identity: agent, mapping: { mode: 'fixed', uid: true, extra: true }, expected: {} },
    {
      name: 'the user and one value per group; system:authenticated and duplicates are left out',
      identity: agent,
      mapping: {},
      expected: { 'impersonate-user': 'agent:deploy-bot', 'impersonate-group': ['ci'] },
    },
    {
      name: 'prefixes apply to the subject and to every caller group, not to the fixed groups',
      identity: agent,
      mapping: { userPrefix: 'airlock:', groupPrefix: 'airlock:', groups: ['airlock:agents', 'system:authenticated'] },
      expected: { 'impersonate-user': 'airlock:agent:deploy-bot', 'impersonate-group': ['airlock:ci', 'airlock:agents'] },
    },
    {
      name: 'no groups at all sends no group header',
      identity: { ...agent, groups: [] },
      mapping: {},
      expected: { 'impersonate-user': 'agent:deploy-bot' },
    },
    {
      name: 'uid is the stable principal hash, not the token id',
      identity: agent,
      mapping: { uid: true },
      expected: { 'impersonate-user': 'agent:deploy-bot', 'impersonate-group': ['ci'], 'impersonate-uid': principalUid(agent) },
    },
    {
      name: 'extras carry issuer, token id and kind under escaped airlock.dev keys',
      identity: agent,
      mapping: { extra: true },
      expected: {
        'impersonate-user': 'agent:deploy-bot',
        'impersonate-group': ['ci'],
        'impersonate-extra-airlock.dev%2Fissuer': 'https://airlock.example.com:8444',
        'impersonate-extra-airlock.dev%2Ftoken-id': 'jti-123',
        'impersonate-extra-airlock.dev%2Fkind': 'agent',
      },
    },
    {
      name: "a cluster service account keeps the cluster's own names, unprefixed",
      identity: serviceAccount,
      mapping: { userPrefix: 'airlock:', groupPrefix: 'airlock:', groups: ['airlock:agents'] },
      expected: {
        'impersonate-user': 'system:serviceaccount:ci:deployer',
        'impersonate-group': ['system:serviceaccounts', 'system:serviceaccounts:ci', 'airlock:agents'],
      },
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      assert.deepEqual(impersonationHeaders(row.identity, { ...base, ...row.mapping }), row.expected);
    });
  }

  it('the uid is the same for every token of one principal and differs across issuers', () => {
    const uid = principalUid(agent);
    assert.match(uid, /^[0-9a-f]{32}$/);
    assert.equal(principalUid({ ...agent, tokenId: 'another' } as Identity), uid);
    assert.notEqual(principalUid({ ...agent, issuer: 'https://idp.example.com' }), uid);
  });

  it("a service account reviewed by another connection's cluster is refused", () => {
    assert.deepEqual(impersonationHeaders(serviceAccount, base, { connection: 'prod' })['impersonate-user'], 'system:serviceaccount:ci:deployer');
    assert.throws(() => impersonationHeaders(serviceAccount, base, { connection: 'staging' }), (err: unknown) => isAirlockError(err, 'AIRLOCK_INPUT_INVALID'));
  });

  it('names outside ASCII travel as their UTF-8 bytes, as client-go sends them; ASCII names are unchanged', () => {
    const headers = impersonationHeaders({ ...agent, subject: 'agent:josé', groups: ['équipe-日本', 'ci'] }, { ...base, extra: true });
    const wire = (v: string) => Buffer.from(v, 'latin1').toString('utf8');
    assert.equal(wire(headers['impersonate-user'] as string), 'agent:josé');
    assert.deepEqual((headers['impersonate-group'] as string[]).map(wire), ['équipe-日本', 'ci']);
    assert.equal((headers['impersonate-group'] as string[])[1], 'ci');
    // Every character is one byte on the wire (Node writes header strings as Latin-1).
    assert.ok(Object.values(headers).flat().every((v) => /^[\x20-\xff]*$/.test(v)));
  });

  it('a name with a control character cannot be a header: refused with AIRLOCK_INPUT_INVALID naming the field', () => {
    const cases: Array<[Identity, string]> = [
      [{ ...agent, groups: ['ops\r\nimpersonate-group: system:masters'] }, 'group'],
      [{ ...agent, subject: 'agent:a\u0000b' }, 'user'],
    ];
    for (const [identity, field] of cases) {
      assert.throws(() => impersonationHeaders(identity, base), (err: unknown) => isAirlockError(err, 'AIRLOCK_INPUT_INVALID') && err.message.includes(`impersonate a ${field} whose name has a control character`));
    }
  });

  it('never puts the token itself in a header (only its id)', () => {
    const headers = impersonationHeaders(agent, { ...base, uid: true, extra: true });
    assert.ok(Object.values(headers).flat().every((v) => !v.includes('eyJ')));
  });
});
