import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkNesting, MAX_BODY_INDENT, MAX_BODY_NESTING, parseBody } from './body-format.js';

describe('request bodies nested too deep are refused before anything parses them', () => {
  it('a real object passes, and so do brackets that close again', () => {
    const deployment = { spec: { template: { spec: { containers: [{ env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] }] } } } };
    checkNesting(JSON.stringify(deployment));
    checkNesting('[]'.repeat(100_000));
    checkNesting(`${'  '.repeat(40)}deep: value\n`);
  });

  it('more brackets open at once than the limit is an error saying so, quoted or not', () => {
    assert.throws(() => checkNesting('['.repeat(MAX_BODY_NESTING + 1)), /nests deeper than 256 levels/);
    assert.throws(() => checkNesting(`{"a":"${'{'.repeat(MAX_BODY_NESTING + 1)}"}`), /nests deeper/);
    // YAML quoting cannot hide the nesting: a single-quoted '"' does not start a string for the count.
    assert.throws(() => checkNesting(`a: '"'\nb: ${'['.repeat(MAX_BODY_NESTING + 1)}`), /nests deeper/);
    checkNesting('['.repeat(MAX_BODY_NESTING) + ']'.repeat(MAX_BODY_NESTING));
  });

  it('block YAML indented further than the limit is an error', () => {
    assert.throws(() => checkNesting(`a:\n${' '.repeat(MAX_BODY_INDENT + 1)}b: 1\n`), /indents a line deeper than 1000 columns/);
  });

  it('parseBody refuses before parsing, for JSON and for YAML', () => {
    const deep = '{"a":'.repeat(2000) + '1' + '}'.repeat(2000);
    for (const format of ['json', 'yaml', 'apply-patch', 'merge-patch'] as const) {
      assert.throws(() => parseBody(format, Buffer.from(deep)), /nests deeper than 256 levels/, format);
    }
    assert.deepEqual(parseBody('yaml', Buffer.from('a: [1, {b: 2}]\n')), { a: [1, { b: 2 }] });
  });
});
