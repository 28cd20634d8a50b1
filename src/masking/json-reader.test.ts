import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isAirlockError } from '../errors.js';
import { JsonReader } from './json-reader.js';

function accepts(text: string): boolean {
  try {
    new JsonReader(Buffer.from(text)).document();
    return true;
  } catch (err) {
    assert.ok(isAirlockError(err, 'AIRLOCK_MASK_INVALID_JSON'), `unexpected ${String(err)}`);
    return false;
  }
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

const rows: { name: string; text: string; valid: boolean }[] = [
  { name: 'an object with every kind of value', text: '{"a":1,"b":-0.5e+3,"c":"x\\"y\\u00e9","d":[true,false,null],"e":{}}', valid: true },
  { name: 'whitespace everywhere', text: ' \n{ "a" : [ 1 , 2 ] }\r\n', valid: true },
  { name: 'a trailing comma in an object', text: '{"a":1,}', valid: false },
  { name: 'a trailing comma in an array', text: '[1,]', valid: false },
  { name: 'a missing comma', text: '{"a":1 "b":2}', valid: false },
  { name: 'a missing colon', text: '{"a" 1}', valid: false },
  { name: 'a bare word', text: '{"a":yes}', valid: false },
  { name: 'a leading zero', text: '[01]', valid: false },
  { name: 'a lone minus', text: '[-]', valid: false },
  { name: 'a bad escape', text: '["\\x41"]', valid: false },
  { name: 'a short unicode escape', text: '["\\u12"]', valid: false },
  { name: 'an unterminated string', text: '{"a":"b}', valid: false },
  { name: 'a mismatched bracket', text: '{"a":[1}', valid: false },
  { name: 'two values', text: '{} {}', valid: false },
  { name: 'nothing', text: '   ', valid: false },
  { name: 'deep nesting is refused before the stack is', text: '['.repeat(5000) + ']'.repeat(5000), valid: false },
];

describe('JsonReader validates like JSON.parse', () => {
  for (const r of rows) {
    it(`${r.name} → ${r.valid ? 'accepted' : 'refused'}`, () => assert.equal(accepts(r.text), r.valid));
  }

  it('every JSON document fast-check generates is accepted', () => {
    fc.assert(fc.property(fc.json(), (text) => accepts(text)), { numRuns: 2000 });
  });

  it('random JSON-like text is accepted exactly when JSON.parse accepts it (no raw control characters)', () => {
    const alphabet = fc.constantFrom(...'{}[]:,"\\ 0123456789.-+eEtruefalsnu'.split(''));
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 24 }), (chars) => {
        const text = chars.join('');
        assert.equal(accepts(text), parses(text), JSON.stringify(text));
      }),
      { numRuns: 20000 },
    );
  });

  it('members report the key and value ranges of an object, with children near the top', () => {
    const text = '{"kind":"Secret","metadata":{"annotations":{"a":"b"}},"data":{"k":"dg=="}}';
    const reader = new JsonReader(Buffer.from(text));
    const { members } = reader.document();
    assert.deepEqual(members!.map((m) => reader.key(m)), ['kind', 'metadata', 'data']);
    const metadata = members![1]!;
    const annotations = reader.members(metadata)[0]!;
    assert.ok(reader.keyIs(annotations, 'annotations'));
    assert.equal(text.slice(reader.members(annotations)[0]!.valueStart, reader.members(annotations)[0]!.valueEnd), '"b"');
  });

  it('keyIs matches escaped keys by their text', () => {
    const reader = new JsonReader(Buffer.from('{"d\\u0061ta":1,"dat":2,"datax":3}'));
    const [escaped, short, long] = reader.document().members!;
    assert.ok(reader.keyIs(escaped!, 'data'));
    assert.ok(!reader.keyIs(short!, 'data'));
    assert.ok(!reader.keyIs(long!, 'data'));
  });
});
