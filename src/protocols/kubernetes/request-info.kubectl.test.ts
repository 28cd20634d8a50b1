/**
 * Real kubectl against a tiny API double on 127.0.0.1:0: every request kubectl sends must pass
 * `checkPath` and resolve to the object the command names, and a `forbidden` Status built from
 * that resolution must reach the user as `Error from server (Forbidden): <message>`.
 * Versions span the protocol bands (≤1.29, 1.30–1.31, ≥1.32 with protobuf Accept).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { checkPath } from './path-safety.js';
import { resolveRequestInfo, type RequestInfo } from './request-info.js';
import { forbidden, tooManyRequests } from './status.js';

function findKubectlDir(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'kubectl');
    if (dir && existsSync(candidate)) return dirname(realpathSync(candidate));
  }
  return undefined;
}

const kubectlDir = findKubectlDir();
const versions = ['1.27', '1.30', '1.33'].filter((v) => kubectlDir && existsSync(join(kubectlDir, `kubectl.${v}`)));
const skip = versions.length === 0 ? 'no versioned kubectl binaries installed' : false;

const resources = (groupVersion: string, list: Array<[string, string, string[]]>) => ({
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion,
  resources: list.map(([name, kind, verbs]) => ({ name, singularName: name.includes('/') ? '' : name.slice(0, -1), namespaced: true, kind, verbs })),
});
const rw = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const discovery: Record<string, unknown> = {
  '/api': { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] },
  '/apis': {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [{ name: 'apps', versions: [{ groupVersion: 'apps/v1', version: 'v1' }], preferredVersion: { groupVersion: 'apps/v1', version: 'v1' } }],
  },
  '/api/v1': resources('v1', [['secrets', 'Secret', rw], ['pods', 'Pod', rw], ['pods/exec', 'PodExecOptions', ['create', 'get']], ['pods/log', 'Pod', ['get']]]),
  '/apis/apps/v1': resources('apps/v1', [['deployments', 'Deployment', rw]]),
};

const describe = (i: Pick<RequestInfo, 'verb' | 'resource' | 'subresource' | 'name' | 'namespace'>): string =>
  `airlock-test: ${i.verb} ${i.resource}/${i.subresource}/${i.name} in ${i.namespace}`;

let server: Server;
let port = 0;
let home = '';
const seen: Array<{ method: string; url: string }> = [];

before(async () => {
  home = mkdtempSync(join(tmpdir(), 'airlock-kubectl-'));
  server = createServer((req, res) => {
    const method = req.method ?? '';
    const url = req.url ?? '';
    const body = discovery[url.split('?')[0] ?? ''];
    if (body !== undefined) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    seen.push({ method, url });
    // The first request for a "held" object is answered as a pending approval would be.
    const held = url.endsWith('/held') && seen.filter((r) => r.url === url).length === 1;
    const refusal = held ? tooManyRequests('airlock-test: waiting for approval', 1) : forbidden(describe(resolveRequestInfo(method, url)));
    res.writeHead(refusal.statusCode, refusal.headers).end(refusal.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  if (home) rmSync(home, { recursive: true, force: true });
});

function kubectl(version: string, args: string[]): Promise<string> {
  const binary = join(kubectlDir ?? '', `kubectl.${version}`);
  const common = ['--server', `http://127.0.0.1:${port}`, '--token', 'test-token', '--cache-dir', join(home, 'cache')];
  return new Promise((resolve) => {
    execFile(binary, [...common, ...args], { env: { HOME: home, PATH: process.env.PATH ?? '' } }, (_err, stdout, stderr) => resolve(`${stdout}${stderr}`));
  });
}

type Expected = Pick<RequestInfo, 'verb' | 'resource' | 'subresource' | 'name' | 'namespace'> & { method: string };
const commands: Array<[string, string[], Expected]> = [
  ['get one secret', ['get', 'secret', 'db', '-n', 'a', '-o', 'json'], { method: 'GET', verb: 'get', resource: 'secrets', subresource: '', name: 'db', namespace: 'a' }],
  ['watch a list filtered by name', ['get', 'secrets', '-n', 'a', '-w', '--field-selector', 'metadata.name=db'], { method: 'GET', verb: 'list', resource: 'secrets', subresource: '', name: 'db', namespace: 'a' }],
  ['delete a secret', ['delete', 'secret', 'db', '-n', 'a'], { method: 'DELETE', verb: 'delete', resource: 'secrets', subresource: '', name: 'db', namespace: 'a' }],
  ['exec (the pod lookup comes first)', ['exec', 'p', '-n', 'a', '--', 'ls'], { method: 'GET', verb: 'get', resource: 'pods', subresource: '', name: 'p', namespace: 'a' }],
  ['auth can-i', ['auth', 'can-i', 'get', 'secrets'], { method: 'POST', verb: 'create', resource: 'selfsubjectaccessreviews', subresource: '', name: '', namespace: '' }],
  ['create a secret', ['create', 'secret', 'generic', 's', '--from-literal=k=v', '-n', 'a'], { method: 'POST', verb: 'create', resource: 'secrets', subresource: '', name: '', namespace: 'a' }],
  ['read logs through --raw', ['get', '--raw', '/api/v1/namespaces/a/pods/p/log?container=app'], { method: 'GET', verb: 'get', resource: 'pods', subresource: 'log', name: 'p', namespace: 'a' }],
];

for (const version of versions.length > 0 ? versions : ['none']) {
  for (const [title, args, expected] of commands) {
    test(`kubectl ${version}: ${title} is resolved as ${expected.verb} ${expected.resource} and refused in kubectl's own words`, { skip }, async () => {
      const before = seen.length;
      const output = await kubectl(version, args);
      const first = seen[before];
      assert.ok(first, `kubectl sent no API request; it printed: ${output}`);
      assert.equal(first.method, expected.method);
      assert.ok(checkPath(first.url).ok, `checkPath refused kubectl's ${first.url}`);
      const info = resolveRequestInfo(first.method, first.url);
      const { method: _method, ...fields } = expected;
      assert.deepEqual({ verb: info.verb, resource: info.resource, subresource: info.subresource, name: info.name, namespace: info.namespace }, fields);
      assert.match(output, new RegExp(describe(fields).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
    });
  }
}

test('kubectl prints a forbidden Status as "Error from server (Forbidden): <message>"', { skip }, async () => {
  const output = await kubectl(versions[versions.length - 1] ?? '', ['get', 'secret', 'db', '-n', 'a']);
  assert.match(output, /Error from server \(Forbidden\): airlock-test: get secrets\/\/db in a/);
});

test('kubectl retries a 429 with Retry-After by itself, so a held request can be answered later', { skip }, async () => {
  const url = '/api/v1/namespaces/a/configmaps/held';
  const output = await kubectl(versions[versions.length - 1] ?? '', ['get', '--raw', url]);
  assert.equal(seen.filter((r) => r.url === url).length, 2);
  assert.match(output, /Error from server \(Forbidden\): airlock-test: get configmaps\/\/held in a/);
});
