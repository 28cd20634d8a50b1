import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import canonicalizeModule from 'canonicalize';
import { assembleCanonical, encodeEntry, encodeParts, entryHash, GENESIS_HASH, jcs } from './canonical.js';

// The `canonicalize` package (RFC 8785 reference) is the oracle our encoder must match.
const canonicalize = (typeof canonicalizeModule === 'function' ? canonicalizeModule : (canonicalizeModule as any).default) as (
  v: unknown,
) => string;

/** shuffleKeys rebuilds every object with its keys in a different order. */
function shuffleKeys(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((v, i) => shuffleKeys(v, seed + i));
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value);
  const rotated = keys.map((_, i) => keys[(i + seed) % keys.length] as string).reverse();
  // fromEntries defines own properties, so a "__proto__" key stays a key.
  return Object.fromEntries(rotated.map((k) => [k, shuffleKeys((value as Record<string, unknown>)[k], seed + 1)]));
}

const entryArb = fc.record(
  {
    id: fc.uuid(),
    time: fc.date({ min: new Date(0), max: new Date(8.64e15 / 2), noInvalidDate: true }).map((d) => d.toISOString()),
    type: fc.constantFrom('request', 'stream', 'system', 'approval.approved'),
    sessionId: fc.string(),
    connection: fc.string(),
    approvalId: fc.string(),
    action: fc.dictionary(fc.string(), fc.jsonValue()),
    data: fc.dictionary(fc.string(), fc.jsonValue()),
  },
  { requiredKeys: ['id', 'time', 'type'] },
);

test('jcs matches the canonicalize reference byte for byte on arbitrary JSON', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      assert.equal(jcs(value), canonicalize(value));
    }),
    { numRuns: 2000 },
  );
});

test('the encoding is deterministic under key reordering', () => {
  fc.assert(
    fc.property(fc.jsonValue(), fc.nat(10), (value, seed) => {
      assert.equal(jcs(shuffleKeys(value, seed)), jcs(value));
    }),
    { numRuns: 1000 },
  );
});

test('distinct values have distinct encodings, and an encoding decodes to its value', () => {
  fc.assert(
    fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
      const same = jcs(JSON.parse(JSON.stringify(a))) === jcs(JSON.parse(JSON.stringify(b)));
      assert.equal(same, JSON.stringify(JSON.parse(jcs(a))) === JSON.stringify(JSON.parse(jcs(b))));
      assert.equal(jcs(JSON.parse(jcs(a))), jcs(a));
    }),
    { numRuns: 1000 },
  );
});

test('entries differing in any one field encode differently', () => {
  fc.assert(
    fc.property(entryArb, fc.string({ minLength: 1 }), (entry, extra) => {
      const base = { ...entry, chain: 'main', seq: 1 };
      for (const key of Object.keys(base)) {
        const changed = { ...base, [key]: typeof (base as any)[key] === 'number' ? 2 : `${JSON.stringify((base as any)[key])}${extra}` };
        assert.notEqual(encodeEntry(changed as any), encodeEntry(base as any), key);
      }
    }),
    { numRuns: 300 },
  );
});

test('entries encoded in parts and sealed later equal the whole entry encoded at once', () => {
  fc.assert(
    fc.property(entryArb, fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (entry, chain, seq) => {
      assert.equal(assembleCanonical(encodeParts(entry), chain, seq), canonicalize({ ...entry, chain, seq }));
    }),
    { numRuns: 1000 },
  );
});

test('values JSON cannot carry faithfully are refused, not converted', () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const cases: { name: string; value: unknown }[] = [
    { name: 'NaN', value: { n: Number.NaN } },
    { name: 'Infinity', value: [Number.POSITIVE_INFINITY] },
    { name: 'BigInt', value: { n: 10n } },
    { name: 'Date', value: { at: new Date(0) } },
    { name: 'Map', value: { m: new Map() } },
    { name: 'function', value: { f: () => 1 } },
    { name: 'symbol', value: { s: Symbol('x') } },
    { name: 'undefined in an array', value: [1, undefined] },
    { name: 'a cycle', value: cyclic },
  ];
  for (const c of cases) assert.throws(() => jcs(c.value), TypeError, c.name);
});

test('undefined object members are omitted, as if absent', () => {
  assert.equal(jcs({ b: 1, a: undefined, c: { d: undefined } }), '{"b":1,"c":{}}');
});

test('keys sort by UTF-16 code units, as RFC 8785 requires (not by code points)', () => {
  // RFC 8785 §3.2.3: U+1F600 (surrogates D83D DE00) sorts before U+FB33 although its code point is larger.
  assert.equal(jcs({ '\ufb33': 1, '\u{1f600}': 2, '\u20ac': 3, a: 4, '\r': 5 }), '{"\\r":5,"a":4,"\u20ac":3,"\u{1f600}":2,"\ufb33":1}');
});

test('an entry hash covers the previous hash: the same entry after different predecessors hashes differently', () => {
  const canonical = encodeEntry({ id: 'x', time: '2025-01-01T00:00:00.000Z', type: 'request', chain: 'main', seq: 1 });
  assert.match(entryHash(GENESIS_HASH, canonical), /^[0-9a-f]{64}$/);
  assert.notEqual(entryHash(GENESIS_HASH, canonical), entryHash('1'.repeat(64), canonical));
});

test('the worked example in docs/ledger.md encodes and hashes to the documented values', () => {
  const entry = {
    chain: 'main',
    seq: 1,
    id: '01936f0e-8c4a-7b2e-9d1f-3a5b7c9e1f20',
    time: '2025-01-15T09:30:00.000Z',
    type: 'request',
    sessionId: 'sess-1',
    identity: { subject: 'agent:deploy-bot', groups: ['agents'], issuer: 'https://issuer.example.com', kind: 'agent' as const, tokenId: 'jti-42', via: 'builtin' },
    connection: 'prod',
    action: { protocol: 'kubernetes', connection: 'prod', verb: 'get', resource: 'pods', namespace: 'default', name: 'web-1' },
    decision: { effect: 'allow' as const, rules: ['read-pods'], message: 'reads are allowed' },
    response: { contentType: 'application/json', size: 14, sha256: 'dde6f7283be17006b9345d53e683e0c0edc4efcd393a5c6afc29cd5ba98b33df', inline: '{"kind":"Pod"}' },
    data: { status: 200 },
  };
  const canonical =
    '{"action":{"connection":"prod","name":"web-1","namespace":"default","protocol":"kubernetes","resource":"pods","verb":"get"},' +
    '"chain":"main","connection":"prod","data":{"status":200},"decision":{"effect":"allow","message":"reads are allowed","rules":["read-pods"]},' +
    '"id":"01936f0e-8c4a-7b2e-9d1f-3a5b7c9e1f20","identity":{"groups":["agents"],"issuer":"https://issuer.example.com","kind":"agent",' +
    '"subject":"agent:deploy-bot","tokenId":"jti-42","via":"builtin"},"response":{"contentType":"application/json","inline":"{\\"kind\\":\\"Pod\\"}",' +
    '"sha256":"dde6f7283be17006b9345d53e683e0c0edc4efcd393a5c6afc29cd5ba98b33df","size":14},"seq":1,"sessionId":"sess-1",' +
    '"time":"2025-01-15T09:30:00.000Z","type":"request"}';
  assert.equal(encodeEntry(entry), canonical);
  assert.equal(entryHash(GENESIS_HASH, canonical), '40f1529c3581a1e0052362de5bdf6d7ea408878eea1938f30122c5bb1d59dcc6');
});
