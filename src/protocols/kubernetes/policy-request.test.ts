import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toPolicyRequest } from './policy-request.js';
import { resolveRequestInfo } from './request-info.js';
import { parseGoQuery, splitTarget } from './go-url.js';
import type { PolicyRequest } from '../../policy/request.js';

function build(method: string, target: string, hasBody?: boolean): PolicyRequest {
  const info = resolveRequestInfo(method, target);
  const { rawQuery } = splitTarget(target);
  return toPolicyRequest(info, hasBody === undefined ? { connection: 'prod', method, query: rawQuery } : { connection: 'prod', method, query: rawQuery, hasBody });
}

const base = { protocol: 'kubernetes', connection: 'prod' };

const cases: Array<[string, string, string, Record<string, unknown>, boolean?]> = [
  ['a core get carries apiGroup "" and dryRun false', 'GET', '/api/v1/namespaces/a/secrets/db', {
    ...base, verb: 'get', path: '/api/v1/namespaces/a/secrets/db', method: 'GET', resource: 'secrets', apiGroup: '', apiVersion: 'v1',
    namespace: 'a', name: 'db', dryRun: false,
  }],
  ['a watch by field selector carries the name and the selector', 'GET', '/api/v1/namespaces/a/secrets?fieldSelector=metadata.name%3Ddb&watch=1&labelSelector=app%3Dx', {
    ...base, verb: 'watch', path: '/api/v1/namespaces/a/secrets', method: 'GET', resource: 'secrets', apiGroup: '', apiVersion: 'v1',
    namespace: 'a', name: 'db', fieldSelector: 'metadata.name=db', labelSelector: 'app=x', dryRun: false,
  }],
  ['a cluster-wide grouped list has no namespace', 'GET', '/apis/apps/v1/deployments', {
    ...base, verb: 'list', path: '/apis/apps/v1/deployments', method: 'GET', resource: 'deployments', apiGroup: 'apps', apiVersion: 'v1', dryRun: false,
  }],
  ['a dry-run create', 'POST', '/apis/apps/v1/namespaces/a/deployments?dryRun=All&fieldManager=kubectl', {
    ...base, verb: 'create', path: '/apis/apps/v1/namespaces/a/deployments', method: 'POST', resource: 'deployments', apiGroup: 'apps', apiVersion: 'v1',
    namespace: 'a', dryRun: true,
  }],
  ['exec with argv in order, tty and stdin', 'POST', '/api/v1/namespaces/a/pods/p/exec?command=sh&command=-c&command=echo+hi%0Aid&container=app&stdin=true&stdout=true&tty=', {
    ...base, verb: 'create', path: '/api/v1/namespaces/a/pods/p/exec', method: 'POST', resource: 'pods', apiGroup: '', apiVersion: 'v1',
    namespace: 'a', name: 'p', subresource: 'exec', dryRun: false, command: ['sh', '-c', 'echo hi\nid'], container: 'app', tty: true, stdin: true,
  }],
  ['attach has no command', 'GET', '/api/v1/namespaces/a/pods/p/attach?stdin=false&tty=0', {
    ...base, verb: 'get', path: '/api/v1/namespaces/a/pods/p/attach', method: 'GET', resource: 'pods', apiGroup: '', apiVersion: 'v1',
    namespace: 'a', name: 'p', subresource: 'attach', dryRun: false, tty: false, stdin: false,
  }],
  ['port-forward ports, repeated and comma-separated', 'GET', '/api/v1/namespaces/a/pods/p/portforward?ports=80&ports=443,8080', {
    ...base, verb: 'get', path: '/api/v1/namespaces/a/pods/p/portforward', method: 'GET', resource: 'pods', apiGroup: '', apiVersion: 'v1',
    namespace: 'a', name: 'p', subresource: 'portforward', dryRun: false, ports: [80, 443, 8080],
  }],
  ['logs with container and follow', 'GET', '/api/v1/namespaces/a/pods/p/log?container=app&follow=true', {
    ...base, verb: 'get', path: '/api/v1/namespaces/a/pods/p/log', method: 'GET', resource: 'pods', apiGroup: '', apiVersion: 'v1',
    namespace: 'a', name: 'p', subresource: 'log', dryRun: false, container: 'app', follow: true,
  }],
  ['a non-resource request has only path, method and the lower-cased verb', 'GET', '/version?timeout=32s', {
    ...base, verb: 'get', path: '/version', method: 'GET',
  }],
  ['discovery is non-resource', 'GET', '/apis', { ...base, verb: 'get', path: '/apis', method: 'GET' }],
];
for (const [title, method, target, expected, hasBody] of cases) {
  test(`toPolicyRequest: ${title}`, () => {
    assert.deepEqual(build(method, target, hasBody), expected);
  });
}

/** dryRun must be true only when the apiserver certainly persists nothing. */
const dryRuns: Array<[string, string, string, boolean | undefined, boolean]> = [
  ['create with dryRun=All', 'POST', '/api/v1/namespaces/a/configmaps?dryRun=All', undefined, true],
  ['update with dryRun=All', 'PUT', '/api/v1/namespaces/a/configmaps/c?dryRun=All', undefined, true],
  ['patch of a scale subresource', 'PATCH', '/apis/apps/v1/namespaces/a/deployments/d/scale?dryRun=All', undefined, true],
  ['status update', 'PUT', '/api/v1/namespaces/a/pods/p/status?dryRun=All', undefined, true],
  ['repeated All values', 'POST', '/api/v1/namespaces/a/configmaps?dryRun=All&dryRun=All', undefined, true],
  ['a delete known to have no body', 'DELETE', '/api/v1/namespaces/a/secrets/s?dryRun=All', false, true],
  ['a delete whose body may overwrite dryRun', 'DELETE', '/api/v1/namespaces/a/secrets/s?dryRun=All', true, false],
  ['a delete with an unknown body', 'DELETE', '/api/v1/namespaces/a/secrets/s?dryRun=All', undefined, false],
  ['a deletecollection known to have no body', 'DELETE', '/api/v1/namespaces/a/secrets?dryRun=All', false, true],
  ['a read ignores dryRun, so a dry-run get is a real read', 'GET', '/api/v1/namespaces/a/secrets/s?dryRun=All', undefined, false],
  ['a dry-run list is a real list', 'GET', '/api/v1/namespaces/a/secrets?dryRun=All', undefined, false],
  ['exec ignores dryRun', 'POST', '/api/v1/namespaces/a/pods/p/exec?command=rm&dryRun=All', undefined, false],
  ['port-forward ignores dryRun', 'POST', '/api/v1/namespaces/a/pods/p/portforward?dryRun=All', undefined, false],
  ['a proxy ignores dryRun', 'POST', '/api/v1/namespaces/a/services/s/proxy/x?dryRun=All', undefined, false],
  ['a token request is not trusted as dry-run', 'POST', '/api/v1/namespaces/a/serviceaccounts/sa/token?dryRun=All', undefined, false],
  ['lower-case "all" is not All', 'POST', '/api/v1/namespaces/a/configmaps?dryRun=all', undefined, false],
  ['an empty dryRun', 'POST', '/api/v1/namespaces/a/configmaps?dryRun=', undefined, false],
  ['All mixed with another value (the apiserver refuses it)', 'POST', '/api/v1/namespaces/a/configmaps?dryRun=All&dryRun=x', undefined, false],
  ['a dryRun pair hidden behind ";" (Go drops it)', 'POST', '/api/v1/namespaces/a/configmaps?x=1;dryRun=All', undefined, false],
  ['no dryRun', 'POST', '/api/v1/namespaces/a/configmaps', undefined, false],
];
for (const [title, method, target, hasBody, expected] of dryRuns) {
  test(`toPolicyRequest dryRun is ${expected} for ${title}`, () => {
    assert.equal(build(method, target, hasBody).dryRun, expected);
  });
}

test('toPolicyRequest reports no ports when one is not a uint16, as the apiserver refuses the request', () => {
  assert.deepEqual(build('GET', '/api/v1/namespaces/a/pods/p/portforward?ports=80&ports=70000').ports, []);
  assert.deepEqual(build('GET', '/api/v1/namespaces/a/pods/p/portforward?ports=http').ports, []);
});

test('toPolicyRequest accepts an already parsed Go query and a leading "?"', () => {
  const info = resolveRequestInfo('POST', '/api/v1/namespaces/a/pods/p/exec?command=ls');
  const parsed = toPolicyRequest(info, { connection: 'c', method: 'POST', query: parseGoQuery('command=ls') });
  const raw = toPolicyRequest(info, { connection: 'c', method: 'POST', query: '?command=ls' });
  assert.deepEqual(parsed, raw);
  assert.deepEqual(raw.command, ['ls']);
});
