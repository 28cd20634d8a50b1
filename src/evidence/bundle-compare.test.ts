import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileRecords as records } from '../ledger/file-records.js';
import { compareInStep, explainDifference, type DerivedFile } from './bundle-compare.js';

const dir = mkdtempSync(join(tmpdir(), 'airlock-compare-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string, separator: '\n' | '\r\n' = '\n'): DerivedFile {
  const path = join(dir, name);
  writeFileSync(path, content);
  return { path, name, separator, noun: separator === '\n' ? 'line' : 'record', describe: (r) => r.slice(0, 20) };
}

const from = (texts: string[]) => async function* () {
  for (const t of texts) yield [t];
};

async function check(f: DerivedFile, expected: string[]): Promise<string[]> {
  const problems: string[] = [];
  const differ = await compareInStep([f], from(expected));
  if (differ.has(f)) {
    await explainDifference(f, async function* () {
      for (const t of expected) yield t;
    }, problems);
  }
  return problems;
}

describe('bundle-compare', () => {
  it('reads records across chunk boundaries, skipping empty ones', async () => {
    const long = 'x'.repeat(300_000);
    const f = file('long.jsonl', `a\n\n${long}\nb\n`);
    const got: string[] = [];
    for await (const r of records(f.path, '\n')) got.push(r);
    assert.deepEqual(got.map((r) => r.length), [1, 300_000, 1]);
  });

  it('an identical file differs in nothing; a CSV cell holding a CRLF is read as the writer wrote it', async () => {
    assert.deepEqual(await check(file('same.jsonl', 'one\ntwo\n'), ['one\n', 'two\n']), []);
    assert.deepEqual(await check(file('same.csv', 'h1,h2\r\n"a\r\nb",c\r\n', '\r\n'), ['h1,h2\r\n', '"a\r\nb",c\r\n']), []);
  });

  it('names added, changed and dropped records, and says when only the order changed', async () => {
    assert.deepEqual(await check(file('added.jsonl', 'one\nextra\ntwo\n'), ['one', 'two']), ['added.jsonl: a line the ledger segment does not hold (added or changed): extra']);
    assert.deepEqual(await check(file('dropped.jsonl', 'one\n'), ['one', 'two']), ['dropped.jsonl: a ledger entry has no line here (dropped or changed): two']);
    assert.deepEqual(await check(file('changed.jsonl', 'one\nTWO\n'), ['one', 'two']), [
      'changed.jsonl: a line the ledger segment does not hold (added or changed): TWO',
      'changed.jsonl: a ledger entry has no line here (dropped or changed): two',
    ]);
    assert.deepEqual(await check(file('order.jsonl', 'two\none\n'), ['one', 'two']), ['order.jsonl: its lines are out of ledger order']);
    // A duplicated record is an addition even though its text is known.
    assert.deepEqual(await check(file('twice.jsonl', 'one\none\ntwo\n'), ['one', 'two']), ['twice.jsonl: a line the ledger segment does not hold (added or changed): one']);
  });

  it('a missing file is said to be missing', async () => {
    const f: DerivedFile = { path: join(dir, 'absent.jsonl'), name: 'absent.jsonl', separator: '\n', noun: 'line', describe: (r) => r };
    assert.deepEqual(await check(f, ['one']), ['absent.jsonl is missing']);
  });
});
