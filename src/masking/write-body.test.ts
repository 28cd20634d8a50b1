import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { createPlaceholder, LAST_APPLIED_ANNOTATION, MASKED_ANNOTATION, PLACEHOLDER_PREFIX } from './placeholder.js';
import { Planted } from './test-fixtures.js';
import { findMaskedPlaceholders } from './write-back-guard.js';
import { maskSecretWriteBody } from './write-body.js';

const placeholder = createPlaceholder(Buffer.alloc(32, 9));
type Json = Record<string, unknown>;
const b64 = (s: string): string => Buffer.from(s).toString('base64');

interface Row {
  name: string;
  body: (p: Planted) => unknown;
  check?: (masked: unknown) => void;
}

const rows: Row[] = [
  {
    name: 'a created Secret: data, stringData and the last-applied manifest are masked, keys kept, no marker added',
    body: (p) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db', annotations: { [LAST_APPLIED_ANNOTATION]: JSON.stringify({ data: { a: b64(p.next('la')) }, stringData: { s: p.next('la-s') } }) } },
      data: { a: b64(p.next('a')) },
      stringData: { s: p.next('s') },
    }),
    check: (m) => {
      const obj = m as Json;
      assert.deepEqual(Object.keys(obj.data as Json), ['a']);
      assert.deepEqual(Object.keys(obj.stringData as Json), ['s']);
      assert.equal(((obj.metadata as Json).annotations as Json)[MASKED_ANNOTATION], undefined);
    },
  },
  {
    name: 'a strategic merge patch from kubectl edit',
    body: (p) => ({ data: { $patch: 'replace', a: b64(p.next('smp')) }, metadata: { labels: { x: 'y' } } }),
    check: (m) => assert.equal(((m as Json).data as Json).$patch, 'replace', 'strategic-merge directives are kept'),
  },
  { name: 'a merge patch that deletes a key keeps the null', body: (p) => ({ data: { gone: null, a: b64(p.next('mp')) } }), check: (m) => assert.equal(((m as Json).data as Json).gone, null) },
  { name: 'server-side apply YAML (parsed)', body: (p) => parseYaml(`apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\nstringData:\n  token: ${p.next('ssa')}\n`) },
  {
    name: 'JSON Patch values by target: a key, the data map, stringData, the annotation, metadata, the whole document',
    body: (p) => [
      { op: 'replace', path: '/data/a', value: b64(p.next('jp-key')) },
      { op: 'add', path: '/data', value: { b: b64(p.next('jp-map')) } },
      { op: 'add', path: '/stringData/c', value: p.next('jp-sd') },
      { op: 'test', path: '/data/a', value: b64(p.next('jp-test')) },
      { op: 'add', path: `/metadata/annotations/${LAST_APPLIED_ANNOTATION.replace('/', '~1')}`, value: JSON.stringify({ data: { a: b64(p.next('jp-la')) } }) },
      { op: 'add', path: '/metadata/annotations', value: { [LAST_APPLIED_ANNOTATION]: JSON.stringify({ stringData: { s: p.next('jp-anns') } }) } },
      { op: 'replace', path: '/metadata', value: { annotations: { [LAST_APPLIED_ANNOTATION]: 'not json ' + p.next('jp-meta') } } },
      { op: 'replace', path: '', value: { kind: 'Secret', data: { z: b64(p.next('jp-doc')) } } },
      { op: 'add', path: 'not-a-pointer', value: p.next('jp-bad') },
      { op: 'remove', path: '/data/old' },
      { op: 'add', path: '/metadata/labels/app', value: 'kept' },
    ],
    check: (m) => {
      const ops = m as Json[];
      assert.deepEqual(ops.map((o) => o.op), ['replace', 'add', 'add', 'test', 'add', 'add', 'replace', 'replace', 'add', 'remove', 'add']);
      assert.ok(Buffer.from(ops[0]!.value as string, 'base64').toString().startsWith(PLACEHOLDER_PREFIX));
      assert.ok((ops[2]!.value as string).startsWith(PLACEHOLDER_PREFIX));
      assert.equal(ops[10]!.value, 'kept');
    },
  },
  { name: 'a List of Secrets', body: (p) => ({ kind: 'List', items: [{ kind: 'Secret', data: { a: b64(p.next('list')) } }] }) },
];

describe('maskSecretWriteBody masks the recorded copy of a write', () => {
  for (const r of rows) {
    it(`${r.name}: no clear value is left, and the body forwarded is untouched`, () => {
      const planted = new Planted();
      const body = r.body(planted);
      const before = structuredClone(body);
      const masked = maskSecretWriteBody(body, placeholder);
      assert.deepEqual(body, before, 'the original is not mutated');
      assert.deepEqual(planted.leaks(JSON.stringify(masked)), []);
      r.check?.(masked);
    });
  }

  it('a masked recording is itself recognised as carrying placeholders (it is never replayed as a write)', () => {
    const masked = maskSecretWriteBody({ data: { a: b64('clear') } }, placeholder);
    assert.deepEqual(findMaskedPlaceholders(masked), ['$.data.a']);
  });

  it('recorded placeholders equal the ones a later read shows, so an auditor can link them', () => {
    const value = b64('same');
    const masked = maskSecretWriteBody({ data: { a: value } }, placeholder) as Json;
    assert.equal((masked.data as Json).a, placeholder.base64('a', value));
  });
});
