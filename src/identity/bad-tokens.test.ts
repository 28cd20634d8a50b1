/**
 * The permanent refusal suite: one row per way a bearer token can be wrong, each refused
 * with its own code and a message that says what is wrong and never repeats the token.
 * Rows are never removed; a new bypass gets a new row.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { exportSPKI, SignJWT, type JWTPayload } from 'jose';
import { errorCatalog, isAirlockError, type ErrorCode } from '../errors.js';
import { createAuthenticator, type Authenticator } from './authenticator.js';
import { newSigningKey, startLocalIssuer, type LocalIssuer, type SigningKey } from './local-issuer.test-helper.js';

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const nowMs = Date.UTC(2030, 0, 1, 12, 0, 0);
const nowS = nowMs / 1000;

let idp: LocalIssuer;
let key: SigningKey;
let otherKey: SigningKey;
let esKey: SigningKey;
let auth: Authenticator;

/** sign builds a token for the local issuer; `claims` override the valid defaults (undefined removes). */
async function sign(claims: Record<string, unknown> = {}, options: { key?: SigningKey; kid?: string; alg?: string } = {}): Promise<string> {
  const signer = options.key ?? key;
  const payload: Record<string, unknown> = {
    iss: idp.issuer, sub: 'agent:ci-runner', aud: 'airlock', iat: nowS - 10, exp: nowS + 600, ...claims,
  };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  return new SignJWT(payload as JWTPayload)
    .setProtectedHeader({ alg: options.alg ?? signer.alg, kid: options.kid ?? signer.kid })
    .sign(signer.privateKey);
}

before(async () => {
  key = await newSigningKey('RS256', 'k1');
  otherKey = await newSigningKey('RS256', 'k1'); // same kid, different key: a forgery
  esKey = await newSigningKey('ES256', 'es1');
  idp = await startLocalIssuer({ keys: [key.publicJwk, esKey.publicJwk] });
  auth = createAuthenticator({
    issuers: [{ name: 'corp', issuer: idp.issuer, audience: 'airlock', algorithms: ['RS256'], allowInsecure: true }],
    now: () => nowMs,
  });
});

after(async () => {
  await idp.close();
});

interface Row {
  name: string;
  token: () => Promise<string>;
  code: ErrorCode;
  /** What the message must say, in plain words. */
  says: RegExp;
}

const rows: Row[] = [
  { name: 'forged: signed with another key under the same kid', token: () => sign({}, { key: otherKey }), code: 'AIRLOCK_AUTH_BAD_SIGNATURE', says: /signature does not match/ },
  {
    name: 'tampered: payload changed after signing',
    token: async () => {
      const [h, , s] = (await sign()).split('.');
      return `${h}.${b64({ iss: idp.issuer, sub: 'admin', aud: 'airlock', exp: nowS + 600 })}.${s}`;
    },
    code: 'AIRLOCK_AUTH_BAD_SIGNATURE',
    says: /altered or signed by someone else/,
  },
  { name: 'expired', token: () => sign({ iat: nowS - 7200, exp: nowS - 3600 }), code: 'AIRLOCK_AUTH_EXPIRED', says: /expired at 2030-01-01T11:00:00.000Z/ },
  { name: 'not yet valid (nbf in the future)', token: () => sign({ nbf: nowS + 3600 }), code: 'AIRLOCK_AUTH_NOT_YET_VALID', says: /valid only from 2030-01-01T13:00:00.000Z/ },
  { name: 'issued in the future (iat beyond the clock skew)', token: () => sign({ iat: nowS + 3600 }), code: 'AIRLOCK_AUTH_NOT_YET_VALID', says: /issued at .* in the future/ },
  { name: 'wrong issuer', token: () => sign({ iss: 'https://evil.example.com' }), code: 'AIRLOCK_AUTH_UNKNOWN_ISSUER', says: /"https:\/\/evil.example.com" is not a trusted issuer/ },
  { name: 'issuer differing only by a trailing slash', token: () => sign({ iss: `${idp.issuer}/` }), code: 'AIRLOCK_AUTH_UNKNOWN_ISSUER', says: /not a trusted issuer/ },
  { name: 'wrong audience', token: () => sign({ aud: 'kubernetes' }), code: 'AIRLOCK_AUTH_WRONG_AUDIENCE', says: /audience "kubernetes".*accepts only airlock/ },
  { name: 'no audience', token: () => sign({ aud: undefined }), code: 'AIRLOCK_AUTH_WRONG_AUDIENCE', says: /no audience/ },
  {
    name: 'alg: none (unsigned)',
    token: async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: idp.issuer, sub: 'admin', aud: 'airlock', exp: nowS + 600 })}.`,
    code: 'AIRLOCK_AUTH_ALG_REFUSED',
    says: /"none" is never accepted/,
  },
  {
    name: 'alg: None spelled in another case',
    token: async () => `${b64({ alg: 'None' })}.${b64({ iss: idp.issuer, sub: 'admin', aud: 'airlock', exp: nowS + 600 })}.`,
    code: 'AIRLOCK_AUTH_ALG_REFUSED',
    says: /never accepted/,
  },
  {
    name: 'HS256 signed with the issuer public key as the HMAC secret (HS/RS confusion)',
    token: async () => {
      const secret = new TextEncoder().encode(await exportSPKI(key.publicKey));
      return new SignJWT({ iss: idp.issuer, sub: 'admin', aud: 'airlock', exp: nowS + 600 })
        .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
        .sign(secret);
    },
    code: 'AIRLOCK_AUTH_ALG_REFUSED',
    says: /"HS256" is never accepted/,
  },
  { name: 'asymmetric alg outside the issuer allow-list', token: () => sign({}, { key: esKey }), code: 'AIRLOCK_AUTH_ALG_REFUSED', says: /accepts RS256, not "ES256"/ },
  { name: 'unknown kid', token: () => sign({}, { key: otherKey, kid: 'rotated-away' }), code: 'AIRLOCK_AUTH_UNKNOWN_KEY', says: /no RS256 key with kid "rotated-away"/ },
  { name: 'malformed: not a JWT at all', token: async () => 'not-a-jwt', code: 'AIRLOCK_AUTH_MALFORMED', says: /expected a JWT/ },
  { name: 'malformed: garbage characters in base64url', token: async () => 'eyJ$$$.e30.c2ln', code: 'AIRLOCK_AUTH_MALFORMED', says: /expected a JWT/ },
  { name: 'malformed: header is not JSON', token: async () => `${b64('hello')}.${b64({})}.c2ln`, code: 'AIRLOCK_AUTH_MALFORMED', says: /header is not base64url-encoded JSON/ },
  { name: 'malformed: payload is not a JSON object', token: async () => `${b64({ alg: 'RS256' })}.${b64('[1,2]')}.c2ln`, code: 'AIRLOCK_AUTH_MALFORMED', says: /payload is not/ },
  { name: 'malformed: header without alg', token: async () => `${b64({ kid: 'k1' })}.${b64({ iss: 'x' })}.c2ln`, code: 'AIRLOCK_AUTH_MALFORMED', says: /no "alg"/ },
  { name: 'malformed: encrypted JWE', token: async () => 'eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d', code: 'AIRLOCK_AUTH_MALFORMED', says: /encrypted tokens/ },
  { name: 'malformed: absurdly long', token: async () => `${'a'.repeat(20_000)}.b.c`, code: 'AIRLOCK_AUTH_MALFORMED', says: /longer than/ },
  { name: 'missing exp', token: () => sign({ exp: undefined }), code: 'AIRLOCK_AUTH_CLAIMS', says: /no "exp" claim/ },
  { name: 'missing sub', token: () => sign({ sub: undefined }), code: 'AIRLOCK_AUTH_CLAIMS', says: /no "sub" claim/ },
  { name: 'missing iss', token: () => sign({ iss: undefined }), code: 'AIRLOCK_AUTH_CLAIMS', says: /no "iss"/ },
  { name: 'exp that is not a number', token: () => sign({ exp: 'tomorrow' }), code: 'AIRLOCK_AUTH_CLAIMS', says: /"exp" claim is not valid/ },
  { name: 'empty token', token: async () => '', code: 'AIRLOCK_AUTH_MISSING', says: /send a bearer token/ },
];

describe('bad tokens', () => {
  test('a well-formed token from the issuer is accepted (the baseline every row departs from)', async () => {
    const identity = await auth.authenticate(await sign());
    assert.equal(identity.subject, 'agent:ci-runner');
    assert.equal(identity.via, 'corp');
  });

  for (const row of rows) {
    test(`${row.name}: refused as ${row.code}, and the message never contains the token`, async () => {
      const token = await row.token();
      const err = await auth.authenticate(token).then(
        () => assert.fail('the token was accepted'),
        (e: unknown) => e,
      );
      assert.ok(isAirlockError(err), `expected an AirlockError, got ${String(err)}`);
      assert.equal(err.code, row.code, err.message);
      assert.match(err.message, row.says);
      assertNoTokenIn(err.message, token);
      assertNoTokenIn(err.stack ?? '', token);
    });
  }

  // Unavailability is covered in remote-keys.test.ts; TokenReview refusals in the Kubernetes upstream's token-review.test.ts.
  const elsewhere = new Set(['AIRLOCK_AUTH_ISSUER_UNAVAILABLE', 'AIRLOCK_AUTH_TOKEN_REVIEW_REJECTED']);
  test('the table covers every AIRLOCK_AUTH_* refusal of the token verifiers', () => {
    const covered = new Set(rows.map((row) => row.code));
    const missing = Object.keys(errorCatalog)
      .filter((code) => code.startsWith('AIRLOCK_AUTH_') && !elsewhere.has(code))
      .filter((code) => !covered.has(code as ErrorCode));
    assert.deepEqual(missing, []);
  });
});

/** assertNoTokenIn checks that neither the token nor any of its parts longer than a few characters leaks. */
function assertNoTokenIn(text: string, token: string): void {
  if (token.length < 8) return;
  assert.ok(!text.includes(token), 'the message contains the token');
  for (const part of token.split('.')) {
    if (part.length >= 12) assert.ok(!text.includes(part), 'the message contains a part of the token');
  }
}
