/**
 * openUpstream against real TLS listeners: the fake API server (bearer token, its own CA) and
 * small node:https servers where a property needs one (client certificates, a server name
 * other than the address). Requests go through undici with the upstream's dispatcher.
 */
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { kubernetesConnectionSchema, type KubernetesConnectionConfig } from '../../../config/kubernetes-schema.js';
import { isAirlockError } from '../../../errors.js';
import type { Identity } from '../../../identity/identity.js';
import { startFakeApiServer, type FakeApiServer } from '../../../../test/fixtures/fake-apiserver/index.js';
import { generateTestCertificates } from '../../../../test/fixtures/tls.js';
import { impersonationHeaders } from './impersonation.js';
import { openUpstream, upstreamPath, type Upstream } from './upstream.js';

let fake: FakeApiServer;
let dir: string;
before(async () => {
  fake = await startFakeApiServer();
  dir = mkdtempSync(join(tmpdir(), 'airlock-upstream-'));
  writeFileSync(join(dir, 'fake-ca.crt'), fake.caCert ?? '');
  writeFileSync(join(dir, 'token'), `${fake.token}\n`);
  writeFileSync(join(dir, 'kubeconfig'), fake.kubeconfig());
});
after(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

function connection(upstream: Record<string, unknown>, identity: Record<string, unknown> = {}): KubernetesConnectionConfig {
  return kubernetesConnectionSchema.parse({ name: 'prod', type: 'kubernetes', upstream, identity });
}

/** get sends one GET through the upstream, the way the gateway will. */
async function get(upstream: Upstream, path: string, headers: Record<string, string | string[]> = {}) {
  const authorization = upstream.authorization();
  const res = await request(new URL(upstreamPath(upstream, path), upstream.baseUrl), {
    dispatcher: upstream.dispatcher,
    headers: { accept: 'application/json', ...(authorization && { authorization }), ...headers },
  });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

async function withUpstream<T>(conn: KubernetesConnectionConfig, fn: (u: Upstream) => Promise<T>, opts: Parameters<typeof openUpstream>[1] = {}): Promise<T> {
  const upstream = await openUpstream(conn, opts);
  try {
    return await fn(upstream);
  } finally {
    await upstream.close();
  }
}

function itemNames(body: Record<string, unknown>): string[] {
  return ((body.items ?? []) as Array<{ metadata: { name: string } }>).map((i) => i.metadata.name);
}

describe('openUpstream round trips to the fake API server', () => {
  const ways: Array<{ name: string; conn: () => KubernetesConnectionConfig; opts?: () => Parameters<typeof openUpstream>[1] }> = [
    { name: 'url with its CA file and a bearer token', conn: () => connection({ url: fake.url, ca: join(dir, 'fake-ca.crt'), token: fake.token }) },
    { name: 'url with a token file', conn: () => connection({ url: fake.url, ca: join(dir, 'fake-ca.crt'), tokenFile: join(dir, 'token') }) },
    { name: "the fake's own kubeconfig (inline CA, token)", conn: () => connection({ kubeconfig: join(dir, 'kubeconfig') }) },
    { name: 'url with insecure: true (no CA)', conn: () => connection({ url: fake.url, insecure: true, token: fake.token }) },
    {
      name: 'in-cluster: service variables and the mounted token and CA',
      conn: () => connection({ inCluster: true }),
      opts: () => {
        const root = mkdtempSync(join(dir, 'sa-'));
        writeFileSync(join(root, 'token'), fake.token);
        writeFileSync(join(root, 'ca.crt'), fake.caCert ?? '');
        const { hostname, port } = new URL(fake.url);
        return { inClusterRoot: root, env: { KUBERNETES_SERVICE_HOST: hostname, KUBERNETES_SERVICE_PORT: port } };
      },
    },
  ];
  for (const way of ways) {
    it(`${way.name}: GET /api/v1/namespaces lists the namespaces with airlock's credential`, async () => {
      fake.clearReceived();
      await withUpstream(way.conn(), async (upstream) => {
        const { status, body } = await get(upstream, '/api/v1/namespaces');
        assert.equal(status, 200);
        assert.ok(itemNames(body).includes('default'));
        const seen = await fake.waitForRequest((r) => r.path === '/api/v1/namespaces');
        assert.equal(seen.authorization?.isAdminToken, true);
        assert.ok(!upstream.describe().includes(fake.token), 'describe never shows the token');
      }, way.opts?.());
    });
  }

  it('a rotated token file is used after the check interval, with no restart', async () => {
    let now = 0;
    const tokenFile = join(dir, 'rotating');
    writeFileSync(tokenFile, 'an-old-token-the-cluster-no-longer-accepts');
    utimesSync(tokenFile, 1000, 1000);
    await withUpstream(connection({ url: fake.url, ca: join(dir, 'fake-ca.crt'), tokenFile }), async (upstream) => {
      assert.equal((await get(upstream, '/api/v1/namespaces')).status, 401);
      writeFileSync(tokenFile, fake.token);
      utimesSync(tokenFile, 2000, 2000);
      now += 5000;
      assert.equal((await get(upstream, '/api/v1/namespaces')).status, 200);
    }, { now: () => now, tokenCheckIntervalMs: 5000 });
  });

  it('impersonation headers reach the cluster as the user, groups, uid and extras', async () => {
    const identity: Identity = { subject: 'agent:deploy-bot', groups: ['ci'], issuer: 'https://airlock.example.com', tokenId: 'jti-1', expiresAt: 2e9, kind: 'agent', via: 'builtin' };
    const conn = connection({ url: fake.url, ca: join(dir, 'fake-ca.crt'), token: fake.token }, { userPrefix: 'airlock:', groups: ['airlock:agents'], uid: true, extra: true });
    await withUpstream(conn, async (upstream) => {
      const res = await request(new URL(upstreamPath(upstream, '/apis/authentication.k8s.io/v1/selfsubjectreviews'), upstream.baseUrl), {
        method: 'POST',
        dispatcher: upstream.dispatcher,
        headers: { authorization: upstream.authorization(), 'content-type': 'application/json', ...impersonationHeaders(identity, conn.identity) },
        body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }),
      });
      const review = (await res.body.json()) as { status: { userInfo: { username: string; groups: string[]; uid: string; extra: Record<string, string[]> } } };
      assert.equal(res.statusCode, 201);
      const user = review.status.userInfo;
      assert.equal(user.username, 'airlock:agent:deploy-bot');
      assert.deepEqual(user.groups, ['ci', 'airlock:agents', 'system:authenticated']);
      assert.match(user.uid, /^[0-9a-f]{32}$/);
      assert.deepEqual(user.extra, { 'airlock.dev/issuer': ['https://airlock.example.com'], 'airlock.dev/token-id': ['jti-1'], 'airlock.dev/kind': ['agent'] });
    });
  });

  it('without the CA the self-signed certificate is refused', async () => {
    await withUpstream(connection({ url: fake.url, token: fake.token }), async (upstream) => {
      await assert.rejects(get(upstream, '/api/v1/namespaces'), (err: Error & { code?: string }) => {
        assert.match(String(err.code ?? err.message), /SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
        return true;
      });
    });
  });

  it('insecure: true over a kubeconfig drops its CA; `ca` over a kubeconfig replaces it', async () => {
    await withUpstream(connection({ kubeconfig: join(dir, 'kubeconfig'), insecure: true }), async (upstream) => {
      assert.match(upstream.describe(), /NOT verified/);
      assert.equal((await get(upstream, '/api/v1/namespaces')).status, 200);
    });
    const other = generateTestCertificates();
    writeFileSync(join(dir, 'other-ca.crt'), other.caCert);
    await withUpstream(connection({ kubeconfig: join(dir, 'kubeconfig'), ca: join(dir, 'other-ca.crt') }), async (upstream) => {
      assert.match(upstream.describe(), /CA from file .*other-ca\.crt/);
      await assert.rejects(get(upstream, '/api/v1/namespaces'));
    });
  });

  it('close() aborts a watch that is still streaming', async () => {
    const upstream = await openUpstream(connection({ url: fake.url, ca: join(dir, 'fake-ca.crt'), token: fake.token }));
    const res = await request(new URL(upstreamPath(upstream, '/api/v1/namespaces/default/configmaps?watch=true'), upstream.baseUrl), {
      dispatcher: upstream.dispatcher,
      headers: { authorization: upstream.authorization() },
    });
    assert.equal(res.statusCode, 200);
    const ended = assert.rejects(res.body.text());
    await upstream.close();
    await ended;
  });
});

describe('openUpstream TLS options', () => {
  /** serve starts a node:https server on 127.0.0.1:0 answering with what it saw of the TLS peer. */
  async function serve(options: https.ServerOptions): Promise<{ url: string; close(): Promise<void> }> {
    const server = https.createServer(options, (req, res) => {
      const socket = req.socket as TLSSocket;
      const peer = socket.getPeerCertificate();
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ authorized: socket.authorized, peer: peer.subject?.CN ?? null, servername: (socket as TLSSocket & { servername?: string | false }).servername || null, authorization: req.headers.authorization ?? null }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return {
      url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise((resolve) => server.close(() => resolve())),
    };
  }

  it('a client certificate and key authenticate airlock, with no Authorization header', async () => {
    const serverCerts = generateTestCertificates({ hosts: ['127.0.0.1'] });
    const clientCerts = generateTestCertificates({ hosts: ['airlock-client'] });
    const server = await serve({ cert: serverCerts.cert, key: serverCerts.key, ca: clientCerts.caCert, requestCert: true, rejectUnauthorized: true });
    try {
      writeFileSync(join(dir, 'srv-ca.crt'), serverCerts.caCert);
      writeFileSync(join(dir, 'client.crt'), clientCerts.cert);
      writeFileSync(join(dir, 'client.key'), clientCerts.key);
      const conn = connection({ url: server.url, ca: join(dir, 'srv-ca.crt'), clientCert: join(dir, 'client.crt'), clientKey: join(dir, 'client.key') });
      await withUpstream(conn, async (upstream) => {
        assert.equal(upstream.authorization(), undefined);
        assert.match(upstream.describe(), /client certificate from file .*client\.crt/);
        const { body } = await get(upstream, '/version');
        assert.deepEqual(body, { authorized: true, peer: 'airlock-client', servername: null, authorization: null });
      });
    } finally {
      await server.close();
    }
  });

  it('tls-server-name verifies a certificate issued for another name than the address', async () => {
    const certs = generateTestCertificates({ hosts: ['kubernetes.default.svc'] });
    const server = await serve({ cert: certs.cert, key: certs.key });
    try {
      const kubeconfig = join(dir, 'sni-kubeconfig');
      const b64 = Buffer.from(certs.caCert).toString('base64');
      const write = (sni: string) =>
        writeFileSync(kubeconfig, [
          'clusters:', '- name: c', '  cluster:', `    server: ${server.url}`, `    certificate-authority-data: ${b64}`, ...(sni ? [`    tls-server-name: ${sni}`] : []),
          'users:', '- name: u', '  user: {token: abc}',
          'contexts:', '- name: x', '  context: {cluster: c, user: u}', 'current-context: x', '',
        ].join('\n'));
      write('kubernetes.default.svc');
      await withUpstream(connection({ kubeconfig }), async (upstream) => {
        const { body } = await get(upstream, '/version');
        assert.equal(body.servername, 'kubernetes.default.svc');
      });
      write('');
      await withUpstream(connection({ kubeconfig }), async (upstream) => {
        await assert.rejects(get(upstream, '/version'), (err: Error & { code?: string }) => /ALTNAME|IP/.test(String(err.code ?? err.message)));
      });
    } finally {
      await server.close();
    }
  });
});

describe('openUpstream refusals', () => {
  const secret = 'configured-secret-token-0123456789';
  const rows: Array<{ name: string; upstream: () => Record<string, unknown>; opts?: Parameters<typeof openUpstream>[1]; message: RegExp }> = [
    { name: 'a credential next to a kubeconfig is refused (it would be ignored)', upstream: () => ({ kubeconfig: join(dir, 'kubeconfig'), token: secret }), message: /with `kubeconfig` the credential comes from there; remove `token`/ },
    { name: 'insecure together with a CA is refused', upstream: () => ({ url: fake.url, ca: join(dir, 'fake-ca.crt'), insecure: true, token: secret }), message: /contradict/ },
    { name: 'a missing CA file is named', upstream: () => ({ url: fake.url, ca: join(dir, 'nope.crt'), token: secret }), message: /the CA file .*nope\.crt cannot be read \(ENOENT\)/ },
    { name: 'a CA file that is not PEM is refused at open', upstream: () => ({ url: fake.url, ca: join(dir, 'token'), token: secret }), message: /the CA from file .*token holds no PEM certificate/ },
    {
      name: 'a CA file with a corrupt certificate block is refused at open',
      upstream: () => {
        writeFileSync(join(dir, 'bad-ca.crt'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
        return { url: fake.url, ca: join(dir, 'bad-ca.crt'), token: secret };
      },
      message: /the CA from file .*bad-ca\.crt cannot be used \(/,
    },
    {
      name: 'a client key that does not match its certificate is refused at open',
      upstream: () => {
        const a = generateTestCertificates();
        const b = generateTestCertificates();
        writeFileSync(join(dir, 'a.crt'), a.cert);
        writeFileSync(join(dir, 'b.key'), b.key);
        return { url: fake.url, clientCert: join(dir, 'a.crt'), clientKey: join(dir, 'b.key') };
      },
      message: /client certificate .*a\.crt.* and key .*b\.key.* cannot be used together \(.*mismatch/,
    },
    {
      name: 'a passphrase-protected client key is refused at open, saying to give it unencrypted',
      upstream: () => {
        const a = generateTestCertificates();
        writeFileSync(join(dir, 'c.crt'), a.cert);
        writeFileSync(join(dir, 'c.key'), createPrivateKey(a.key).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'not-here' }));
        return { url: fake.url, clientCert: join(dir, 'c.crt'), clientKey: join(dir, 'c.key') };
      },
      message: /the client key \(file .*c\.key\) is encrypted with a passphrase; give airlock the key unencrypted/,
    },
    { name: 'in-cluster outside a pod says what to use instead', upstream: () => ({ inCluster: true }), opts: { env: {} }, message: /not running in a pod.*`url`.*`kubeconfig`/ },
    { name: 'in-cluster without the mounted CA names the file', upstream: () => ({ inCluster: true }), opts: { env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, inClusterRoot: '/nonexistent-sa' }, message: /in-cluster CA \(ca\.crt\) file \/nonexistent-sa\/ca\.crt cannot be read/ },
  ];
  for (const row of rows) {
    it(row.name, async () => {
      await assert.rejects(openUpstream(connection(row.upstream()), row.opts), (err: unknown) => {
        assert.ok(isAirlockError(err, 'AIRLOCK_UPSTREAM_CONFIG'), String(err));
        assert.match(err.message, /connection "prod": /);
        assert.match(err.message, row.message);
        assert.ok(!err.message.includes(secret) && !err.message.includes(fake.token), 'no error shows a token');
        return true;
      });
    });
  }
});

describe('upstream paths and descriptions', () => {
  it('upstreamPath keeps the server path prefix and the raw target', () => {
    const at = (base: string) => ({ baseUrl: new URL(base) });
    assert.equal(upstreamPath(at('https://h:6443'), '/api/v1/pods?watch=1'), '/api/v1/pods?watch=1');
    const prefixed = new URL('https://h/k8s/clusters/c-1');
    assert.equal(upstreamPath({ baseUrl: prefixed }, '/api/v1/namespaces/a%2Fb'), '/k8s/clusters/c-1/api/v1/namespaces/a%2Fb');
  });

  it('the IPv6 in-cluster service address is bracketed', async () => {
    const root = mkdtempSync(join(dir, 'sa6-'));
    writeFileSync(join(root, 'token'), 'tok');
    writeFileSync(join(root, 'ca.crt'), fake.caCert ?? '');
    await withUpstream(connection({ inCluster: true }), async (upstream) => {
      assert.equal(upstream.baseUrl.hostname, '[fd00::1]');
      assert.match(upstream.describe(), /^https:\/\/\[fd00::1\]\/ \(in-cluster service account .*; bearer token from file .*token \(re-read when it changes\); CA from file .*ca\.crt\)$/);
    }, { inClusterRoot: root, env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' } });
  });
});
