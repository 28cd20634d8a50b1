import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { isAirlockError } from '../../../errors.js';
import { fileTokenSource, staticTokenSource } from './token-source.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'airlock-token-source-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A clock the test moves by hand, and a logger whose lines the test reads. */
function harness() {
  let t = 1_000_000;
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
  return { now: () => t, advance: (ms: number) => (t += ms), lines, logger };
}

/** rewrite writes a file and sets its mtime's mtime explicitly, so a rewrite within one clock tick still counts as a change. */
function rewrite(path: string, text: string, mtimeSeconds: number): void {
  writeFileSync(path, text);
  utimesSync(path, mtimeSeconds, mtimeSeconds);
}

describe('fileTokenSource', () => {
  it('reads the token at open, trimmed of the trailing newline', async () => {
    const path = join(dir, 'open');
    writeFileSync(path, 'token-one\n');
    const source = await fileTokenSource(path, { connection: 'prod' });
    assert.equal(source.current(), 'token-one');
    assert.equal(source.description, `bearer token from file ${path} (re-read when it changes)`);
  });

  it('a rotated file is picked up at the first check after the interval, not before', async () => {
    const h = harness();
    const path = join(dir, 'rotate');
    rewrite(path, 'token-one', 1000);
    const source = await fileTokenSource(path, { connection: 'prod', now: h.now, checkIntervalMs: 5000, logger: h.logger });
    rewrite(path, 'token-two', 2000);
    h.advance(4999);
    assert.equal(source.current(), 'token-one', 'not checked again before the interval');
    h.advance(1);
    assert.equal(source.current(), 'token-two');
    assert.ok(h.lines.some((l) => l.includes('the upstream token file changed')));
    assert.ok(h.lines.every((l) => !l.includes('token-two') && !l.includes('token-one')), 'the log never holds a token');
  });

  it('a kubelet-style symlink swap is seen even when the mtime is unchanged', async () => {
    const h = harness();
    mkdirSync(join(dir, 'sa', '..2024_a'), { recursive: true });
    mkdirSync(join(dir, 'sa', '..2024_b'), { recursive: true });
    rewrite(join(dir, 'sa', '..2024_a', 'token'), 'projected-one', 3000);
    rewrite(join(dir, 'sa', '..2024_b', 'token'), 'projected-two', 3000);
    symlinkSync('..2024_a', join(dir, 'sa', '..data'));
    symlinkSync('..data/token', join(dir, 'sa', 'token'));
    const source = await fileTokenSource(join(dir, 'sa', 'token'), { connection: 'prod', now: h.now, checkIntervalMs: 1000 });
    assert.equal(source.current(), 'projected-one');
    symlinkSync('..2024_b', join(dir, 'sa', '..data_tmp'));
    renameSync(join(dir, 'sa', '..data_tmp'), join(dir, 'sa', '..data'));
    h.advance(1000);
    assert.equal(source.current(), 'projected-two');
  });

  it('a file that disappears or empties keeps the last good token and warns once, without the token', async () => {
    const h = harness();
    const path = join(dir, 'vanish');
    rewrite(path, 'still-good', 1000);
    const source = await fileTokenSource(path, { connection: 'prod', now: h.now, checkIntervalMs: 10, logger: h.logger });
    unlinkSync(path);
    for (let i = 0; i < 3; i++) {
      h.advance(10);
      assert.equal(source.current(), 'still-good');
    }
    const warnings = h.lines.filter((l) => l.includes('cannot be read (ENOENT)'));
    assert.equal(warnings.length, 1, 'the same failure is reported once');
    rewrite(path, '', 2000);
    h.advance(10);
    assert.equal(source.current(), 'still-good');
    assert.ok(h.lines.some((l) => l.includes('token file is empty')));
    rewrite(path, 'fresh', 3000);
    h.advance(10);
    assert.equal(source.current(), 'fresh');
    assert.ok(h.lines.every((l) => !l.includes('still-good') && !l.includes('fresh')));
  });

  const refused: Array<{ name: string; content?: string; message: RegExp }> = [
    { name: 'a missing file is refused at open, naming it', message: /connection "prod": the token file .*missing cannot be read \(ENOENT\)/ },
    { name: 'an empty file is refused at open', content: '\n', message: /the token file .* is empty/ },
    { name: 'a token with a space inside is refused (it would corrupt the header)', content: 'abc def\n', message: /cannot have/ },
    { name: 'a token with a line break inside is refused', content: 'abc\r\nX-Evil: 1', message: /cannot have/ },
  ];
  for (const row of refused) {
    it(row.name, async () => {
      const path = join(dir, 'missing');
      if (row.content !== undefined) writeFileSync(path, row.content);
      else rmSync(path, { force: true });
      await assert.rejects(fileTokenSource(path, { connection: 'prod' }), (err: unknown) => {
        assert.ok(isAirlockError(err, 'AIRLOCK_UPSTREAM_CONFIG'));
        assert.match(err.message, row.message);
        assert.ok(!err.message.includes('abc'), 'the message never quotes the file');
        return true;
      });
      rmSync(path, { force: true });
    });
  }
});

describe('staticTokenSource', () => {
  it('returns the configured token, trimmed', () => {
    assert.equal(staticTokenSource('prod', ' tok \n', 'from configuration').current(), 'tok');
  });
  it('refuses an unusable token without quoting it', () => {
    assert.throws(() => staticTokenSource('prod', 'se cret', 'from configuration'), (err: unknown) => {
      assert.ok(isAirlockError(err, 'AIRLOCK_UPSTREAM_CONFIG'));
      assert.ok(!err.message.includes('se cret'));
      return true;
    });
  });
});
