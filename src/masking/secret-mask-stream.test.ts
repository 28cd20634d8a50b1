import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as turn } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { isAirlockError } from '../errors.js';
import { createPlaceholder, LAST_APPLIED_ANNOTATION, MASKED_ANNOTATION, PLACEHOLDER_PREFIX } from './placeholder.js';
import { createSecretMasker, createSecretMaskStream, type SecretMaskShape } from './secret-mask-stream.js';
import {
  decodePlaceholder,
  partialObjectMetadata,
  Planted,
  secret,
  secretList,
  status,
  table,
  watchStream,
} from './test-fixtures.js';

const placeholder = createPlaceholder(Buffer.alloc(32, 7));

type Json = Record<string, unknown>;

interface Row {
  name: string;
  shapes: SecretMaskShape[];
  body: string;
  planted: Planted;
  /** exact: the output must equal the input byte for byte (nothing to mask). */
  exact?: boolean;
  check?: (values: Json[]) => void;
}

function row(name: string, shapes: SecretMaskShape[], build: (p: Planted) => string, extra: Partial<Row> = {}): Row {
  const planted = new Planted();
  return { name, shapes, body: build(planted), planted, ...extra };
}

const json = (value: unknown): string => JSON.stringify(value) + '\n';

/** The masking checklist (reference §2.7), one row per response shape. */
const rows: Row[] = [
  row('get of a Secret with a last-applied annotation', ['object', 'auto'], (p) => json(secret(p, { name: 'db', lastApplied: true })), {
    check: ([s]) => {
      const annotations = (s!.metadata as Json).annotations as Json;
      assert.equal(annotations.note, 'kept');
      assert.equal(annotations[MASKED_ANNOTATION], 'data');
      const manifest = JSON.parse(annotations[LAST_APPLIED_ANNOTATION] as string) as Json;
      assert.equal((manifest.metadata as Json).name, 'db');
      assert.ok(((manifest.stringData as Json).extra as string).startsWith(PLACEHOLDER_PREFIX));
      assert.ok((annotations[LAST_APPLIED_ANNOTATION] as string).endsWith('\n'), 'kubectl keeps a trailing newline');
    },
  }),
  row('get printed with ?pretty=true', ['object', 'auto', 'list'], (p) => JSON.stringify(secret(p, { name: 'pretty' }), null, 2) + '\n'),
  row('get of a Secret with no data passes unchanged', ['object', 'auto'], () => json({ kind: 'Secret', apiVersion: 'v1', metadata: { name: 'empty' }, type: 'Opaque' }), {
    exact: true,
  }),
  row('get of a service-account token Secret', ['object'], (p) => json(secret(p, { name: 'sa-token', keys: ['token', 'ca.crt', 'namespace'] }))),
  row('list of Secrets (items carry no kind)', ['list', 'auto'], (p) => json(secretList(p, 4)), {
    check: ([list]) => {
      assert.equal((list!.items as Json[]).length, 4);
      assert.equal(((list!.items as Json[])[0]!.metadata as Json).name, 's0');
    },
  }),
  row('list page with a continue token', ['list', 'auto'], (p) => json(secretList(p, 2, { continueToken: 'eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ' })), {
    check: ([list]) => assert.equal((list!.metadata as Json).continue, 'eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ'),
  }),
  row('list printed with ?pretty=true', ['list', 'auto'], (p) => JSON.stringify(secretList(p, 2), null, 2) + '\n'),
  row('empty list', ['list', 'auto'], () => json({ kind: 'SecretList', apiVersion: 'v1', metadata: { resourceVersion: '9' }, items: [] }), { exact: true }),
  row('list answered with a Status (expired continue token)', ['list', 'table', 'auto'], () => json(status(410, 'Expired', 'The provided continue parameter is too old')), {
    exact: true,
  }),
  row(
    'PartialObjectMetadataList keeps names and masks the annotation',
    ['list', 'auto'],
    (p) => json({ kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: {}, items: [0, 1, 2].map((i) => partialObjectMetadata(p, `m${i}`)) }),
  ),
  row('PartialObjectMetadata of one Secret', ['object', 'auto'], (p) => json(partialObjectMetadata(p, 'meta'))),
  row('Table with includeObject=None passes unchanged', ['table', 'auto'], (p) => json(table(p, 3, 'None')), { exact: true }),
  row('Table with includeObject=Metadata (the default)', ['table', 'auto'], (p) => json(table(p, 3, 'Metadata')), {
    check: ([t]) => assert.deepEqual(((t!.rows as Json[])[0]!.cells as unknown[]), ['t0', 'Opaque', 2, '5d']),
  }),
  row('Table with includeObject=Object', ['table', 'auto'], (p) => json(table(p, 3, 'Object'))),
  row('Table printed with ?pretty=true', ['table'], (p) => JSON.stringify(table(p, 2, 'Object'), null, 1) + '\n'),
  row('watch: initial events, bookmark, updates, ERROR', ['watch', 'auto'], (p) => watchStream(p), {
    check: (events) => {
      assert.deepEqual(events.map((e) => e.type), ['ADDED', 'ADDED', 'BOOKMARK', 'MODIFIED', 'DELETED', 'ERROR']);
      assert.equal(((events[5]!.object as Json).code as number), 410);
    },
  }),
  row('watch events written back to back with no newline', ['watch', 'auto'], (p) =>
    [secret(p, { name: 'a' }), secret(p, { name: 'b' })].map((o) => JSON.stringify({ type: 'ADDED', object: o })).join(''),
  ),
  row('Table watch: first event with columns, later without', ['watch', 'auto'], (p) => {
    const first = table(p, 1, 'Object');
    const later = { ...table(p, 1, 'Metadata'), columnDefinitions: undefined };
    return json({ type: 'ADDED', object: first }) + json({ type: 'MODIFIED', object: later });
  }),
  row('metadata-only watch (PartialObjectMetadata events)', ['watch'], (p) => json({ type: 'ADDED', object: partialObjectMetadata(p, 'pm') })),
  row('create echo', ['object'], (p) => json(secret(p, { name: 'created', lastApplied: true }))),
  row('patch echo after server-side apply', ['object'], (p) => json(secret(p, { name: 'applied', keys: ['a', 'b', 'c'] }))),
  row('delete answered with the object', ['object'], (p) => json(secret(p, { name: 'deleted' }))),
  row('delete answered with a Status', ['object'], () => json({ ...status(200, '', ''), status: 'Success', details: { name: 'x', kind: 'secrets' } }), {
    exact: true,
  }),
  row('kubectl get secret -o yaml of a list (kind-less items, list envelope)', ['list'], (p) => json(secretList(p, 2, { lastApplied: true }))),
  row('a "list" whose members include data is masked whole', ['list', 'auto'], (p) =>
    json({ kind: 'Secret', data: { k: Buffer.from(p.next('fallback')).toString('base64') }, items: [{ kind: 'Secret', data: { k: Buffer.from(p.next('inner')).toString('base64') } }] }),
  ),
  row('escaped key names are still found by the full parse', ['list', 'object'], (p) =>
    `{"kind":"Secret","d\\u0061ta":{"k":"${Buffer.from(p.next('escaped')).toString('base64')}"}}`,
  ),
];

describe('createSecretMasker masks every shape in the checklist', () => {
  for (const r of rows) {
    for (const shape of r.shapes) {
      it(`${r.name} (${shape})`, () => {
        const out = runChunks(shape, [Buffer.from(r.body)]);
        assertMasked(r, out);
      });
    }
  }
});

describe('split-read matrix: output does not depend on how the input is cut', () => {
  for (const r of rows) {
    const shape = r.shapes[0]!;
    it(`${r.name}: every cut offset and one byte at a time give the same output, and nothing is emitted from a fragment`, () => {
      const body = Buffer.from(r.body);
      const whole = runChunks(shape, [body]);
      const { output: byByte, emissions, cumulative } = runBytes(shape, body);
      assert.equal(byByte, whole, 'one byte at a time');
      for (const emission of emissions) assertWholePiece(emission);
      for (let cut = 1; cut < body.length; cut++) {
        const masker = createSecretMasker({ shape, placeholder });
        const first = masker.push(body.subarray(0, cut)).toString();
        assert.equal(first.length, cumulative[cut], `after ${cut} bytes, the same was emitted as one byte at a time`);
        const rest = masker.push(body.subarray(cut)).toString() + masker.flush().toString();
        assert.equal(first + rest, whole, `cut at ${cut}`);
      }
    });
  }
});

describe('watch events are emitted as soon as they are complete', () => {
  it('an event is emitted by the push that completes it, before any newline or next chunk', () => {
    const planted = new Planted();
    const event = JSON.stringify({ type: 'ADDED', object: secret(planted, { name: 'now' }) });
    const masker = createSecretMasker({ shape: 'watch', placeholder });
    const out = masker.push(Buffer.from(event)).toString();
    assert.equal((JSON.parse(out) as Json).type, 'ADDED');
    assert.deepEqual(planted.leaks(out), []);
  });

  it('the Transform delivers an event while the stream stays open', async () => {
    const planted = new Planted();
    const stream = createSecretMaskStream({ shape: 'watch', placeholder });
    const received = once(stream, 'data');
    stream.write(JSON.stringify({ type: 'MODIFIED', object: secret(planted, { name: 'open' }) }) + '\n');
    const [chunk] = (await received) as [Buffer];
    assert.equal((JSON.parse(chunk.toString()) as Json).type, 'MODIFIED');
    assert.deepEqual(planted.leaks(chunk), []);
    stream.destroy();
  });
});

interface ErrorRow {
  name: string;
  shape: SecretMaskShape;
  body: (clear: string) => string;
  code: 'AIRLOCK_MASK_INVALID_JSON' | 'AIRLOCK_MASK_TOO_LARGE';
  maxObjectBytes?: number;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

const errorRows: ErrorRow[] = [
  { name: 'not JSON at all', shape: 'auto', body: (c) => `hello ${c}`, code: 'AIRLOCK_MASK_INVALID_JSON' },
  { name: 'a get that does not parse', shape: 'object', body: (c) => `{"kind":"Secret","data":{"k":"${b64(c)}"},}`, code: 'AIRLOCK_MASK_INVALID_JSON' },
  { name: 'a list item that does not parse', shape: 'list', body: (c) => `{"kind":"SecretList","items":[{"data":{"k":"${b64(c)}"} x}]}`, code: 'AIRLOCK_MASK_INVALID_JSON' },
  { name: 'a trailing comma in items', shape: 'list', body: (c) => `{"kind":"SecretList","items":[{"data":{"k":"${b64(c)}"}},]}`, code: 'AIRLOCK_MASK_INVALID_JSON' },
  { name: 'two items without a comma', shape: 'list', body: (c) => `{"kind":"SecretList","items":[{"data":{}}{"data":{"k":"${b64(c)}"}}]}`, code: 'AIRLOCK_MASK_INVALID_JSON' },
  { name: 'a scalar item', shape: 'list', body: (c) => `{"kind":"SecretList","items":["${b64(c)}"]}`, code: 'AIRLOCK_MASK_INVALID_JSON' },
  { name: 'a list cut off inside an item', shape: 'list', body: (c) => `{"kind":"SecretList","items":[{"data":{"k":"${b64(c)}"`, code: 'AIRLOCK_MASK_INVALID_JSON' },
  { name: 'a watch cut off inside an event', shape: 'watch', body: (c) => `{"type":"ADDED","object":{"kind":"Secret","data":{"k":"${b64(c)}`, code: 'AIRLOCK_MASK_INVALID_JSON' },
  { name: 'garbage between watch events', shape: 'watch', body: (c) => `{"type":"BOOKMARK","object":{}}\nx{"type":"ADDED","object":{"kind":"Secret","data":{"k":"${b64(c)}"}}}`, code: 'AIRLOCK_MASK_INVALID_JSON' },
  { name: 'a second value after a get', shape: 'object', body: (c) => `{"kind":"Status"}\n{"kind":"Secret","data":{"k":"${b64(c)}"}}`, code: 'AIRLOCK_MASK_INVALID_JSON' },
  { name: 'Secret data after a streamed array', shape: 'list', body: (c) => `{"kind":"SecretList","items":[],"data":{"k":"${b64(c)}"}}`, code: 'AIRLOCK_MASK_INVALID_JSON' },
  { name: 'junk between a key and its array', shape: 'list', body: (c) => `{"kind":"SecretList","items" 1 :[{"data":{"k":"${b64(c)}"}}]}`, code: 'AIRLOCK_MASK_INVALID_JSON' },
  { name: 'an unterminated string', shape: 'object', body: (c) => `{"data":{"k":"${b64(c)}`, code: 'AIRLOCK_MASK_INVALID_JSON' },
  { name: 'a get over the size cap', shape: 'object', body: (c) => `{"kind":"Secret","data":{"k":"${b64(c)}","pad":"${'A'.repeat(400)}"}}`, code: 'AIRLOCK_MASK_TOO_LARGE', maxObjectBytes: 256 },
  { name: 'a list item over the size cap', shape: 'list', body: (c) => `{"kind":"SecretList","items":[{"data":{"k":"${b64(c)}","pad":"${'A'.repeat(400)}"}}]}`, code: 'AIRLOCK_MASK_TOO_LARGE', maxObjectBytes: 256 },
];

describe('invalid input fails the stream cleanly, and no clear value is emitted', () => {
  for (const r of errorRows) {
    it(`${r.name} → ${r.code}`, async () => {
      const clear = `clear-${r.name.replaceAll(' ', '-')}`;
      const body = Buffer.from(r.body(clear));
      for (const chunks of [[body], [...body].map((b) => Buffer.from([b]))]) {
        const collected: Buffer[] = [];
        const sink = new Writable({
          write(chunk: Buffer, _e, cb) {
            collected.push(chunk);
            cb();
          },
        });
        const stream = createSecretMaskStream({ shape: r.shape, placeholder, maxObjectBytes: r.maxObjectBytes });
        await assert.rejects(pipeline(Readable.from(chunks), stream, sink), (err: unknown) => {
          assert.ok(isAirlockError(err, r.code), `got ${String(err)}`);
          assert.ok(!(err as Error).message.includes(clear) && !(err as Error).message.includes(b64(clear)), 'the error names no content');
          return true;
        });
        const emitted = Buffer.concat(collected).toString();
        assert.ok(!emitted.includes(clear) && !emitted.includes(b64(clear)), `no clear value emitted: ${emitted}`);
      }
    });
  }

  it('after an error the masker refuses all further input', () => {
    const masker = createSecretMasker({ shape: 'object', placeholder });
    assert.throws(() => masker.push(Buffer.from('nope')), (e: unknown) => isAirlockError(e, 'AIRLOCK_MASK_INVALID_JSON'));
    assert.throws(() => masker.push(Buffer.from('{}')), (e: unknown) => isAirlockError(e, 'AIRLOCK_MASK_INVALID_JSON'));
    assert.throws(() => masker.flush(), (e: unknown) => isAirlockError(e, 'AIRLOCK_MASK_INVALID_JSON'));
  });

  it('an empty body (HEAD, 204) is fine and emits nothing', () => {
    const masker = createSecretMasker({ shape: 'object', placeholder });
    assert.equal(masker.flush().length, 0);
  });
});

describe('mixed-kind responses', () => {
  it('a generic List masks items of kind Secret and leaves other kinds alone when kinds are not assumed', () => {
    const planted = new Planted();
    const configMap = { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'cm' }, data: { plain: 'visible' } };
    const body = json({ kind: 'List', apiVersion: 'v1', metadata: {}, items: [secret(planted, { name: 's' }), configMap, { metadata: { name: 'kindless' }, data: { k: 'dmlzaWJsZQ==' } }] });
    const out = runChunks('list', [Buffer.from(body)], false);
    const items = (JSON.parse(out) as Json).items as Json[];
    assert.deepEqual(planted.leaks(out), []);
    assert.deepEqual(items[1], configMap);
    assert.deepEqual((items[2]!.data as Json).k, 'dmlzaWJsZQ==');
  });
});

describe('back-pressure', () => {
  it('a blocked reader stops the producer: nothing is buffered beyond the stream high-water marks', async () => {
    const planted = new Planted();
    const item = JSON.stringify(secret(planted, { name: 'bp', withKind: false }));
    const total = 20 * 1024 * 1024;
    let produced = 0;
    let started = false;
    const source = new Readable({
      read() {
        if (produced >= total) return void this.push(null);
        let chunk = started ? '' : '{"kind":"SecretList","apiVersion":"v1","metadata":{},"items":[';
        if (!started) started = true;
        while (chunk.length < 64 * 1024) chunk += (chunk.endsWith('[') ? '' : ',') + item;
        if (produced + chunk.length >= total) chunk += ']}';
        produced += chunk.length;
        this.push(chunk);
      },
    });
    let release: (() => void) | undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let received = 0;
    const sink = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _e, cb) {
        received += chunk.length;
        held.then(() => cb(), cb);
      },
    });
    const done = pipeline(source, createSecretMaskStream({ shape: 'list', placeholder }), sink);
    for (let i = 0; i < 200 && received === 0; i++) await turn();
    for (let i = 0; i < 200; i++) await turn(); // let the producer run as far as back-pressure allows
    assert.ok(produced < 2 * 1024 * 1024, `produced ${produced} bytes while the reader was blocked`);
    release!();
    await done;
    assert.ok(produced >= total);
    assert.ok(received > produced * 0.5);
  });
});

// --- helpers -------------------------------------------------------------------------------

function runChunks(shape: SecretMaskShape, chunks: Buffer[], assumeSecret = true): string {
  const masker = createSecretMasker({ shape, placeholder, assumeSecret });
  let out = '';
  for (const chunk of chunks) out += masker.push(chunk).toString();
  return out + masker.flush().toString();
}

function runBytes(shape: SecretMaskShape, body: Buffer): { output: string; emissions: string[]; cumulative: number[] } {
  const masker = createSecretMasker({ shape, placeholder });
  const emissions: string[] = [];
  const cumulative: number[] = [0];
  let output = '';
  for (let i = 0; i < body.length; i++) {
    const out = masker.push(body.subarray(i, i + 1)).toString();
    if (out.length > 0) emissions.push(out);
    output += out;
    cumulative.push(output.length);
  }
  output += masker.flush().toString();
  return { output, emissions, cumulative };
}

/** assertWholePiece: an emission is punctuation, a list envelope, or a complete JSON value. */
function assertWholePiece(emission: string): void {
  if (/^[\s,\]}]*$/.test(emission)) return;
  if (emission.startsWith('{') && emission.endsWith('[')) return;
  assert.doesNotThrow(() => JSON.parse(emission), `emitted a fragment: ${emission.slice(0, 80)}`);
}

function assertMasked(r: Row, out: string): void {
  assert.deepEqual(r.planted.leaks(out), [], 'no planted clear value appears in the output');
  if (r.exact) {
    assert.equal(out, r.body);
    return;
  }
  const values = parseSequence(out);
  assert.deepEqual(values.map(signature), parseSequence(r.body).map(signature), 'only values changed: keys and other fields are kept');
  for (const value of values) assertPlaceholders(value);
  r.check?.(values);
}

function parseSequence(text: string): Json[] {
  try {
    return [JSON.parse(text) as Json];
  } catch {
    return text.replaceAll('}{', '}\n{').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Json);
  }
}

/** signature blanks values and the marker annotation, so input and output can be compared. */
function signature(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(signature);
  if (typeof value !== 'object' || value === null) return value;
  const out: Json = {};
  for (const [key, child] of Object.entries(value as Json)) {
    if (key === MASKED_ANNOTATION) continue;
    if (key === 'annotations' && isOnlyMarker(child)) continue;
    if ((key === 'data' || key === 'stringData') && typeof child === 'object' && child !== null) {
      out[key] = Object.fromEntries(Object.keys(child).map((k) => [k, '*']));
    } else if (key === LAST_APPLIED_ANNOTATION && typeof child === 'string') {
      out[key] = signature(JSON.parse(child));
    } else {
      const sig = signature(child);
      // markMasked creates metadata on an object that had none; blank it like the marker.
      if (key === 'metadata' && isOnlyMarker((child as Json).annotations) && Object.keys(child as Json).length === 1) continue;
      out[key] = sig;
    }
  }
  return out;
}

function isOnlyMarker(annotations: unknown): boolean {
  return typeof annotations === 'object' && annotations !== null && Object.keys(annotations).join() === MASKED_ANNOTATION;
}

/** assertPlaceholders: every Secret value in the output is a placeholder that decodes. */
function assertPlaceholders(value: unknown, masked = false): void {
  if (Array.isArray(value)) return value.forEach((v) => assertPlaceholders(v));
  if (typeof value !== 'object' || value === null) return;
  const obj = value as Json;
  if (obj.kind === 'Status' || obj.kind === 'ConfigMap') return;
  if (typeof obj.data === 'object' && obj.data !== null) {
    for (const [key, v] of Object.entries(obj.data)) assert.ok(decodePlaceholder(v), `data.${key} decodes to a placeholder`);
    if (!masked && Object.keys(obj.data).length > 0) {
      assert.equal(((obj.metadata as Json | undefined)?.annotations as Json | undefined)?.[MASKED_ANNOTATION], 'data', 'masked objects are marked');
    }
  }
  if (typeof obj.stringData === 'object' && obj.stringData !== null) {
    for (const v of Object.values(obj.stringData)) assert.ok(String(v).startsWith(PLACEHOLDER_PREFIX));
  }
  const annotations = (obj.metadata as Json | undefined)?.annotations as Json | undefined;
  const applied = annotations?.[LAST_APPLIED_ANNOTATION];
  if (typeof applied === 'string') {
    assertPlaceholders(JSON.parse(applied), true);
    assert.equal(annotations?.[MASKED_ANNOTATION], 'data');
  }
  for (const [key, child] of Object.entries(obj)) if (key !== 'metadata') assertPlaceholders(child, masked);
}
