/**
 * Against a real OpenID provider (oidc-provider, started in this process on 127.0.0.1
 * port 0): a client-credentials grant issues a JWT access token, and airlock verifies it
 * through discovery and the provider's JWKS. Then the provider rotates its key: the new kid
 * verifies after one automatic refetch, and unknown kids inside the cooldown do not reach
 * the provider at all. Time is moved with an injected clock, never slept.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { isAirlockError } from '../errors.js';
import { createAuthenticator, type Authenticator } from './authenticator.js';

/** The slice of oidc-provider used here; the package ships no TypeScript declarations. */
interface ProviderInstance {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
}
type ProviderClass = new (issuer: string, configuration: Record<string, unknown>) => ProviderInstance;
const oidcProviderModule: string = 'oidc-provider';
const { default: Provider } = (await import(oidcProviderModule)) as { default: ProviderClass };

const clientId = 'deploy-bot';
const clientSecret = 'a-client-secret-that-is-long-enough-for-tests';

let server: ReturnType<typeof createServer>;
let issuer = '';
let handler: (req: IncomingMessage, res: ServerResponse) => void;
const requests = new Map<string, number>();
let clock = Date.now();
let auth: Authenticator;
let oldKey: JWK;

async function privateJwk(kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' };
}

/** buildProvider makes a provider whose first key signs; the others stay published. */
function buildProvider(keys: JWK[]) {
  const provider = new Provider(issuer, {
    jwks: { keys },
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: 'ES256',
    }],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => 'urn:airlock',
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'deploy',
          audience: 'airlock',
          accessTokenFormat: 'jwt',
          accessTokenTTL: 300,
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
    ttl: { ClientCredentials: 300 },
    extraTokenClaims: () => ({ groups: ['ci', 'deployers'] }),
  });
  return provider.callback();
}

/** clientCredentialsToken performs a real token request against the provider. */
async function clientCredentialsToken(): Promise<string> {
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, scope: 'deploy' }),
  });
  const body = (await res.json()) as { access_token?: string };
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.ok(body.access_token);
  return body.access_token;
}

const jwksRequests = () => requests.get('/jwks') ?? 0;

before(async () => {
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.set(path, (requests.get(path) ?? 0) + 1);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  oldKey = await privateJwk('key-2030-01');
  handler = buildProvider([oldKey]);
  auth = createAuthenticator({
    issuers: [{ name: 'test-idp', issuer, audience: 'airlock', allowInsecure: true }],
    now: () => clock,
  });
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('a real OIDC provider', () => {
  test('creating the authenticator contacts nobody: discovery waits for the first token', () => {
    assert.equal(requests.get('/.well-known/openid-configuration') ?? 0, 0);
    assert.equal(jwksRequests(), 0);
  });

  test('a client-credentials JWT access token is verified via discovery and JWKS', async () => {
    const token = await clientCredentialsToken();
    const identity = await auth.authenticate(token);
    assert.equal(identity.subject, clientId);
    assert.deepEqual(identity.groups, ['ci', 'deployers']);
    assert.equal(identity.issuer, issuer);
    assert.equal(identity.clientId, clientId);
    assert.equal(identity.kind, 'agent', 'sub equals client_id: a machine token');
    assert.equal(identity.via, 'test-idp');
    assert.match(identity.tokenId, /^[\w-]{20,}$/, 'the provider jti is the token id');
    assert.ok(identity.expiresAt > clock / 1000);
    assert.equal(requests.get('/.well-known/openid-configuration'), 1);
    assert.equal(jwksRequests(), 1);
  });

  test('further tokens reuse the cached discovery and key set', async () => {
    await auth.authenticate(await clientCredentialsToken());
    await auth.authenticate(await clientCredentialsToken());
    assert.equal(requests.get('/.well-known/openid-configuration'), 1);
    assert.equal(jwksRequests(), 1);
  });

  test('after a key rotation, a token with the new kid verifies after one automatic refetch', async () => {
    handler = buildProvider([await privateJwk('key-2030-02'), oldKey]);
    const token = await clientCredentialsToken();
    assert.equal(decodeProtectedHeader(token).kid, 'key-2030-02');
    clock += 31_000; // past the 30 s cooldown since the first fetch
    const identity = await auth.authenticate(token);
    assert.equal(identity.subject, clientId);
    assert.equal(jwksRequests(), 2);
  });

  test('unknown kids within the cooldown are refused without fetching the JWKS again', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    for (let i = 0; i < 5; i++) {
      const forged = await new SignJWT({ sub: 'intruder' })
        .setProtectedHeader({ alg: 'ES256', kid: `guess-${i}` })
        .setIssuer(issuer).setAudience('airlock').setIssuedAt(Math.floor(clock / 1000)).setExpirationTime(Math.floor(clock / 1000) + 60)
        .sign(privateKey);
      await assert.rejects(auth.authenticate(forged), (err) => isAirlockError(err, 'AIRLOCK_AUTH_UNKNOWN_KEY'));
    }
    assert.equal(jwksRequests(), 2, 'no refetch inside the cooldown');

    clock += 31_000;
    const forged = await new SignJWT({ sub: 'intruder' })
      .setProtectedHeader({ alg: 'ES256', kid: 'guess-late' })
      .setIssuer(issuer).setAudience('airlock').setIssuedAt(Math.floor(clock / 1000)).setExpirationTime(Math.floor(clock / 1000) + 60)
      .sign(privateKey);
    await assert.rejects(auth.authenticate(forged), (err) => isAirlockError(err, 'AIRLOCK_AUTH_UNKNOWN_KEY'));
    assert.equal(jwksRequests(), 3, 'one refetch once the cooldown has passed');
  });

  test('concurrent tokens with a new kid share a single refetch', async () => {
    handler = buildProvider([await privateJwk('key-2030-03'), oldKey]);
    const tokens = await Promise.all([1, 2, 3, 4, 5, 6].map(() => clientCredentialsToken()));
    clock += 31_000;
    const before = jwksRequests();
    const identities = await Promise.all(tokens.map((t) => auth.authenticate(t)));
    assert.equal(identities.length, 6);
    assert.equal(jwksRequests(), before + 1);
  });
});
