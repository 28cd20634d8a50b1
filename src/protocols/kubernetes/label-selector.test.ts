import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isQualifiedName, isValidLabelValue, labelSelectorError } from './label-selector.js';

/** Selectors Go's `labels.Parse` accepts (from apimachinery's selector tests, plus lexer quirks). */
const accepted: Array<[string, string]> = [
  ['the empty selector', ''],
  ['equality terms', 'x=a,y=b,z=c'],
  ['inequality and equality', 'x!=a,y=b'],
  ['an empty value', 'x='],
  ['an empty value before a space', 'x= '],
  ['empty values in several terms', 'x=,z= '],
  ['double equals', 'x==a'],
  ['does-not-exist', '!x'],
  ['exists', 'x'],
  ['greater-than an integer', 'x>1'],
  ['greater-than and less-than', 'x>1,z<5'],
  ['a leading zero integer', 'x>01'],
  ['set membership', 'x in (a,b)'],
  ['set exclusion', 'x notin (a,b)'],
  ['an empty set', 'x in ()'],
  ['a set with empty members', 'x in (foo,,baz),y,z notin ()'],
  ['a set written without spaces before "("', 'x in(a)'],
  ['"in" as a key', 'in=a'],
  ['"in" as a value', 'x in (in)'],
  ['spaces around operators', ' x = a , y != b '],
  ['tabs and newlines as spaces', 'x\t=\na'],
  ['a prefixed key', 'example.com/app=web'],
  ['a 63-character name', `${'a'.repeat(63)}=b`],
  ['a 63-character value', `a=${'b'.repeat(63)}`],
  ['a NUL byte where a token starts ends the selector, as in Go', 'x=a \u0000 garbage ((('],
];

/** Selectors Go refuses. */
const refused: Array<[string, string]> = [
  ['"||"', 'x=a||y=b'],
  ['a chained "=="', 'x==a==b'],
  ['a value after does-not-exist', '!x=a'],
  ['a non-integer with "<"', 'x<a'],
  ['a negative integer (not a label value)', 'x>-1'],
  ['a trailing comma', 'x=a,'],
  ['a leading comma', ',x=a'],
  ['two values', 'x=a b'],
  ['a set without parentheses', 'x in a'],
  ['an unclosed set', 'x in (a,b'],
  ['an operator inside a set', 'x in (a=b)'],
  ['an empty prefix', '/c=d'],
  ['an upper-case prefix', 'A.B/c=d'],
  ['two slashes in a key', 'a/b/c=d'],
  ['a 64-character name', `${'a'.repeat(64)}=b`],
  ['a 64-character value', `a=${'b'.repeat(64)}`],
  ['a value starting with "-"', 'a=-b'],
  ['a lone "("', '('],
  ['a lone "="', '='],
  ['a non-ASCII key', 'é=a'],
  ['a "!" after a term', 'x=a!'],
  ['an unknown operator', 'x ~ a'],
  ['a NUL byte inside a value splits it in two, as in Go', 'x=a\u0000b'],
];

for (const [title, selector] of accepted) {
  test(`labelSelectorError accepts ${title} (${JSON.stringify(selector)}), as Go does`, () => {
    assert.equal(labelSelectorError(selector), undefined);
  });
}

for (const [title, selector] of refused) {
  test(`labelSelectorError refuses ${title} (${JSON.stringify(selector)}), as Go does`, () => {
    assert.equal(typeof labelSelectorError(selector), 'string');
  });
}

const names: Array<[string, boolean]> = [
  ['app', true],
  ['app.kubernetes.io/name', true],
  ['My_Name-1.x', true],
  ['-app', false],
  ['app-', false],
  ['', false],
  ['example.com/', false],
  ['Example.com/app', false],
  [`${'a'.repeat(254)}/app`, false],
];
for (const [name, ok] of names) {
  test(`isQualifiedName(${JSON.stringify(name.length > 40 ? `${name.slice(0, 12)}…` : name)}) is ${ok}`, () => {
    assert.equal(isQualifiedName(name), ok);
  });
}

test('isValidLabelValue accepts the empty value and refuses one over 63 characters', () => {
  assert.equal(isValidLabelValue(''), true);
  assert.equal(isValidLabelValue('a'.repeat(63)), true);
  assert.equal(isValidLabelValue('a'.repeat(64)), false);
});
