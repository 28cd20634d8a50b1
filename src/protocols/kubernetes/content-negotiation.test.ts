import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyResponseContentType, isNegotiationExempt, rewriteAccept } from './content-negotiation.js';
import { resolveRequestInfo } from './request-info.js';

const accepts: Array<[string, string | undefined, string]> = [
  ['no Accept header', undefined, 'application/json'],
  ['an empty Accept header', '', 'application/json'],
  ['client-go typed clients (1.32+): protobuf first', 'application/vnd.kubernetes.protobuf,application/json', 'application/json'],
  ['protobuf only', 'application/vnd.kubernetes.protobuf', 'application/json'],
  [
    'the metadata client: PartialObjectMetadataList parameters survive',
    'application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json',
    'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json',
  ],
  [
    'kubectl get: Table clauses survive in order',
    'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json',
    'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json',
  ],
  ['client-go REST default keeps the wildcard', 'application/json, */*', 'application/json,*/*'],
  ['application/* negotiates JSON', 'application/*', 'application/*'],
  ['q-values are kept', 'application/yaml;q=1, application/json;q=0.5', 'application/json;q=0.5'],
  ['YAML only', 'application/yaml', 'application/json'],
  ['CBOR and CBOR sequences', 'application/cbor, application/cbor-seq', 'application/json'],
  ['case-insensitive media types, verbatim clauses', 'Application/JSON;as=Table;g=meta.k8s.io;v=v1', 'Application/JSON;as=Table;g=meta.k8s.io;v=v1'],
  ['text types are dropped', 'text/plain, text/html', 'application/json'],
  ['empty clauses are dropped', ',, application/json ,', 'application/json'],
  ['a JSON-suffixed type is not JSON to the apiserver', 'application/merge-patch+json', 'application/json'],
];
for (const [title, accept, expected] of accepts) {
  test(`rewriteAccept: ${title}`, () => {
    assert.equal(rewriteAccept(accept), expected);
  });
}

const exempt: Array<[string, string, string, boolean]> = [
  ['legacy discovery', 'GET', '/api', true],
  ['aggregated discovery', 'GET', '/apis', true],
  ['group discovery', 'GET', '/apis/apps/v1', true],
  ['openapi v2', 'GET', '/openapi/v2', true],
  ['openapi v3', 'GET', '/openapi/v3/apis/apps/v1', true],
  ['version', 'GET', '/version', true],
  ['exec', 'GET', '/api/v1/namespaces/a/pods/p/exec', true],
  ['attach', 'POST', '/api/v1/namespaces/a/pods/p/attach', true],
  ['port-forward', 'GET', '/api/v1/namespaces/a/pods/p/portforward', true],
  ['proxy subresource', 'GET', '/api/v1/namespaces/a/services/s/proxy/x', true],
  ['proxy path verb', 'GET', '/api/v1/proxy/namespaces/a/pods/p', true],
  ['logs', 'GET', '/api/v1/namespaces/a/pods/p/log', true],
  ['a secret get', 'GET', '/api/v1/namespaces/a/secrets/s', false],
  ['a secret watch', 'GET', '/api/v1/namespaces/a/secrets?watch=1', false],
  ['a status subresource', 'GET', '/api/v1/namespaces/a/pods/p/status', false],
  ['a grouped list', 'GET', '/apis/apps/v1/deployments', false],
];
for (const [title, method, url, expected] of exempt) {
  test(`isNegotiationExempt(${title}) is ${expected}`, () => {
    assert.equal(isNegotiationExempt(resolveRequestInfo(method, url)), expected);
  });
}

const contentTypes: Array<[string | undefined, string]> = [
  ['application/json', 'json'],
  ['application/json; charset=utf-8', 'json'],
  ['APPLICATION/JSON', 'json'],
  ['application/json;stream=watch', 'json-watch'],
  ['application/json; stream = watch', 'json-watch'],
  ['application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList', 'json'],
  ['application/jwk-set+json', 'json'],
  ['application/vnd.kubernetes.protobuf', 'protobuf'],
  ['application/vnd.kubernetes.protobuf;stream=watch', 'protobuf'],
  ['application/com.github.proto-openapi.spec.v3@v1.0+protobuf', 'protobuf'],
  ['application/yaml', 'yaml'],
  ['application/apply-patch+yaml', 'yaml'],
  ['text/plain', 'text'],
  ['text/plain; charset=utf-8', 'text'],
  ['application/cbor', 'other'],
  ['application/cbor-seq', 'other'],
  ['application/octet-stream', 'other'],
  ['', 'other'],
  [undefined, 'other'],
];
for (const [contentType, expected] of contentTypes) {
  test(`classifyResponseContentType(${JSON.stringify(contentType)}) is ${expected}`, () => {
    assert.equal(classifyResponseContentType(contentType), expected);
  });
}
