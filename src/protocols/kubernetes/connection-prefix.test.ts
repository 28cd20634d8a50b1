import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitConnectionPrefix } from './connection-prefix.js';

const splits: Array<[string, string, string, string]> = [
  ['a resource request', '/k8s/prod/api/v1/pods', 'prod', '/api/v1/pods'],
  ['a query is kept raw', '/k8s/prod/api/v1/pods?watch=1&fieldSelector=metadata.name%3Dx', 'prod', '/api/v1/pods?watch=1&fieldSelector=metadata.name%3Dx'],
  ['the bare connection is the upstream root', '/k8s/prod', 'prod', '/'],
  ['a trailing slash is the upstream root', '/k8s/prod/', 'prod', '/'],
  ['a query on the bare connection', '/k8s/prod?timeout=32s', 'prod', '/?timeout=32s'],
  ['digits and hyphens in the name', '/k8s/eu-west-1/version', 'eu-west-1', '/version'],
  ['escapes after the name are left for checkPath', '/k8s/prod/api/v1/pods/a%2Fb', 'prod', '/api/v1/pods/a%2Fb'],
];
for (const [title, target, connection, upstreamTarget] of splits) {
  test(`splitConnectionPrefix splits ${title} (${target})`, () => {
    assert.deepEqual(splitConnectionPrefix(target), { ok: true, connection, upstreamTarget });
  });
}

const refused: Array<[string, string]> = [
  ['another prefix', '/api/v1/pods'],
  ['the prefix without a name', '/k8s/'],
  ['the prefix without its slash', '/k8s'],
  ['an empty name', '/k8s//api/v1/pods'],
  ['an upper-case name', '/k8s/Prod/api'],
  ['an upper-case prefix', '/K8S/prod/api'],
  ['a percent-encoded name', '/k8s/%70rod/api'],
  ['an encoded slash after the name', '/k8s/prod%2F..%2Fother/api'],
  ['a dot-dot name', '/k8s/../k8s/prod/api'],
  ['a name with a dot', '/k8s/prod.local/api'],
  ['a name with an underscore', '/k8s/prod_1/api'],
  ['a name with ";"', '/k8s/prod;x/api'],
  ['a name with "#"', '/k8s/prod#x/api'],
  ['a 64-character name', `/k8s/${'a'.repeat(64)}/api`],
  ['a double slash before the prefix', '//k8s/prod/api'],
  ['an absolute-form target', 'https://airlock/k8s/prod/api'],
];
for (const [title, target] of refused) {
  test(`splitConnectionPrefix refuses ${title} (${target.length > 60 ? `${target.slice(0, 20)}…` : target})`, () => {
    const result = splitConnectionPrefix(target);
    assert.equal(result.ok, false);
    assert.ok(!result.ok && result.reason.length > 0);
  });
}

test('a target without the prefix is refused with how to write it (kubectl get --raw sends paths from the root), never echoing a query', () => {
  const result = splitConnectionPrefix('/version?token=abc');
  assert.equal(result.ok, false);
  assert.ok(!result.ok);
  assert.equal(result.reason, 'Kubernetes requests go to /k8s/<connection>/…, not "/version"; with kubectl get --raw, write the prefix too: --raw /k8s/<connection>/version');
  const long = splitConnectionPrefix(`/${'x'.repeat(500)}`);
  assert.ok(!long.ok && long.reason.length < 600);
});

test('splitConnectionPrefix accepts a 63-character name', () => {
  const name = 'a'.repeat(63);
  assert.deepEqual(splitConnectionPrefix(`/k8s/${name}/api`), { ok: true, connection: name, upstreamTarget: '/api' });
});
