import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { isAirlockError } from '../../../errors.js';
import { generateTestCertificates } from '../../../../test/fixtures/tls.js';
import { readKubeconfigTarget } from './kubeconfig-file.js';

const secretToken = 'kc-secret-token-DO-NOT-LEAK-0123456789';
const certs = generateTestCertificates({ hosts: ['127.0.0.1'] });
const b64 = (s: string) => Buffer.from(s).toString('base64');

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'airlock-kubeconfig-'));
  mkdirSync(join(dir, 'pki'));
  writeFileSync(join(dir, 'pki', 'ca.crt'), certs.caCert);
  writeFileSync(join(dir, 'pki', 'client.crt'), certs.cert);
  writeFileSync(join(dir, 'pki', 'client.key'), certs.key);
  writeFileSync(join(dir, 'token'), `${secretToken}\n`);
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Doc {
  clusters?: unknown;
  users?: unknown;
  contexts?: unknown;
  'current-context'?: string;
}

/** kubeconfig builds a two-context file; `cluster`/`user` are merged into the `prod` entries. */
function kubeconfig(parts: { cluster?: Record<string, unknown>; user?: Record<string, unknown>; current?: string | null } = {}): Doc {
  return {
    clusters: [
      { name: 'prod', cluster: { server: 'https://10.0.0.1:6443', 'certificate-authority': 'pki/ca.crt', ...parts.cluster } },
      { name: 'staging', cluster: { server: 'https://staging.example.com:6443/prefix/', 'insecure-skip-tls-verify': true } },
    ],
    users: [
      { name: 'prod-admin', user: { token: secretToken, ...parts.user } },
      { name: 'staging-admin', user: { 'client-certificate-data': b64(certs.cert), 'client-key-data': b64(certs.key) } },
    ],
    contexts: [
      { name: 'prod', context: { cluster: 'prod', user: 'prod-admin', namespace: 'default' } },
      { name: 'staging', context: { cluster: 'staging', user: 'staging-admin' } },
    ],
    ...(parts.current !== null && { 'current-context': parts.current ?? 'prod' }),
  };
}

function write(name: string, doc: Doc | string): string {
  const path = join(dir, name);
  writeFileSync(path, typeof doc === 'string' ? doc : stringify(doc));
  return path;
}

describe('readKubeconfigTarget', () => {
  const accepted: Array<{ name: string; doc: Doc; context?: string; check(t: Awaited<ReturnType<typeof readKubeconfigTarget>>): void }> = [
    {
      name: 'the current context is used when none is given',
      doc: kubeconfig(),
      check(t) {
        assert.equal(t.server.href, 'https://10.0.0.1:6443/');
        assert.deepEqual(t.token, { kind: 'static', token: secretToken, from: `from kubeconfig ${join(dir, 'kc.yaml')}` });
        assert.equal(t.origin, `kubeconfig ${join(dir, 'kc.yaml')}, context "prod"`);
      },
    },
    {
      name: 'a named context wins over current-context, and a path prefix keeps no trailing slash',
      doc: kubeconfig(),
      context: 'staging',
      check(t) {
        assert.equal(t.server.pathname, '/prefix');
        assert.equal(t.insecure, true);
        assert.equal(t.ca, undefined);
        assert.equal(t.clientCert?.data.toString(), certs.cert);
        assert.equal(t.clientKey?.data.toString(), certs.key);
        assert.match(t.clientKey?.from ?? '', /client-key-data/);
      },
    },
    {
      name: 'a relative certificate-authority path is relative to the kubeconfig directory',
      doc: kubeconfig(),
      check(t) {
        assert.equal(t.ca?.data.toString(), certs.caCert);
        assert.equal(t.ca?.from, `file ${join(dir, 'pki', 'ca.crt')}`);
      },
    },
    {
      name: 'certificate-authority-data wins over certificate-authority',
      doc: kubeconfig({ cluster: { 'certificate-authority': 'pki/missing.crt', 'certificate-authority-data': b64(certs.caCert) } }),
      check(t) {
        assert.equal(t.ca?.data.toString(), certs.caCert);
        assert.match(t.ca?.from ?? '', /certificate-authority-data/);
      },
    },
    {
      name: 'client certificate and key files are read relative to the kubeconfig',
      doc: kubeconfig({ user: { token: undefined, 'client-certificate': 'pki/client.crt', 'client-key': 'pki/client.key' } }),
      check(t) {
        assert.equal(t.token, undefined);
        assert.equal(t.clientCert?.from, `file ${join(dir, 'pki', 'client.crt')}`);
        assert.equal(t.clientKey?.data.toString(), certs.key);
      },
    },
    {
      name: 'tokenFile wins over token and is relative to the kubeconfig',
      doc: kubeconfig({ user: { tokenFile: 'token' } }),
      check(t) {
        assert.deepEqual(t.token, { kind: 'file', path: join(dir, 'token') });
      },
    },
    {
      name: 'an exec plugin is read as client-go reads it: a command with a / is relative to the kubeconfig, env and args kept',
      doc: kubeconfig({
        user: {
          token: undefined,
          exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'bin/get-token', args: ['--cluster', 'prod'], env: [{ name: 'AWS_PROFILE', value: 'ops' }], interactiveMode: 'Never', installHint: 'install get-token' },
        },
      }),
      check(t) {
        assert.deepEqual(t.token, {
          kind: 'exec',
          plugin: {
            command: join(dir, 'bin', 'get-token'),
            args: ['--cluster', 'prod'],
            env: { AWS_PROFILE: 'ops' },
            apiVersion: 'client.authentication.k8s.io/v1',
            installHint: 'install get-token',
            from: `kubeconfig ${join(dir, 'kc.yaml')}, context "prod", user "prod-admin"`,
          },
        });
      },
    },
    {
      name: 'a bare exec command is left for PATH; provideClusterInfo hands the plugin the server, the CA as data and the exec extension',
      doc: kubeconfig({
        cluster: { 'tls-server-name': 'api.internal', extensions: [{ name: 'client.authentication.k8s.io/exec', extension: { audience: 'prod' } }] },
        user: { token: undefined, exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: 'gke-gcloud-auth-plugin', provideClusterInfo: true } },
      }),
      check(t) {
        assert.equal(t.token?.kind, 'exec');
        if (t.token?.kind !== 'exec') return;
        assert.equal(t.token.plugin.command, 'gke-gcloud-auth-plugin');
        assert.deepEqual(t.token.plugin.cluster, {
          server: 'https://10.0.0.1:6443',
          'tls-server-name': 'api.internal',
          'certificate-authority-data': b64(certs.caCert),
          config: { audience: 'prod' },
        });
      },
    },
    {
      name: 'tls-server-name is kept for certificate verification',
      doc: kubeconfig({ cluster: { 'tls-server-name': 'kubernetes.default.svc' } }),
      check(t) {
        assert.equal(t.serverName, 'kubernetes.default.svc');
      },
    },
  ];
  for (const row of accepted) {
    it(row.name, async () => {
      const path = write('kc.yaml', row.doc);
      row.check(await readKubeconfigTarget(path, { connection: 'prod', ...(row.context && { context: row.context }) }));
    });
  }

  const refused: Array<{ name: string; doc: Doc | string; context?: string; message: RegExp }> = [
    { name: 'an unknown context is refused, listing the known ones', doc: kubeconfig(), context: 'dev', message: /context "dev" not found \(known contexts: prod, staging\)/ },
    { name: 'a file without current-context needs `context`', doc: kubeconfig({ current: null }), message: /no current-context; set `context` on the connection \(known contexts: prod, staging\)/ },
    { name: 'an exec plugin of the removed v1alpha1 API is refused', doc: kubeconfig({ user: { token: undefined, exec: { command: 'p', apiVersion: 'client.authentication.k8s.io/v1alpha1' } } }), message: /v1alpha1 was removed in Kubernetes 1\.24/ },
    { name: 'an exec plugin without an apiVersion is refused', doc: kubeconfig({ user: { token: undefined, exec: { command: 'p' } } }), message: /exec: apiVersion must be one of client\.authentication\.k8s\.io\/v1, / },
    { name: 'a v1 exec plugin without interactiveMode is refused, as kubectl refuses it', doc: kubeconfig({ user: { token: undefined, exec: { command: 'p', apiVersion: 'client.authentication.k8s.io/v1' } } }), message: /interactiveMode must be set/ },
    { name: 'an exec plugin that needs a terminal is refused', doc: kubeconfig({ user: { token: undefined, exec: { command: 'kubelogin', apiVersion: 'client.authentication.k8s.io/v1', interactiveMode: 'Always' } } }), message: /interactiveMode is Always, but airlock runs the plugin without a terminal/ },
    { name: 'an exec plugin next to a token is refused', doc: kubeconfig({ user: { exec: { command: 'p', apiVersion: 'client.authentication.k8s.io/v1beta1' } } }), message: /both an exec plugin and a token/ },
    { name: 'an exec plugin without a command is refused', doc: kubeconfig({ user: { token: undefined, exec: { apiVersion: 'client.authentication.k8s.io/v1beta1' } } }), message: /exec: command is missing/ },
    { name: 'exec args that are not strings are refused', doc: kubeconfig({ user: { token: undefined, exec: { command: 'p', apiVersion: 'client.authentication.k8s.io/v1beta1', args: [1] } } }), message: /exec: args must be a list of strings/ },
    { name: 'exec env without a value is refused', doc: kubeconfig({ user: { token: undefined, exec: { command: 'p', apiVersion: 'client.authentication.k8s.io/v1beta1', env: [{ name: 'X' }] } } }), message: /exec: env\[0\] must be a map with a name and a string value/ },
    { name: 'an auth-provider is refused, saying what to use instead', doc: kubeconfig({ user: { 'auth-provider': { name: 'oidc' } } }), message: /auth-provider.*exec plugin.*tokenFile/ },
    { name: 'basic authentication is refused', doc: kubeconfig({ user: { token: undefined, username: 'admin', password: 'hunter2' } }), message: /basic authentication.*removed/ },
    { name: 'impersonation in the user is refused', doc: kubeconfig({ user: { as: 'someone' } }), message: /sets as; airlock impersonates each caller itself/ },
    { name: 'a proxy-url is refused', doc: kubeconfig({ cluster: { 'proxy-url': 'http://proxy:3128' } }), message: /proxy-url/ },
    { name: 'a user without a credential is refused', doc: kubeconfig({ user: { token: undefined } }), message: /no credential airlock can use/ },
    { name: 'a certificate without its key is refused', doc: kubeconfig({ user: { 'client-certificate': 'pki/client.crt' } }), message: /without its key/ },
    { name: 'insecure together with a CA is refused', doc: kubeconfig({ cluster: { 'insecure-skip-tls-verify': true } }), message: /insecure-skip-tls-verify together with a certificate authority/ },
    { name: 'a missing CA file is named', doc: kubeconfig({ cluster: { 'certificate-authority': 'pki/nope.crt' } }), message: /certificate-authority file .*pki\/nope\.crt cannot be read \(ENOENT\)/ },
    { name: 'data that is not base64 PEM is refused', doc: kubeconfig({ cluster: { 'certificate-authority-data': 'not base64!' } }), message: /certificate-authority-data is not base64-encoded PEM/ },
    { name: 'a context naming a missing user is refused', doc: { ...kubeconfig(), users: [] }, message: /names user "prod-admin", which is not in the file/ },
    { name: 'a cluster without a server is refused', doc: kubeconfig({ cluster: { server: undefined } }), message: /has no server/ },
    { name: 'basic auth in the server URL is refused', doc: kubeconfig({ cluster: { server: 'https://admin:pw@10.0.0.1' } }), message: /user name or password/ },
    { name: 'invalid YAML is reported by position only, never quoting the line', doc: `users:\n- name: x\n  user: {token: ${secretToken}\n`, message: /not valid YAML \(line \d+, column \d+\)$/ },
    { name: 'a YAML list is not a kubeconfig', doc: '- a\n- b\n', message: /is not a kubeconfig/ },
  ];
  for (const row of refused) {
    it(row.name, async () => {
      const path = write('kc.yaml', row.doc);
      await assert.rejects(readKubeconfigTarget(path, { connection: 'prod', ...(row.context && { context: row.context }) }), (err: unknown) => {
        assert.ok(isAirlockError(err, 'AIRLOCK_UPSTREAM_CONFIG'), String(err));
        assert.match(err.message, /connection "prod": (the )?kubeconfig /);
        assert.match(err.message, row.message);
        assert.ok(!err.message.includes(secretToken), 'no error quotes the token');
        assert.ok(!err.message.includes('hunter2'), 'no error quotes a password');
        return true;
      });
    });
  }

  it('a missing kubeconfig is named with its path', async () => {
    await assert.rejects(readKubeconfigTarget(join(dir, 'absent.yaml'), { connection: 'prod' }), /connection "prod": the kubeconfig .*absent\.yaml cannot be read \(ENOENT\)/);
  });

  it("the fake API server's own kubeconfig reads as a token and inline CA", async () => {
    const path = write('fake.yaml', [
      'apiVersion: v1', 'kind: Config',
      'clusters:', '- cluster:', `    certificate-authority-data: ${b64(certs.caCert)}`, '    server: https://127.0.0.1:1234', '  name: fake',
      'users:', '- name: fake-admin', '  user:', `    token: ${secretToken}`,
      'contexts:', '- context:', '    cluster: fake', '    user: fake-admin', '  name: fake',
      'current-context: fake', '',
    ].join('\n'));
    const t = await readKubeconfigTarget(path, { connection: 'default' });
    assert.equal(t.server.origin, 'https://127.0.0.1:1234');
    assert.equal(t.token?.kind, 'static');
  });
});
