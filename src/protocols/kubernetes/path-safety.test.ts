import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkPath } from './path-safety.js';
import { parseGoQuery, splitTarget } from './go-url.js';

/** Targets real clients send (kubectl, client-go, client-node); all must pass, decoded as Go does. */
const accepted: Array<[string, string, string]> = [
  ['the root', '/', '/'],
  ['version', '/version?timeout=32s', '/version'],
  ['legacy discovery', '/api', '/api'],
  ['aggregated discovery', '/apis', '/apis'],
  ['openapi v3 with a hash query', '/openapi/v3/apis/apps/v1?hash=ABC123', '/openapi/v3/apis/apps/v1'],
  ['a Table list', '/api/v1/namespaces/default/pods?limit=500', '/api/v1/namespaces/default/pods'],
  ['a watch by name', '/api/v1/namespaces/default/secrets?fieldSelector=metadata.name%3Ddb&watch=true', '/api/v1/namespaces/default/secrets'],
  ['a label selector with a set', '/api/v1/pods?labelSelector=app+in+%28a%2Cb%29', '/api/v1/pods'],
  ['exec with arguments', '/api/v1/namespaces/a/pods/p/exec?command=sh&command=-c&command=echo%20h%C3%A9llo%0Aexit&stdin=true&tty=true', '/api/v1/namespaces/a/pods/p/exec'],
  ['logs with follow', '/api/v1/namespaces/a/pods/p/log?container=app&follow=true', '/api/v1/namespaces/a/pods/p/log'],
  ['a CRD group with dots', '/apis/cert-manager.io/v1/namespaces/a/certificates/c', '/apis/cert-manager.io/v1/namespaces/a/certificates/c'],
  ['one trailing slash', '/api/v1/namespaces/a/pods/', '/api/v1/namespaces/a/pods/'],
  ['a service proxy with a port name', '/api/v1/namespaces/a/services/https:web:443/proxy/healthz', '/api/v1/namespaces/a/services/https:web:443/proxy/healthz'],
  ['an encoded space in a proxy path', '/api/v1/namespaces/a/services/web/proxy/a%20b', '/api/v1/namespaces/a/services/web/proxy/a b'],
  ['an encoded plus', '/api/v1/namespaces/a/services/web/proxy/a%2Bb', '/api/v1/namespaces/a/services/web/proxy/a+b'],
  ['a dry-run apply', '/apis/apps/v1/namespaces/a/deployments/d?fieldManager=kubectl&dryRun=All&force=true', '/apis/apps/v1/namespaces/a/deployments/d'],
  ['three dots are a name, not a dot segment', '/api/v1/namespaces/a/configmaps/...', '/api/v1/namespaces/a/configmaps/...'],
  ['an empty query', '/api/v1/pods?', '/api/v1/pods'],
  ['a raw backslash in the query (a field selector escape)', '/api/v1/pods?fieldSelector=metadata.name%3Da\\,b', '/api/v1/pods'],
];

for (const [title, target, decoded] of accepted) {
  test(`checkPath accepts ${title} (${target})`, () => {
    assert.deepEqual(checkPath(target), { ok: true, decodedPath: decoded });
  });
}

/** Characters that make parsers disagree, mixed with ordinary ones. */
const piece = fc.constantFrom(
  'a', 'b', 'pods', 'api', 'v1', '/', '//', '.', '..', '%2F', '%2f', '%5C', '%2E', '%25', '%3F', '%23', '%20',
  '%41', '%C3%A9', '%FF', '%', '%z', ';', '#', '?', '&', '=', '+', '\\', ' ', ':', '@', '~', '-', '\u0000', '\u00e9',
  '"', "'", '<', '>', '`', '{', '}', '|', '^', '[', ']', '!', '$', '(', ')', '*', ',', '%2B', '%3D', '%26', '\t',
);
const target = fc.array(piece, { maxLength: 12 }).map((parts) => `/${parts.join('')}`);

/** Splits a raw path first and decodes each segment after: how a naive router reads it. */
function splitThenDecode(rawPath: string): string[] {
  return rawPath.split('/').map((s) => decodeURIComponent(s));
}

test('for every accepted target, splitting before or after decoding gives the same segments', () => {
  fc.assert(
    fc.property(target, (t) => {
      const result = checkPath(t);
      if (!result.ok) return;
      assert.deepEqual(result.decodedPath.split('/'), splitThenDecode(splitTarget(t).rawPath));
    }),
    { numRuns: 20_000 },
  );
});

test('for every accepted target, WHATWG URL and Go read the same path and the same query', () => {
  fc.assert(
    fc.property(target, (t) => {
      const result = checkPath(t);
      if (!result.ok) return;
      const url = new URL(t, 'http://airlock.invalid');
      assert.equal(decodeURIComponent(url.pathname), result.decodedPath);
      const whatwg = new Map<string, string[]>();
      for (const [k, v] of url.searchParams) whatwg.set(k, [...(whatwg.get(k) ?? []), v]);
      assert.deepEqual(whatwg, new Map(parseGoQuery(splitTarget(t).rawQuery)));
    }),
    { numRuns: 20_000 },
  );
});

test('no accepted target has a dot or empty inner segment once decoded', () => {
  fc.assert(
    fc.property(target, (t) => {
      const result = checkPath(t);
      if (!result.ok) return;
      const segments = result.decodedPath.slice(1).split('/');
      segments.slice(0, -1).forEach((s) => assert.notEqual(s, ''));
      segments.forEach((s) => assert.ok(s !== '.' && s !== '..'));
    }),
    { numRuns: 20_000 },
  );
});

test('every accepted target resolves without error, to the same decoded path', async () => {
  const { resolveRequestInfo } = await import('./request-info.js');
  fc.assert(
    fc.property(target, (t) => {
      const result = checkPath(t);
      if (!result.ok) return;
      const info = resolveRequestInfo('GET', t);
      assert.equal(info.path, result.decodedPath);
    }),
    { numRuns: 20_000 },
  );
});
