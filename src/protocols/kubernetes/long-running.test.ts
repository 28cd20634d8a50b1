import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLongRunning } from './long-running.js';
import { resolveRequestInfo } from './request-info.js';

const cases: Array<[string, string, string, boolean]> = [
  ['a watch by query', 'GET', '/api/v1/pods?watch=true', true],
  ['a watch by path', 'GET', '/api/v1/watch/namespaces/a/pods', true],
  ['a proxy by path verb', 'GET', '/api/v1/proxy/namespaces/a/pods/p', true],
  ['exec over WebSocket', 'GET', '/api/v1/namespaces/a/pods/p/exec?command=sh', true],
  ['exec over SPDY', 'POST', '/api/v1/namespaces/a/pods/p/exec?command=sh', true],
  ['attach', 'POST', '/api/v1/namespaces/a/pods/p/attach', true],
  ['port-forward', 'GET', '/api/v1/namespaces/a/pods/p/portforward', true],
  ['logs', 'GET', '/api/v1/namespaces/a/pods/p/log?follow=true', true],
  ['a proxy subresource', 'GET', '/api/v1/nodes/n/proxy/metrics', true],
  ['the profiler', 'GET', '/debug/pprof/profile', true],
  ['a list', 'GET', '/api/v1/pods', false],
  ['a get', 'GET', '/api/v1/namespaces/a/pods/p', false],
  ['a status subresource', 'GET', '/api/v1/namespaces/a/pods/p/status', false],
  ['a create', 'POST', '/api/v1/namespaces/a/pods', false],
  ['discovery', 'GET', '/apis', false],
  ['an object named "log" is not the log subresource', 'GET', '/api/v1/namespaces/a/configmaps/log', false],
  ['a non-resource path ending in exec', 'GET', '/healthz/exec', false],
];

for (const [title, method, url, expected] of cases) {
  test(`isLongRunning: ${title} is ${expected ? '' : 'not '}long-running`, () => {
    assert.equal(isLongRunning(resolveRequestInfo(method, url)), expected);
  });
}
