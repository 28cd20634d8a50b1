import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAirlockError } from '../../errors.js';
import { resolveRequestInfo, type RequestInfo } from './request-info.js';

/**
 * Golden cases. The first group ports `TestGetAPIRequestInfo` from the apiserver's
 * requestinfo_test.go (columns: verb, prefix, group, version, namespace, resource,
 * subresource, name, parts); the apiserver's table does not check the prefix, so `apis` rows
 * here carry the real prefix `apis`.
 */
type Row = [method: string, url: string, verb: string, prefix: string, group: string, version: string, namespace: string, resource: string, subresource: string, name: string, parts: string[]];

const apiserverCases: Array<[string, Row]> = [
  ['list of namespaces', ['GET', '/api/v1/namespaces', 'list', 'api', '', 'v1', '', 'namespaces', '', '', ['namespaces']]],
  ['get of a namespace sets namespace to its name', ['GET', '/api/v1/namespaces/other', 'get', 'api', '', 'v1', 'other', 'namespaces', '', 'other', ['namespaces', 'other']]],
  ['list in a namespace', ['GET', '/api/v1/namespaces/other/pods', 'list', 'api', '', 'v1', 'other', 'pods', '', '', ['pods']]],
  ['get in a namespace', ['GET', '/api/v1/namespaces/other/pods/foo', 'get', 'api', '', 'v1', 'other', 'pods', '', 'foo', ['pods', 'foo']]],
  ['HEAD of an object is get', ['HEAD', '/api/v1/namespaces/other/pods/foo', 'get', 'api', '', 'v1', 'other', 'pods', '', 'foo', ['pods', 'foo']]],
  ['list across namespaces', ['GET', '/api/v1/pods', 'list', 'api', '', 'v1', '', 'pods', '', '', ['pods']]],
  ['HEAD of a collection is list', ['HEAD', '/api/v1/pods', 'list', 'api', '', 'v1', '', 'pods', '', '', ['pods']]],
  ['proxy path verb', ['GET', '/api/v1/proxy/namespaces/other/pods/foo', 'proxy', 'api', '', 'v1', 'other', 'pods', '', 'foo', ['pods', 'foo']]],
  ['proxy path verb keeps the tail in parts, with no subresource', ['GET', '/api/v1/proxy/namespaces/other/pods/foo/subpath/not/a/subresource', 'proxy', 'api', '', 'v1', 'other', 'pods', '', 'foo', ['pods', 'foo', 'subpath', 'not', 'a', 'subresource']]],
  ['watch path verb', ['GET', '/api/v1/watch/pods', 'watch', 'api', '', 'v1', '', 'pods', '', '', ['pods']]],
  ['watch=true', ['GET', '/api/v1/pods?watch=true', 'watch', 'api', '', 'v1', '', 'pods', '', '', ['pods']]],
  ['watch=false', ['GET', '/api/v1/pods?watch=false', 'list', 'api', '', 'v1', '', 'pods', '', '', ['pods']]],
  ['watch path verb in a namespace', ['GET', '/api/v1/watch/namespaces/other/pods', 'watch', 'api', '', 'v1', 'other', 'pods', '', '', ['pods']]],
  ['watch=1', ['GET', '/api/v1/namespaces/other/pods?watch=1', 'watch', 'api', '', 'v1', 'other', 'pods', '', '', ['pods']]],
  ['watch=0', ['GET', '/api/v1/namespaces/other/pods?watch=0', 'list', 'api', '', 'v1', 'other', 'pods', '', '', ['pods']]],
  ['status subresource', ['GET', '/api/v1/namespaces/other/pods/foo/status', 'get', 'api', '', 'v1', 'other', 'pods', 'status', 'foo', ['pods', 'foo', 'status']]],
  ['proxy subresource keeps the method verb', ['GET', '/api/v1/namespaces/other/pods/foo/proxy/subpath', 'get', 'api', '', 'v1', 'other', 'pods', 'proxy', 'foo', ['pods', 'foo', 'proxy', 'subpath']]],
  ['namespace finalize subresource', ['PUT', '/api/v1/namespaces/other/finalize', 'update', 'api', '', 'v1', 'other', 'namespaces', 'finalize', 'other', ['namespaces', 'other', 'finalize']]],
  ['namespace status subresource', ['PUT', '/api/v1/namespaces/other/status', 'update', 'api', '', 'v1', 'other', 'namespaces', 'status', 'other', ['namespaces', 'other', 'status']]],
  ['PATCH is patch', ['PATCH', '/api/v1/namespaces/other/pods/foo', 'patch', 'api', '', 'v1', 'other', 'pods', '', 'foo', ['pods', 'foo']]],
  ['DELETE of an object is delete', ['DELETE', '/api/v1/namespaces/other/pods/foo', 'delete', 'api', '', 'v1', 'other', 'pods', '', 'foo', ['pods', 'foo']]],
  ['POST is create', ['POST', '/api/v1/namespaces/other/pods', 'create', 'api', '', 'v1', 'other', 'pods', '', '', ['pods']]],
  ['DELETE of a cluster collection', ['DELETE', '/api/v1/nodes', 'deletecollection', 'api', '', 'v1', '', 'nodes', '', '', ['nodes']]],
  ['DELETE of the namespaces collection', ['DELETE', '/api/v1/namespaces', 'deletecollection', 'api', '', 'v1', '', 'namespaces', '', '', ['namespaces']]],
  ['DELETE of a namespaced collection', ['DELETE', '/api/v1/namespaces/other/pods', 'deletecollection', 'api', '', 'v1', 'other', 'pods', '', '', ['pods']]],
  ['DELETE of a grouped collection', ['DELETE', '/apis/extensions/v1/namespaces/other/pods', 'deletecollection', 'apis', 'extensions', 'v1', 'other', 'pods', '', '', ['pods']]],
  ['api group', ['POST', '/apis/extensions/v1/namespaces/other/pods', 'create', 'apis', 'extensions', 'v1', 'other', 'pods', '', '', ['pods']]],
  ['api version', ['POST', '/apis/extensions/v1beta3/namespaces/other/pods', 'create', 'apis', 'extensions', 'v1beta3', 'other', 'pods', '', '', ['pods']]],
  // Older apiserver tables listed this row with namespace ""; the algorithm (then and now) sets it.
  ['PATCH of a namespace sets namespace to its name', ['PATCH', '/api/v1/namespaces/new-namespace', 'patch', 'api', '', 'v1', 'new-namespace', 'namespaces', '', 'new-namespace', ['namespaces', 'new-namespace']]],
];

/** Worked examples from reference §1.4 and the traps of §1.3 not covered above. */
const derivedCases: Array<[string, Row]> = [
  ['a grouped create', ['POST', '/apis/apps/v1/namespaces/ns/deployments', 'create', 'apis', 'apps', 'v1', 'ns', 'deployments', '', '', ['deployments']]],
  ['a grouped subresource patch', ['PATCH', '/apis/apps/v1/namespaces/ns/deployments/d/scale', 'patch', 'apis', 'apps', 'v1', 'ns', 'deployments', 'scale', 'd', ['deployments', 'd', 'scale']]],
  ['an empty watch value is true', ['GET', '/api/v1/pods?watch=', 'watch', 'api', '', 'v1', '', 'pods', '', '', ['pods']]],
  ['a bare watch key is true', ['GET', '/api/v1/pods?watch', 'watch', 'api', '', 'v1', '', 'pods', '', '', ['pods']]],
  ['watch=FALSE is false (case-insensitive)', ['GET', '/api/v1/pods?watch=FALSE', 'list', 'api', '', 'v1', '', 'pods', '', '', ['pods']]],
  ['watch=no is true (only 0 and false are false)', ['GET', '/api/v1/pods?watch=no', 'watch', 'api', '', 'v1', '', 'pods', '', '', ['pods']]],
  ['only the first watch value counts', ['GET', '/api/v1/pods?watch=0&watch=1', 'list', 'api', '', 'v1', '', 'pods', '', '', ['pods']]],
  ['a pair with ";" is dropped, as Go drops it', ['GET', '/api/v1/pods?watch=false;x&watch=true', 'watch', 'api', '', 'v1', '', 'pods', '', '', ['pods']]],
  ['a pair with a bad escape is dropped', ['GET', '/api/v1/pods?watch=%zz&watch=0', 'list', 'api', '', 'v1', '', 'pods', '', '', ['pods']]],
  ['"#" is data in a request target, so watch=false# is true', ['GET', '/api/v1/pods?watch=false#', 'watch', 'api', '', 'v1', '', 'pods', '', '', ['pods']]],
  ['the path is decoded before it is split (%2F splits)', ['GET', '/api/v1/namespaces/default/pods/a%2Fb', 'get', 'api', '', 'v1', 'default', 'pods', 'b', 'a', ['pods', 'a', 'b']]],
  ['an empty segment shifts every part (why checkPath refuses //)', ['GET', '/api//v1/pods', 'get', 'api', '', '', '', 'v1', '', 'pods', ['v1', 'pods']]],
  ['a trailing slash is trimmed', ['GET', '/api/v1/namespaces/default/pods/', 'list', 'api', '', 'v1', 'default', 'pods', '', '', ['pods']]],
  ['exec over WebSocket keeps the method verb get', ['GET', '/api/v1/namespaces/ns/pods/p/exec?command=sh', 'get', 'api', '', 'v1', 'ns', 'pods', 'exec', 'p', ['pods', 'p', 'exec']]],
  ['exec over SPDY is create', ['POST', '/api/v1/namespaces/ns/pods/p/exec?command=sh', 'create', 'api', '', 'v1', 'ns', 'pods', 'exec', 'p', ['pods', 'p', 'exec']]],
  ['an unknown method gives verb ""', ['OPTIONS', '/api/v1/namespaces/ns/pods', '', 'api', '', 'v1', 'ns', 'pods', '', '', ['pods']]],
  ['methods are case-sensitive: "get" gives verb ""', ['get', '/api/v1/namespaces/ns/pods/p', '', 'api', '', 'v1', 'ns', 'pods', '', 'p', ['pods', 'p']]],
  ['a namespace named status keeps the namespace subresource reading', ['GET', '/api/v1/namespaces/status/status', 'get', 'api', '', 'v1', 'status', 'namespaces', 'status', 'status', ['namespaces', 'status', 'status']]],
  ['a POST to the proxy path verb is proxy', ['POST', '/api/v1/proxy/nodes/n/metrics', 'proxy', 'api', '', 'v1', '', 'nodes', '', 'n', ['nodes', 'n', 'metrics']]],
  ['a DELETE on the watch path verb is watch, not deletecollection', ['DELETE', '/api/v1/watch/pods', 'watch', 'api', '', 'v1', '', 'pods', '', '', ['pods']]],
  ['a cluster-scoped object', ['GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles/admin', 'get', 'apis', 'rbac.authorization.k8s.io', 'v1', '', 'clusterroles', '', 'admin', ['clusterroles', 'admin']]],
];

function expected([method, url, verb, apiPrefix, apiGroup, apiVersion, namespace, resource, subresource, name, parts]: Row): Partial<RequestInfo> {
  void method;
  void url;
  return { isResourceRequest: true, verb, apiPrefix, apiGroup, apiVersion, namespace, resource, subresource, name, parts };
}

for (const [title, row] of [...apiserverCases, ...derivedCases]) {
  test(`resolveRequestInfo: ${title} (${row[0]} ${row[1]})`, () => {
    const info = resolveRequestInfo(row[0], row[1]);
    const picked = Object.fromEntries(Object.keys(expected(row)).map((k) => [k, info[k as keyof RequestInfo]]));
    assert.deepEqual(picked, expected(row));
  });
}

/** `TestGetNonAPIRequestInfo` plus the error cases of `TestGetAPIRequestInfo`. */
const resourceOrNot: Array<[string, string, boolean]> = [
  ['simple groupless', '/api/version/resource', true],
  ['simple group', '/apis/group/version/resource/name/subresource', true],
  ['more steps', '/api/version/resource/name/subresource', true],
  ['group list', '/apis/batch/v1/job', true],
  ['group get', '/apis/batch/v1/job/foo', true],
  ['group subresource', '/apis/batch/v1/job/foo/scale', true],
  ['bad root', '/not-api/version/resource', false],
  ['group without enough steps', '/apis/extensions/v1beta1', false],
  ['group without enough steps, trailing slash', '/apis/extensions/v1beta1/', false],
  ['not enough steps', '/api/version', false],
  ['one step', '/api', false],
  ['zero step', '/', false],
  ['just apiversion', '/api/version/', false],
  ['just prefix, group, version', '/apis/group/version/', false],
  ['missing api group', '/apis/version/resource', false],
  ['version endpoint', '/version', false],
  ['aggregated discovery', '/apis', false],
  ['openapi v3 document', '/openapi/v3/apis/apps/v1', false],
  ['OIDC discovery', '/.well-known/openid-configuration', false],
];

for (const [title, url, isResource] of resourceOrNot) {
  test(`resolveRequestInfo: ${title} (${url}) is ${isResource ? 'a resource' : 'a non-resource'} request`, () => {
    assert.equal(resolveRequestInfo('GET', url).isResourceRequest, isResource);
  });
}

test('resolveRequestInfo: a non-resource request has the lower-cased method as verb, the decoded path, and (as in Go) the prefix it got as far as', () => {
  const info = resolveRequestInfo('POST', '/apis/apps/v1beta1?x=1');
  assert.deepEqual(info, {
    isResourceRequest: false, path: '/apis/apps/v1beta1', verb: 'post', apiPrefix: 'apis', apiGroup: '', apiVersion: '',
    namespace: '', resource: '', subresource: '', name: '', parts: [], fieldSelector: '', labelSelector: '',
  });
});

/** `TestSelectorParsing` from the apiserver, with the name-from-field-selector traps of §1.3. */
type SelectorRow = [title: string, method: string, url: string, verb: string, name: string, fieldSelector: string, labelSelector: string];
const selectorCases: SelectorRow[] = [
  ['no selector', 'GET', '/apis/group/version/resource', 'list', '', '', ''],
  ['metadata.name selector', 'GET', '/apis/group/version/resource?fieldSelector=metadata.name=name1', 'list', 'name1', 'metadata.name=name1', ''],
  ['metadata.name selector with watch', 'GET', '/apis/group/version/resource?watch=true&fieldSelector=metadata.name=name1', 'watch', 'name1', 'metadata.name=name1', ''],
  ['random selector', 'GET', '/apis/group/version/resource?fieldSelector=foo=bar&labelSelector=baz=qux', 'list', '', 'foo=bar', 'baz=qux'],
  ['invalid selector with metadata.name', 'GET', '/apis/group/version/resource?fieldSelector=metadata.name=name1,foo', 'list', '', 'metadata.name=name1,foo', ''],
  ['invalid selector with metadata.name with watch', 'GET', '/apis/group/version/resource?fieldSelector=metadata.name=name1,foo&watch=true', 'watch', '', 'metadata.name=name1,foo', ''],
  ['invalid selector with metadata.name with watch false', 'GET', '/apis/group/version/resource?fieldSelector=metadata.name=name1,foo&watch=false', 'list', '', 'metadata.name=name1,foo', ''],
  ['selector on deletecollection is honored', 'DELETE', '/apis/group/version/resource?fieldSelector=foo=bar&labelSelector=baz=qux', 'deletecollection', '', 'foo=bar', 'baz=qux'],
  ['selector on repeated param matches parsed param', 'GET', '/apis/group/version/resource?fieldSelector=metadata.name=foo&fieldSelector=metadata.name=bar&labelSelector=foo=bar&labelSelector=foo=baz', 'list', 'foo', 'metadata.name=foo', 'foo=bar'],
  ['selector on other verb is ignored', 'GET', '/apis/group/version/resource/name?fieldSelector=foo=bar&labelSelector=foo=bar', 'get', 'name', '', ''],
  ['selector on deprecated root type watch is not parsed', 'GET', '/apis/group/version/watch/resource?fieldSelector=metadata.name=foo&labelSelector=foo=bar', 'watch', '', '', ''],
  ['selector on deprecated root item watch is not parsed', 'GET', '/apis/group/version/watch/resource/name?fieldSelector=metadata.name=foo&labelSelector=foo=bar', 'watch', 'name', '', ''],
  ['reference §1.4: an encoded "=" in the selector with watch=1', 'GET', '/api/v1/namespaces/ns/secrets?fieldSelector=metadata.name%3Ds&watch=1', 'watch', 's', 'metadata.name=s', ''],
  ['"==" also names the object', 'GET', '/api/v1/secrets?fieldSelector=metadata.name%3D%3Ds', 'list', 's', 'metadata.name==s', ''],
  ['"!=" names nothing', 'GET', '/api/v1/secrets?fieldSelector=metadata.name!%3Ds', 'list', '', 'metadata.name!=s', ''],
  ['terms are sorted, so the smaller name wins', 'GET', '/api/v1/secrets?fieldSelector=metadata.name%3Db,metadata.name%3Da', 'list', 'a', 'metadata.name=b,metadata.name=a', ''],
  ['sorting puts "==x" before "=y"', 'GET', '/api/v1/secrets?fieldSelector=metadata.name%3Dy,metadata.name%3D%3Dx', 'list', 'x', 'metadata.name=y,metadata.name==x', ''],
  ['an escaped comma belongs to the name', 'GET', '/api/v1/secrets?fieldSelector=metadata.name%3Da%5C,b', 'list', 'a,b', 'metadata.name=a\\,b', ''],
  ['an unknown escape fails the selector, so no name', 'GET', '/api/v1/secrets?fieldSelector=metadata.name%3Da%5Cb', 'list', '', 'metadata.name=a\\b', ''],
  ['a name with "%" fails path-segment validation', 'GET', '/api/v1/secrets?fieldSelector=metadata.name%3Da%25b', 'list', '', 'metadata.name=a%b', ''],
  ['a name with "/" fails path-segment validation', 'GET', '/api/v1/secrets?fieldSelector=metadata.name%3Da/b', 'list', '', 'metadata.name=a/b', ''],
  ['a name ".." fails path-segment validation', 'GET', '/api/v1/secrets?fieldSelector=metadata.name%3D..', 'list', '', 'metadata.name=..', ''],
  ['a field selector with a space before "=" is another field', 'GET', '/api/v1/secrets?fieldSelector=metadata.name+%3Ds', 'list', '', 'metadata.name =s', ''],
  ['an invalid label selector fails the decode, so no name', 'GET', '/api/v1/secrets?fieldSelector=metadata.name%3Ds&labelSelector=a%3D%3D%3Db', 'list', '', 'metadata.name=s', 'a===b'],
  ['an invalid label selector keeps watch', 'GET', '/api/v1/secrets?fieldSelector=metadata.name%3Ds&labelSelector=(&watch=true', 'watch', '', 'metadata.name=s', '('],
  ['a valid set-based label selector keeps the name', 'GET', '/api/v1/secrets?fieldSelector=metadata.name%3Ds&labelSelector=app+in+(a,b),!legacy', 'list', 's', 'metadata.name=s', 'app in (a,b),!legacy'],
  ['limit that is not an integer fails the decode', 'GET', '/api/v1/secrets?fieldSelector=metadata.name%3Ds&limit=ten', 'list', '', 'metadata.name=s', ''],
  ['an empty limit fails the decode', 'GET', '/api/v1/secrets?fieldSelector=metadata.name%3Ds&limit=', 'list', '', 'metadata.name=s', ''],
  ['a limit beyond int64 fails the decode', 'GET', '/api/v1/secrets?fieldSelector=metadata.name%3Ds&limit=9223372036854775808', 'list', '', 'metadata.name=s', ''],
  ['an integer limit keeps the name', 'GET', '/api/v1/secrets?fieldSelector=metadata.name%3Ds&limit=500', 'list', 's', 'metadata.name=s', ''],
  ['a bad timeoutSeconds fails the decode', 'GET', '/api/v1/secrets?fieldSelector=metadata.name%3Ds&timeoutSeconds=1.5', 'list', '', 'metadata.name=s', ''],
  ['an empty selector value is no selector', 'GET', '/api/v1/secrets?fieldSelector=&labelSelector=', 'list', '', '', ''],
  ['create ignores selectors', 'POST', '/api/v1/namespaces/a/secrets?fieldSelector=metadata.name%3Ds', 'create', '', '', ''],
];

for (const [title, method, url, verb, name, fieldSelector, labelSelector] of selectorCases) {
  test(`resolveRequestInfo selectors: ${title}`, () => {
    const info = resolveRequestInfo(method, url);
    assert.deepEqual(
      { verb: info.verb, name: info.name, fieldSelector: info.fieldSelector, labelSelector: info.labelSelector },
      { verb, name, fieldSelector, labelSelector },
    );
  });
}

const refusals: Array<[string, string]> = [
  ['a watch path verb with nothing after it (the apiserver answers 500)', '/api/v1/watch'],
  ['a proxy path verb with nothing after it', '/apis/apps/v1/proxy'],
  ['an invalid percent-encoding (Go answers 400)', '/api/v1/pods/%zz'],
  ['a truncated percent-encoding', '/api/v1/pods/a%2'],
  ['a raw control character', '/api/v1/pods/a\tb'],
  ['a control character in the query', '/api/v1/pods?watch=\n'],
  ['a path that does not start with "/"', 'api/v1/pods'],
  ['an absolute-form target', 'http://example.com/api/v1/pods'],
  ['a decoded path that is not UTF-8', '/api/v1/pods/%FF'],
  ['a raw non-ASCII character', '/api/v1/pods/é'],
];

for (const [title, url] of refusals) {
  test(`resolveRequestInfo refuses ${title} with AIRLOCK_K8S_PATH_REFUSED`, () => {
    assert.throws(() => resolveRequestInfo('GET', url), (err: unknown) => isAirlockError(err, 'AIRLOCK_K8S_PATH_REFUSED'));
  });
}
