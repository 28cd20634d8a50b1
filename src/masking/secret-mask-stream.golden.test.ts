/**
 * Golden outputs: the masked bytes of fixed inputs, pinned by their SHA-256. Placeholders,
 * escapes, key order and whitespace are what clients see and what auditors recompute, so any
 * change to the masking pipeline must keep these bytes: a different digest here changes what
 * clients and auditors see, and needs a reason, not a new digest.
 *
 * The inputs are built deterministically: a SecretList of the benchmark's credentials and
 * cluster mixes, a watch stream, and documents at the edges of the pipeline (last-applied
 * manifests written in every way JSON allows, escapes, invalid UTF-8, large values, many keys).
 * Each is masked whole and cut into chunks of several sizes.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { createPlaceholder, LAST_APPLIED_ANNOTATION } from './placeholder.js';
import { createSecretMasker, type SecretMaskShape } from './secret-mask-stream.js';

type Json = Record<string, unknown>;

/** bytesOf returns `n` deterministic pseudo-random bytes for a label. */
function bytesOf(label: string, n: number): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; out.length * 32 < n; i++) out.push(createHash('sha256').update(`${label}/${i}`).digest());
  return Buffer.concat(out).subarray(0, n);
}

function clear(label: string, bytes: number): string {
  return Buffer.from(`benchclear-${bytesOf(label, bytes).toString('hex')}`).toString('base64');
}

/** item mirrors bench/masking/generate.ts: credentials, every fourth a TLS pair, odd ones applied with kubectl, Helm releases in the cluster mix. */
function item(i: number, withKind: boolean, mix: 'credentials' | 'cluster'): Json {
  const name = `secret-${i}`;
  const helm = mix === 'cluster' && i % 8 === 7;
  const data: Record<string, string> = helm ? { release: clear(`${mix}${i}r`, 18_000) } : { username: clear(`${mix}${i}u`, 6), password: clear(`${mix}${i}p`, 16) };
  if (i % 4 === 0) data['tls.crt'] = clear(`${mix}${i}c`, 900);
  if (i % 4 === 0) data['tls.key'] = clear(`${mix}${i}k`, 600);
  const metadata: Json = {
    name,
    namespace: 'prod',
    uid: `6b1e2c3a-${i.toString(16).padStart(4, '0')}-4d5e-8f90-123456789abc`,
    resourceVersion: String(100000 + i),
    creationTimestamp: '2025-01-01T00:00:00Z',
    labels: { app: 'payments', tier: 'backend' },
    managedFields: [{ manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'v1', time: '2025-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': Object.fromEntries(Object.keys(data).map((k) => [`f:${k}`, {}])) } }],
  };
  if (i % 2 === 1 && !helm) {
    const manifest = { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'prod' }, data, type: 'Opaque' };
    metadata.annotations = { [LAST_APPLIED_ANNOTATION]: JSON.stringify(manifest) + '\n' };
  }
  const type = helm ? 'helm.sh/release.v1' : i % 4 === 0 ? 'kubernetes.io/tls' : 'Opaque';
  const secret = { metadata, data, type };
  return withKind ? { kind: 'Secret', apiVersion: 'v1', ...secret } : secret;
}

function list(items: unknown[], indent?: number): string {
  return JSON.stringify({ kind: 'SecretList', apiVersion: 'v1', metadata: { resourceVersion: '100064' }, items }, null, indent) + '\n';
}

/** applied is a Secret applied with kubectl whose last-applied manifest is the given text. */
function applied(name: string, manifest: string, data: Json = { k: 'YQ==', password: 'aHVudGVyMg==' }): Json {
  return { metadata: { name, annotations: { [LAST_APPLIED_ANNOTATION]: manifest, note: 'kept' } }, data, type: 'Opaque' };
}

const canonical = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'm', labels: { a: 'b' } }, data: { k: 'YQ==', password: 'aHVudGVyMg==' }, type: 'Opaque' });

/** Manifests at the edges of in-place splicing: each must come out as JSON.parse and JSON.stringify leave it. */
const manifests: string[] = [
  canonical,
  canonical + '\n',
  canonical + '\n\n',
  canonical + ' ',
  ' ' + canonical,
  JSON.stringify(JSON.parse(canonical), null, 2) + '\n',
  canonical.replace('"b"', '"\\u0026b\\u003c"'), // Go escapes HTML characters
  canonical.replace('"b"', '"&b<é😀"'),
  canonical.replace('"b"', '"a\\nb"'),
  canonical.replace('"b"', '"a\\/b"'),
  canonical.replace('"b"', '"\\ud800"'),
  canonical.replace('"labels"', '"1":2,"labels"'),
  canonical.replace('"labels"', '"n":1.0,"m":-0,"o":1e2,"p":123456789012345678,"q":-12,"r":[true,false,null,{},[]],"labels"'),
  canonical.replace('"labels"', '"labels":{},"labels"'),
  canonical.replace('"k":"YQ=="', '"k":"YQ==","k":"Yg=="'),
  canonical.replace('"k":"YQ=="', '"__proto__":"YQ=="'),
  canonical.replace('"k":"YQ=="', '"k":null,"n":1'),
  canonical.replace('"type"', '"stringData":{"extra":"plain","none":null},"type"'),
  canonical.replace('"data":{"k":"YQ==","password":"aHVudGVyMg=="}', '"data":"YQ=="'),
  canonical.replace('"data":{"k":"YQ==","password":"aHVudGVyMg=="}', '"data":null'),
  canonical.replace('"data":{"k":"YQ==","password":"aHVudGVyMg=="}', '"data":{}'),
  canonical.replace('"data":{"k":"YQ==","password":"aHVudGVyMg=="}', '"data":{"k":{"nested":1}}'),
  canonical.replace('"k":"YQ=="', '"ключ":"0LfQvdCw0YfQtdC90LjQtQ=="'),
  '[' + canonical + ']',
  '"a string"',
  'not json at all',
  '',
];

/** raw builds a document from bytes, for what JSON.stringify cannot write (invalid UTF-8, odd spacing). */
function raw(...parts: (string | Buffer)[]): Buffer {
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
}

interface Case {
  name: string;
  shape: SecretMaskShape;
  body: Buffer;
  assumeSecret?: boolean;
}

/** goldenCases builds every input of this file. */
function goldenCases(): Case[] {
  const cases: Case[] = [];
  const add = (name: string, shape: SecretMaskShape, body: string | Buffer, assumeSecret?: boolean) => cases.push({ name, shape, body: Buffer.from(body), assumeSecret });
  add('credentials mix SecretList', 'auto', list(Array.from({ length: 256 }, (_, i) => item(i, false, 'credentials'))));
  add('cluster mix SecretList', 'auto', list(Array.from({ length: 64 }, (_, i) => item(i, false, 'cluster'))));
  add('credentials mix watch', 'watch', Array.from({ length: 96 }, (_, i) => JSON.stringify({ type: i % 3 === 0 ? 'ADDED' : 'MODIFIED', object: item(i, true, 'credentials') }) + '\n').join(''));
  add('credentials mix pretty-printed', 'list', list(Array.from({ length: 12 }, (_, i) => item(i, false, 'credentials')), 2));
  add('manifests at the edges of in-place splicing', 'auto', list(manifests.map((m, i) => applied(`m${i}`, m))));
  add('manifests at the edges, with values the object shares', 'auto', list(manifests.map((m, i) => applied(`s${i}`, m, { k: 'YQ==', password: 'Yg==', 'ключ': '0LfQvdCw0YfQtdC90LjQtQ==' }))));
  add('manifests of many keys', 'auto', list([0, 1].map((n) => {
    const data = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`key-${i}`, clear(`many${n}${i}`, 8 + i)]));
    const manifest = { apiVersion: 'v1', kind: 'Secret', data: { ...data, extra: 'ZXh0cmE=' }, stringData: { 'key-3': 'x' }, type: 'Opaque' };
    return applied(`many${n}`, JSON.stringify(manifest, null, n) + '\n', data);
  })));
  const big = clear('big', 30_000); // over 64 KiB of base64: hashed through a Hash object
  const mid = clear('mid', 3_000);
  add('large values, shared with the manifest', 'auto', list([applied('large', JSON.stringify({ kind: 'Secret', data: { big, mid } }) + '\n', { big, mid, other: mid.slice(4) })]));
  add('escaped keys and values', 'auto', raw('{"kind":"SecretList","items":[{"data":{"k\\u0065y":"YQ\\u003d\\u003d","p":"a\\/b","q":"x"},"stringData":{"s":"a\\"b\\\\c\\u00e9"}}]}'));
  add('invalid UTF-8 in values and keys', 'auto', raw('{"kind":"SecretList","items":[{"data":{"k":"', Buffer.from([0x61, 0xff, 0xc3, 0x28, 0xed, 0xa0, 0x80]), '","', Buffer.from([0xfe]), '":"YQ=="},"metadata":{"annotations":{"', LAST_APPLIED_ANNOTATION, '":"{\\"data\\":{\\"k\\":\\"', Buffer.from([0x61, 0xff]), '\\"}}\\n"}}}]}'));
  add('non-ASCII UTF-8 in values, keys and the manifest', 'auto', list([applied('utf', JSON.stringify({ data: { 'ключ': 'значение', k: 'é😀' }, metadata: { name: 'ü' } }), { 'ключ': 'значение', k: 'é😀' })]));
  add('values that are not strings', 'auto', list([{ data: { n: 1, b: true, o: { a: 1 }, a: [1], z: null, s: 'YQ==' } }, { data: 'YQ==' }, { data: null, stringData: { s: 1 } }]));
  add('whitespace everywhere', 'auto', ' \n{ "kind" : "SecretList" , "items" : [ { "data" : { "k" : "YQ==" } , "metadata" : { "annotations" : { "' + LAST_APPLIED_ANNOTATION + '" : ' + JSON.stringify(canonical + '\n') + ' } } } ,\n {"data":{}} ] }\n');
  add('a get of a Secret', 'object', JSON.stringify(item(3, true, 'credentials')) + '\n');
  add('watch events back to back, with Status and bookmarks', 'watch', JSON.stringify({ type: 'ADDED', object: item(1, true, 'credentials') }) + JSON.stringify({ type: 'BOOKMARK', object: { kind: 'Secret', metadata: { resourceVersion: '5' } } }) + '\n' + JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410 } }));
  add('Table with objects', 'table', JSON.stringify({ kind: 'Table', apiVersion: 'meta.k8s.io/v1', columnDefinitions: [], rows: [0, 1, 2].map((i) => ({ cells: [`secret-${i}`, 'Opaque'], object: item(i, true, 'credentials') })) }));
  add('a mixed List when kinds are not assumed', 'list', list([item(1, true, 'credentials'), { kind: 'ConfigMap', data: { a: 'b' } }, item(2, false, 'credentials')]), false);
  // Invalid input: the error (code and message) is pinned too.
  add('an item that does not parse', 'list', '{"kind":"SecretList","items":[{"data":{"k":"YQ=="} x},{"data":{}}]}');
  add('a bad escape', 'list', '{"kind":"SecretList","items":[{"data":{"k":"Y\\qQ=="}}]}');
  add('a bad escape with no closing quote', 'list', '{"kind":"SecretList","items":[{"data":{"k":"Y\\qQ==');
  add('a raw control character in an escaped last-applied manifest', 'list', '{"kind":"SecretList","items":[{"metadata":{"annotations":{"' + LAST_APPLIED_ANNOTATION + '":"{\\"data\\":{\\"k\\":\\"\u0001\\"}}"}},"data":{"k":"YQ=="}}]}');
  add('a list cut off inside an item', 'list', list([item(0, false, 'credentials')]).slice(0, 300));
  return cases;
}

/** mask masks a body cut into chunks of `size` bytes (0: whole); an error ends the output with `! code message`. */
function mask(c: Case, size: number, createMasker = createSecretMasker): Buffer {
  const placeholder = createPlaceholder(Buffer.alloc(32, 7));
  const masker = createMasker({ shape: c.shape, placeholder, assumeSecret: c.assumeSecret });
  const chunks: Buffer[] = [];
  for (let at = 0; at < c.body.length; at += size || c.body.length) chunks.push(c.body.subarray(at, size ? at + size : undefined));
  const out: Buffer[] = [];
  try {
    for (const chunk of chunks) out.push(Buffer.from(masker.push(chunk)));
    out.push(Buffer.from(masker.flush()));
  } catch (err) {
    const e = err as { code?: string; message?: string };
    out.push(Buffer.from(`! ${e.code} ${e.message}`));
  }
  return Buffer.concat(out);
}

const digestOf = (b: Buffer): string => createHash('sha256').update(b).digest('hex').slice(0, 24);

function errorOf(out: Buffer): string | undefined {
  const at = out.lastIndexOf('! AIRLOCK_');
  return at === -1 ? undefined : out.subarray(at).toString();
}

/** The expected outputs, by case name: the digest of the masked bytes (or of the error). */
const expected: Record<string, string> = {
  'credentials mix SecretList': '5eac215b9d0e736bc95bfcb0', // 450165 -> 198261 bytes
  'cluster mix SecretList': 'd0554a451efb93cd359e0cb5', // 493092 -> 46724 bytes
  'credentials mix watch': '29ac5c6c8f0362430aae297b', // 174633 -> 80169 bytes
  'credentials mix pretty-printed': 'e79977b5bbfa7910003feada', // 25937 -> 14129 bytes
  'manifests at the edges of in-place splicing': 'b71458cfcea5ad9afd5cfeb9', // 9180 -> 12356 bytes
  'manifests at the edges, with values the object shares': 'ca3a17ec48e0b306b69a5ca9', // 9990 -> 13706 bytes
  'manifests of many keys': 'fff0471261eef97444955363', // 6858 -> 4756 bytes
  'large values, shared with the manifest': '55290ad3e7fcd0ffb0d2f9d4', // 184394 -> 526 bytes
  'escaped keys and values': '91e5919b0a8b52cad3d0ff60', // 124 -> 284 bytes
  'invalid UTF-8 in values and keys': '2240f572fcb87f61bc285d71', // 177 -> 300 bytes
  'non-ASCII UTF-8 in values, keys and the manifest': '8511590d19b4489ec5e84758', // 364 -> 492 bytes
  'values that are not strings': '445f44f792c38619a355049a', // 207 -> 607 bytes
  'whitespace everywhere': 'd30f996a39104bba7aa82a37', // 360 -> 476 bytes
  'a get of a Secret': '326bab0399b89deb7e277401', // 932 -> 920 bytes
  'watch events back to back, with Status and bookmarks': 'db4923689bbae4ad88b37db4', // 1093 -> 1081 bytes
  'Table with objects': '044968d6ca61a291c5c1562f', // 6428 -> 2504 bytes
  'a mixed List when kinds are not assumed': '343c2b42162fecc0c423b2a9', // 1624 -> 1636 bytes
  // The errors below are pinned with their messages (code and offsets, never content).
  'an item that does not parse': 'dfb9fe11d3eb44d30a04f655', // 67 -> 175 bytes
  'a bad escape': 'fe2b5de7e96bce088db8ac58', // 55 -> 164 bytes
  'a bad escape with no closing quote': 'b52a3ab834d2aab26b60630c', // 50 -> 215 bytes
  // JSON.parse refuses the raw control character in the annotation's string, which JsonReader lets pass: AIRLOCK_INTERNAL, not INVALID_JSON (closed either way).
  'a raw control character in an escaped last-applied manifest': '4e7a6373a7063243b1f5a918', // 160 -> 55 bytes
  'a list cut off inside an item': 'e7cb05cdcf2aa1cb23427d8d', // 300 -> 274 bytes
};

describe('golden outputs: masking keeps its bytes', () => {
  for (const c of goldenCases()) {
    it(c.name, () => {
      const whole = mask(c, 0);
      assert.equal(digestOf(whole), expected[c.name], 'the masked bytes changed');
      for (const size of [65536, 4093, 1000, 97]) {
        const cut = mask(c, size);
        // A failing stream emits what it completed before the error, which depends on the cuts; the error does not.
        if (errorOf(whole) !== undefined) assert.equal(errorOf(cut), errorOf(whole), `cut into chunks of ${size} bytes`);
        else assert.ok(cut.equals(whole), `cut into chunks of ${size} bytes`);
      }
    });
  }
});
