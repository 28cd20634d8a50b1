/**
 * Test support: a minimal OIDC issuer on 127.0.0.1 port 0 that serves a discovery document
 * and a JWKS the test controls, counts every request, and can be told to fail, plus helpers
 * to make signing keys. Used by the identity tests only; it implements no token endpoint
 * (the real oidc-provider covers that in oidc-provider.test.ts).
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

export interface LocalIssuer {
  /** `http(s)://127.0.0.1:<port>` */
  readonly issuer: string;
  /** Requests seen per path (`/.well-known/openid-configuration`, `/jwks`). */
  readonly requests: Map<string, number>;
  setKeys(keys: JWK[]): void;
  /** Answer every request with this HTTP status (undefined: behave normally). */
  failWith(status: number | undefined): void;
  /** Override the `issuer` the discovery document names. */
  setDiscoveryIssuer(issuer: string): void;
  close(): Promise<void>;
}

export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

/** newSigningKey makes a key pair whose public JWK carries `kid` and `alg`. */
export async function newSigningKey(alg: string, kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicKey, publicJwk };
}

/** startLocalIssuer listens on 127.0.0.1 port 0; pass `tls` to serve https. */
export async function startLocalIssuer(options: { keys?: JWK[]; tls?: { key: string; cert: string } } = {}): Promise<LocalIssuer> {
  let keys = options.keys ?? [];
  let failure: number | undefined;
  let discoveryIssuer: string | undefined;
  const requests = new Map<string, number>();
  let issuer = '';

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.set(path, (requests.get(path) ?? 0) + 1);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (failure !== undefined) return send(failure, { error: 'unavailable' });
    if (path === '/.well-known/openid-configuration') {
      return send(200, { issuer: discoveryIssuer ?? issuer, jwks_uri: `${issuer}/jwks` });
    }
    if (path === '/jwks') return send(200, { keys });
    return send(404, { error: 'not found' });
  };

  const server = options.tls ? createHttpsServer(options.tls, handle) : createHttpServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  issuer = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;

  return {
    issuer,
    requests,
    setKeys: (next) => {
      keys = next;
    },
    failWith: (status) => {
      failure = status;
    },
    setDiscoveryIssuer: (value) => {
      discoveryIssuer = value;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
