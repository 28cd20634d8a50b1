import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidPathSegmentName, parseFieldSelector, requiresExactMatch, unescapeValue } from './field-selector.js';

/** Parsed terms, in Go's sorted order (from apimachinery's fields selector tests). */
const parsed: Array<[string, string, Array<[string, string, string]>]> = [
  ['the empty selector', '', []],
  ['one equality', 'a=b', [['a', '=', 'b']]],
  ['double equals', 'a==b', [['a', '==', 'b']]],
  ['inequality', 'a!=b', [['a', '!=', 'b']]],
  ['terms sorted by their raw text', 'z=1,a=2', [['a', '=', '2'], ['z', '=', '1']]],
  ['an empty value', 'a=', [['a', '=', '']]],
  ['an empty field', '=b', [['', '=', 'b']]],
  ['an empty term is skipped', 'a=b,,c=d', [['a', '=', 'b'], ['c', '=', 'd']]],
  ['a term with empty field and value is dropped', '=,a=b', [['a', '=', 'b']]],
  ['escaped comma, equals and backslash', 'a=x\\,y\\=z\\\\', [['a', '=', 'x,y=z\\']]],
  ['the first operator position wins', 'a!=b=c', []],
  ['spaces are data', ' a = b ', [[' a ', '=', ' b ']]],
];

for (const [title, selector, terms] of parsed) {
  test(`parseFieldSelector reads ${title} (${JSON.stringify(selector)})`, () => {
    const result = parseFieldSelector(selector);
    if (terms.length === 0 && selector === 'a!=b=c') {
      assert.equal(result.ok, false); // value "b=c" holds a bare "="
      return;
    }
    assert.deepEqual(result, { ok: true, terms: terms.map(([field, operator, value]) => ({ field, operator, value })) });
  });
}

const invalid: Array<[string, string]> = [
  ['a term without operator', 'x'],
  ['a bare comma in a value', 'metadata.name=name1,foo'],
  ['a chained operator', 'x==a==b'],
  ['"||"', 'x=a||y=b'],
  ['a set expression', 'x in (a)'],
  ['an unknown escape', 'x=a\\b'],
  ['a trailing backslash', 'x=a\\'],
];
for (const [title, selector] of invalid) {
  test(`parseFieldSelector refuses ${title} (${JSON.stringify(selector)})`, () => {
    assert.equal(parseFieldSelector(selector).ok, false);
  });
}

const exact: Array<[string, string, string | undefined]> = [
  ['a single name', 'metadata.name=a', 'a'],
  ['the first after sorting', 'metadata.name=b,metadata.name=a', 'a'],
  ['"==" sorts before "=x"', 'metadata.name=y,metadata.name==x', 'x'],
  ['"!=" is no exact match', 'metadata.name!=a', undefined],
  ['another field', 'metadata.namespace=a', undefined],
  ['an empty name is still an exact match', 'metadata.name=', ''],
  ['a later exact term after a "!=" term', 'metadata.name!=a,metadata.name=b', 'b'],
];
for (const [title, selector, name] of exact) {
  test(`requiresExactMatch("metadata.name") gives ${JSON.stringify(name)} for ${title}`, () => {
    const result = parseFieldSelector(selector);
    assert.ok(result.ok);
    assert.equal(requiresExactMatch(result.terms, 'metadata.name'), name);
  });
}

test('unescapeValue returns plain values untouched and refuses bare "," and "="', () => {
  assert.equal(unescapeValue('plain'), 'plain');
  assert.equal(unescapeValue('a,b'), undefined);
  assert.equal(unescapeValue('a=b'), undefined);
});

const segments: Array<[string, boolean]> = [['name', true], ['', true], ['...', true], ['.', false], ['..', false], ['a/b', false], ['a%b', false]];
for (const [name, ok] of segments) {
  test(`isValidPathSegmentName(${JSON.stringify(name)}) is ${ok}`, () => {
    assert.equal(isValidPathSegmentName(name), ok);
  });
}
