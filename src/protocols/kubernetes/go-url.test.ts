import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareGoStrings, goBool, isGoInt64, parseGoQuery, percentDecode, splitTarget } from './go-url.js';

const queries: Array<[string, string, Record<string, string[]>]> = [
  ['repeated keys keep request order', 'a=1&a=2&b=3', { a: ['1', '2'], b: ['3'] }],
  ['"+" is a space and escapes decode', 'q=a+b%2Bc%3D', { q: ['a b+c='] }],
  ['a key without "=" has an empty value', 'watch', { watch: [''] }],
  ['only the first "=" splits', 'fieldSelector=metadata.name=x', { fieldSelector: ['metadata.name=x'] }],
  ['empty pairs are skipped', '&&a=1&', { a: ['1'] }],
  ['a pair holding ";" is dropped (Go ≥ 1.17)', 'a=1;b=2&c=3', { c: ['3'] }],
  ['a pair with a bad escape in the value is dropped', 'a=%zz&b=1', { b: ['1'] }],
  ['a pair with a bad escape in the key is dropped', '%g=1&b=1', { b: ['1'] }],
  ['a truncated escape is dropped', 'a=%4', {}],
  ['"#" is data', 'a=b#c', { a: ['b#c'] }],
  ['an empty key is kept', '=x', { '': ['x'] }],
  ['UTF-8 escapes decode to text', 'n=%C3%A9', { n: ['é'] }],
];

for (const [title, raw, expected] of queries) {
  test(`parseGoQuery: ${title} (${JSON.stringify(raw)})`, () => {
    assert.deepEqual(Object.fromEntries(parseGoQuery(raw)), expected);
  });
}

const bools: Array<[string[] | undefined, boolean]> = [
  [undefined, false], [[], false], [['0'], false], [['false'], false], [['FaLsE'], false],
  [[''], true], [['1'], true], [['true'], true], [['no'], true], [['false', 'true'], false], [['true', 'false'], true],
];
for (const [values, expected] of bools) {
  test(`goBool(${JSON.stringify(values)}) is ${expected}, as Convert_Slice_string_To_bool`, () => {
    assert.equal(goBool(values), expected);
  });
}

const ints: Array<[string, boolean]> = [
  ['0', true], ['500', true], ['-1', true], ['+7', true], ['9223372036854775807', true], ['-9223372036854775808', true],
  ['9223372036854775808', false], ['', false], ['1.5', false], ['1_000', false], ['0x10', false], [' 1', false], ['١', false],
];
for (const [text, ok] of ints) {
  test(`isGoInt64(${JSON.stringify(text)}) is ${ok}, as strconv.ParseInt(s, 10, 64)`, () => {
    assert.equal(isGoInt64(text), ok);
  });
}

test('percentDecode keeps "+" in a path and refuses a "%" without two hex digits', () => {
  assert.deepEqual([...(percentDecode('a+b%2f', false) ?? [])], [0x61, 0x2b, 0x62, 0x2f]);
  assert.equal(percentDecode('%', false), undefined);
  assert.equal(percentDecode('%a', false), undefined);
});

test('splitTarget cuts at the first "?" only and keeps "#" as data', () => {
  assert.deepEqual(splitTarget('/a#b?c?d'), { rawPath: '/a#b', rawQuery: 'c?d' });
  assert.deepEqual(splitTarget('/a'), { rawPath: '/a', rawQuery: '' });
});

test('compareGoStrings orders by UTF-8 bytes, not UTF-16 code units', () => {
  // U+FF61 is one UTF-16 unit above a surrogate pair's first unit, but below U+10000 in UTF-8.
  assert.ok(compareGoStrings('\uFF61', '\u{10000}') < 0);
  assert.ok('\uFF61' > '\u{10000}');
});
