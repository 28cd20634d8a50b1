/**
 * The fast path (byte splicing) must decide and mask exactly as the slow path (JSON.parse,
 * maskResponseValue, JSON.stringify): same values masked, same placeholders, same marker.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createPlaceholder, LAST_APPLIED_ANNOTATION, MASKED_ANNOTATION } from './placeholder.js';
import { maskResponseValue, maskTableRow, type ResponseMasking } from './response-value.js';
import { joinParts, rewriteSecretValue, type Part, type RewriteContext } from './secret-rewriter.js';

const placeholder = createPlaceholder(Buffer.alloc(32, 13));
const secrets: ResponseMasking = { placeholder, assumeSecret: true };
const mixed: ResponseMasking = { placeholder, assumeSecret: false };

function slow(value: unknown, masking: ResponseMasking, context: RewriteContext, impliedKind?: string): unknown {
  const copy = structuredClone(value);
  if (context === 'row') maskTableRow(copy, masking);
  else maskResponseValue(copy, masking, impliedKind);
  return copy;
}

function fast(text: string, masking: ResponseMasking, context: RewriteContext, impliedKind?: string): { value: unknown; path: string } {
  const result = rewriteSecretValue(Buffer.from(text), masking, context, impliedKind);
  if (result === 'slow') return { value: undefined, path: 'slow' };
  return { value: JSON.parse(result === 'unchanged' ? text : joinParts(result).toString()), path: result === 'unchanged' ? 'unchanged' : 'spliced' };
}

const b64 = fc.string({ maxLength: 40 }).map((s) => Buffer.from(s).toString('base64'));
const keyName = fc.constantFrom('password', 'user', 'tls.crt', 'k', 'ключ', 'a"b', 'back\\slash');
const dataMap = fc.dictionary(keyName, fc.oneof({ weight: 6, arbitrary: b64 }, { weight: 1, arbitrary: fc.constant(null) }), { maxKeys: 4 });
const manifest = fc.record({ kind: fc.constant('Secret'), data: dataMap, stringData: fc.dictionary(keyName, fc.string(), { maxKeys: 2 }) }, { requiredKeys: ['kind'] });
const annotations = fc.record(
  {
    [LAST_APPLIED_ANNOTATION]: fc.oneof(manifest.map((m) => JSON.stringify(m) + '\n'), fc.string(), fc.constant(null)),
    [MASKED_ANNOTATION]: fc.constant('data'),
    note: fc.string(),
  },
  { requiredKeys: [] },
);
const metadata = fc.oneof(
  { weight: 6, arbitrary: fc.record({ name: fc.string(), annotations: fc.oneof(annotations, fc.constant(null)) }, { requiredKeys: ['name'] }) },
  { weight: 1, arbitrary: fc.constant(null) },
);
const object = fc.record(
  {
    kind: fc.constantFrom('Secret', 'PartialObjectMetadata', 'ConfigMap', 'Status'),
    metadata,
    data: fc.oneof({ weight: 8, arbitrary: dataMap }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: b64 }),
    stringData: fc.dictionary(keyName, fc.string(), { maxKeys: 2 }),
    type: fc.constantFrom('Opaque', 'kubernetes.io/tls'),
  },
  { requiredKeys: [] },
);
const shaped = fc.oneof(
  object.map((o) => ({ context: 'value' as const, value: o })),
  object.map((o) => ({ context: 'item' as const, value: o })),
  object.map((o) => ({ context: 'value' as const, value: { type: 'MODIFIED', object: o } })),
  object.map((o) => ({ context: 'row' as const, value: { cells: ['x', 'Opaque', 1, '1d'], object: o } })),
);

describe('rewriteSecretValue masks exactly as maskResponseValue does', () => {
  for (const [name, masking] of [['a secrets response', secrets], ['a mixed response', mixed]] as const) {
    it(`random Secret-shaped values, compact and pretty-printed (${name})`, () => {
      fc.assert(
        fc.property(shaped, fc.constantFrom(undefined, 1, 2), fc.constantFrom(undefined, 'Secret'), ({ context, value }, indent, implied) => {
          const text = JSON.stringify(value, null, indent);
          const got = fast(text, masking, context, implied);
          if (got.path === 'slow') return; // the caller parses it whole: the slow path is the result
          assert.deepStrictEqual(got.value, slow(value, masking, context, implied));
        }),
        { numRuns: 3000 },
      );
    });
  }

  const slowRows: { name: string; text: string }[] = [
    { name: 'a Table', text: '{"kind":"Table","rows":[]}' },
    { name: 'a list inside a value', text: '{"kind":"SecretList","items":[]}' },
    { name: 'a duplicated data member', text: '{"kind":"Secret","data":{"a":"YQ=="},"data":{"b":"Yg=="}}' },
    { name: 'data that is not an object', text: '{"kind":"Secret","data":"YQ=="}' },
    { name: 'annotations that are not an object', text: '{"kind":"Secret","metadata":{"annotations":[]},"data":{"a":"YQ=="}}' },
  ];
  for (const r of slowRows) {
    it(`${r.name} goes down the slow path`, () => assert.equal(rewriteSecretValue(Buffer.from(r.text), secrets, 'value'), 'slow'));
  }

  it('untouched bytes keep their formatting', () => {
    const text = '{ "kind" : "Secret",\n  "metadata" : { "name" : "x" },\n  "data" : { "k" : "YQ==" } }';
    const out = joinParts(rewriteSecretValue(Buffer.from(text), secrets, 'value') as Part[]).toString();
    assert.ok(out.startsWith('{ "kind" : "Secret",\n  "metadata" : {"annotations":{"airlock.dev/masked":"data"}, "name" : "x" },'));
    assert.ok(out.endsWith(`"data" : { "k" : "${placeholder.base64('k', 'YQ==')}" } }`));
  });

  it('an existing marker is overwritten, never duplicated', () => {
    const text = '{"kind":"Secret","metadata":{"annotations":{"airlock.dev/masked":"x"}},"data":{"k":"YQ=="}}';
    const out = joinParts(rewriteSecretValue(Buffer.from(text), secrets, 'value') as Part[]).toString();
    assert.equal(out.split(MASKED_ANNOTATION).length, 2);
  });
});
