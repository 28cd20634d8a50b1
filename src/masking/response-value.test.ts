import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPlaceholder, LAST_APPLIED_ANNOTATION, MASKED_ANNOTATION, PLACEHOLDER_PREFIX } from './placeholder.js';
import { maskResponseValue, type ResponseMasking } from './response-value.js';
import { maskLastApplied } from './secret-object.js';

const placeholder = createPlaceholder(Buffer.alloc(32, 3));
const masking: ResponseMasking = { placeholder, assumeSecret: true };
const mixed: ResponseMasking = { placeholder, assumeSecret: false };

type Json = Record<string, unknown>;
const b64 = (s: string): string => Buffer.from(s).toString('base64');

interface Row {
  name: string;
  value: Json;
  masking?: ResponseMasking;
  changed: boolean;
  check?: (value: Json) => void;
}

const rows: Row[] = [
  {
    name: 'a Secret: data values become placeholders under the same keys, and the object is marked',
    value: { kind: 'Secret', metadata: { name: 's' }, data: { a: b64('one'), b: b64('two') }, type: 'Opaque' },
    changed: true,
    check: (v) => {
      assert.deepEqual(Object.keys(v.data as Json), ['a', 'b']);
      assert.equal((v.data as Json).a, placeholder.base64('a', b64('one')));
      assert.equal(((v.metadata as Json).annotations as Json)[MASKED_ANNOTATION], 'data');
      assert.equal(v.type, 'Opaque');
    },
  },
  {
    name: 'stringData (never in responses, but masked if present) keeps clear-text placeholders',
    value: { kind: 'Secret', metadata: {}, stringData: { s: 'clear' } },
    changed: true,
    check: (v) => assert.equal((v.stringData as Json).s, placeholder.marker('s', 'clear')),
  },
  {
    name: 'a null data value (a deletion) stays null',
    value: { kind: 'Secret', metadata: {}, data: { gone: null, kept: b64('x') } },
    changed: true,
    check: (v) => assert.equal((v.data as Json).gone, null),
  },
  {
    name: 'a data value of an unexpected type is masked too',
    value: { kind: 'Secret', metadata: {}, data: { n: 42, o: { nested: 'clear' } } },
    changed: true,
    check: (v) => assert.ok(Object.values(v.data as Json).every((x) => typeof x === 'string')),
  },
  {
    name: 'a Secret without values is left as it is, unmarked',
    value: { kind: 'Secret', metadata: { name: 'e' }, data: {} },
    changed: false,
  },
  {
    name: 'a Status passes',
    value: { kind: 'Status', status: 'Failure', code: 404, data: 'not-a-secret' },
    changed: false,
  },
  {
    name: 'a PartialObjectMetadata has its last-applied annotation masked',
    value: { kind: 'PartialObjectMetadata', metadata: { annotations: { [LAST_APPLIED_ANNOTATION]: JSON.stringify({ data: { k: b64('c') } }) } } },
    changed: true,
  },
  {
    name: 'a kind-less object in a secrets response is a Secret',
    value: { metadata: {}, data: { k: b64('c') } },
    changed: true,
  },
  {
    name: 'a kind-less object in a mixed response is left alone',
    value: { metadata: {}, data: { k: b64('c') } },
    masking: mixed,
    changed: false,
  },
  {
    name: 'a ConfigMap is left alone',
    value: { kind: 'ConfigMap', metadata: {}, data: { k: 'visible' } },
    changed: false,
  },
  {
    name: 'a SecretList gives its kind-less items the Secret kind, even in a mixed response',
    value: { kind: 'SecretList', metadata: {}, items: [{ metadata: {}, data: { k: b64('c') } }] },
    masking: mixed,
    changed: true,
  },
  {
    name: 'a watch event masks its object',
    value: { type: 'ADDED', object: { kind: 'Secret', metadata: {}, data: { k: b64('c') } } },
    changed: true,
    check: (v) => assert.deepEqual(Object.keys(v), ['type', 'object']),
  },
  {
    name: 'an ERROR watch event passes',
    value: { type: 'ERROR', object: { kind: 'Status', code: 410 } },
    changed: false,
  },
  {
    name: 'a Table masks row objects and keeps cells',
    value: { kind: 'Table', rows: [{ cells: ['n', 'Opaque', 1, '1d'], object: { kind: 'Secret', metadata: {}, data: { k: b64('c') } } }] },
    changed: true,
    check: (v) => assert.deepEqual(((v.rows as Json[])[0]!.cells as unknown[]), ['n', 'Opaque', 1, '1d']),
  },
];

describe('maskResponseValue', () => {
  for (const r of rows) {
    it(r.name, () => {
      const value = structuredClone(r.value);
      assert.equal(maskResponseValue(value, r.masking ?? masking), r.changed);
      if (!r.changed) assert.deepEqual(value, r.value);
      r.check?.(value);
    });
  }
});

describe('maskLastApplied', () => {
  const rowsLA: { name: string; value: unknown; check: (out: unknown) => void }[] = [
    {
      name: 'a JSON manifest keeps everything but its values, and its trailing newline',
      value: JSON.stringify({ kind: 'Secret', metadata: { name: 'x' }, data: { k: b64('c') }, stringData: { s: 'c2' }, type: 'Opaque' }) + '\n',
      check: (out) => {
        const text = out as string;
        assert.ok(text.endsWith('\n'));
        const manifest = JSON.parse(text) as Json;
        assert.deepEqual(manifest.metadata, { name: 'x' });
        assert.equal(manifest.type, 'Opaque');
        assert.ok(((manifest.stringData as Json).s as string).startsWith(PLACEHOLDER_PREFIX));
      },
    },
    { name: 'an unparsable manifest is replaced whole', value: '{"data":{"k":"c2VjcmV0"', check: (out) => assert.match(out as string, /^airlock-masked:[0-9a-f]{12}$/) },
    { name: 'a manifest that is not an object is replaced whole', value: '"c2VjcmV0"', check: (out) => assert.match(out as string, /^airlock-masked:/) },
    { name: 'a manifest without values is kept byte for byte', value: '{"kind":"Secret","metadata":{"name":"x"}}\n', check: (out) => assert.equal(out, '{"kind":"Secret","metadata":{"name":"x"}}\n') },
  ];
  for (const r of rowsLA) it(r.name, () => r.check(maskLastApplied(r.value, placeholder)));
});
