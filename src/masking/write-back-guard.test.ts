/**
 * The permanent bypass suite of the write-back guard: one row per way a masked placeholder
 * could be written back to the cluster. Rows are never removed; a new way found is a new row.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { isAirlockError } from '../errors.js';
import { createPlaceholder, LAST_APPLIED_ANNOTATION, MASKED_ANNOTATION } from './placeholder.js';
import { maskResponseValue } from './response-value.js';
import { bytesCarryPlaceholder, findMaskedPlaceholders, placeholderWriteError } from './write-back-guard.js';

const placeholder = createPlaceholder(Buffer.alloc(32, 5));
const marker = placeholder.marker('password', 'cmVhbA==');
const b64 = placeholder.base64('password', 'cmVhbA==');
const real = Buffer.from('a-real-value').toString('base64');

/** A Secret as `kubectl get secret db -o json` shows it through airlock. */
function maskedRead(): Record<string, unknown> {
  const obj = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: 'db',
      annotations: { [LAST_APPLIED_ANNOTATION]: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, data: { password: 'cmVhbA==' } }) + '\n' },
    },
    data: { password: 'cmVhbA==', user: 'YWRtaW4=' },
  };
  maskResponseValue(obj, { placeholder, assumeSecret: true });
  return obj;
}

interface Row {
  name: string;
  body: unknown;
  /** paths that must be reported; [] means the write is clean. */
  paths: string[];
}

const bypass: Row[] = [
  { name: 'kubectl replace -f of a masked read (placeholders, marker, last-applied)', body: maskedRead(), paths: ['$.metadata.annotations["airlock.dev/masked"]', '$.data.password', '$.data.user', `$.metadata.annotations["${LAST_APPLIED_ANNOTATION}"].data.password`] },
  { name: 'base64 placeholder in data', body: { data: { password: b64 } }, paths: ['$.data.password'] },
  { name: 'base64 placeholder without padding, URL-safe', body: { data: { password: Buffer.from('>>' + marker).toString('base64url') } }, paths: ['$.data.password'] },
  { name: 'base64 placeholder wrapped over lines', body: { data: { password: b64.slice(0, 12) + '\n' + b64.slice(12) } }, paths: ['$.data.password'] },
  { name: 'clear placeholder in stringData', body: { stringData: { password: marker } }, paths: ['$.stringData.password'] },
  { name: 'base64 placeholder pasted into stringData', body: { stringData: { password: b64 } }, paths: ['$.stringData.password'] },
  { name: 'base64 of the base64 placeholder (kubectl create secret --from-literal=<shown value>)', body: { data: { password: Buffer.from(b64).toString('base64') } }, paths: ['$.data.password'] },
  { name: 'decoded placeholder in data (--from-literal=$(… | base64 -d))', body: { data: { password: Buffer.from(marker).toString('base64') } }, paths: ['$.data.password'] },
  { name: 'JSON Patch replace of one key', body: [{ op: 'replace', path: '/data/password', value: b64 }], paths: ['$[0].value'] },
  { name: 'JSON Patch add of the whole data map', body: [{ op: 'add', path: '/data', value: { password: b64 } }], paths: ['$[0].value.password'] },
  { name: 'JSON Patch test op carrying a placeholder', body: [{ op: 'test', path: '/data/password', value: b64 }], paths: ['$[0].value'] },
  { name: 'JSON Patch adding the marker annotation by path', body: [{ op: 'add', path: '/metadata/annotations/airlock.dev~1masked', value: 'data' }], paths: ['$[0].path'] },
  { name: 'JSON Patch replacing the whole document', body: [{ op: 'replace', path: '', value: maskedRead() }], paths: ['$[0].value.data.password'] },
  { name: 'merge patch with a placeholder', body: { data: { password: b64 } }, paths: ['$.data.password'] },
  { name: 'strategic merge patch with $patch: replace', body: { data: { $patch: 'replace', password: b64 } }, paths: ['$.data.password'] },
  { name: 'kubectl edit of a masked value (strategic merge patch with a new last-applied)', body: { metadata: { annotations: { [LAST_APPLIED_ANNOTATION]: JSON.stringify({ data: { password: b64, other: real } }) } }, data: { other: real } }, paths: [`$.metadata.annotations["${LAST_APPLIED_ANNOTATION}"].data.password`] },
  { name: 'a last-applied annotation that was replaced whole', body: { metadata: { annotations: { [LAST_APPLIED_ANNOTATION]: placeholder.marker(LAST_APPLIED_ANNOTATION, '{}') } } }, paths: [`$.metadata.annotations["${LAST_APPLIED_ANNOTATION}"]`] },
  { name: 'the marker annotation alone, with real values (kubectl apply of an edited masked file)', body: { metadata: { annotations: { [MASKED_ANNOTATION]: 'data' } }, data: { password: real } }, paths: ['$.metadata.annotations["airlock.dev/masked"]'] },
  { name: 'server-side apply as YAML', body: parseYaml(`apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: ${b64}\n`), paths: ['$.data.password'] },
  { name: 'server-side apply as JSON', body: JSON.parse(JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, stringData: { password: marker } })), paths: ['$.stringData.password'] },
  { name: 'a List of Secrets (kubectl apply -f of a saved list)', body: { kind: 'List', items: [maskedRead()] }, paths: ['$.items[0].data.password'] },
  { name: 'a placeholder in an unexpected field', body: { metadata: { labels: { copy: marker } } }, paths: ['$.metadata.labels.copy'] },
];

const clean: Row[] = [
  { name: 'a Secret with real values', body: { kind: 'Secret', metadata: { name: 'db' }, data: { password: real }, stringData: { token: 'real-token' } }, paths: [] },
  { name: 'kubectl edit that only changed a label', body: { metadata: { labels: { team: 'a' } } }, paths: [] },
  { name: 'removing the marker while writing real values (strategic merge patch null)', body: { metadata: { annotations: { [MASKED_ANNOTATION]: null } }, data: { password: real } }, paths: [] },
  { name: 'removing the marker with a JSON Patch', body: [{ op: 'remove', path: '/metadata/annotations/airlock.dev~1masked' }, { op: 'replace', path: '/data/password', value: real }], paths: [] },
  { name: 'a last-applied annotation with real values', body: { metadata: { annotations: { [LAST_APPLIED_ANNOTATION]: JSON.stringify({ data: { password: real } }) } } }, paths: [] },
];

describe('findMaskedPlaceholders: every way to write a placeholder back is caught', () => {
  for (const r of bypass) {
    it(r.name, () => {
      const found = findMaskedPlaceholders(r.body);
      for (const path of r.paths) assert.ok(found.includes(path), `expected ${path} in ${JSON.stringify(found)}`);
      assert.ok(found.length > 0);
    });
  }
});

describe('findMaskedPlaceholders: real writes pass', () => {
  for (const r of clean) {
    it(r.name, () => assert.deepEqual(findMaskedPlaceholders(r.body), []));
  }
});

describe('bytesCarryPlaceholder: bodies that cannot be parsed', () => {
  it('a protobuf Secret body (data is raw bytes) carrying a placeholder is caught', () => {
    const proto = Buffer.concat([Buffer.from('k8s\0'), Buffer.from([0x0a, 0x0c]), Buffer.from('\x12\x08password\x12'), Buffer.from([marker.length]), Buffer.from(marker)]);
    assert.ok(bytesCarryPlaceholder(proto));
  });
  it('a YAML document that does not parse but carries a placeholder is caught', () => {
    assert.ok(bytesCarryPlaceholder(Buffer.from(`data:\n  password: ${b64}\n  : : broken`)));
  });
  it('a body with real values passes', () => {
    assert.ok(!bytesCarryPlaceholder(Buffer.from(JSON.stringify({ data: { password: real } }))));
  });
});

describe('placeholderWriteError', () => {
  it('is a 400 that names the paths, says what to do, and shows no value', () => {
    const err = placeholderWriteError(findMaskedPlaceholders(maskedRead()));
    assert.ok(isAirlockError(err, 'AIRLOCK_MASK_PLACEHOLDER_WRITE'));
    assert.equal(err.status, 400);
    assert.match(err.message, /read through airlock with masked values; write the real values explicitly/);
    assert.match(err.message, /\$\.data\.password/);
    assert.match(err.message, /remove the airlock\.dev\/masked annotation/);
    assert.ok(!err.message.includes(b64) && !err.message.includes('cmVhbA=='));
  });
});
