/**
 * TarReader lists archives written by real GNU tar in its three formats (gnu: `L` long names;
 * posix: PAX `path`; ustar: `prefix`), with symlinks and directories, identically however the
 * bytes are cut; malformed archives are refused with AIRLOCK_K8S_TAR_MALFORMED.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { splits } from './channel/split-read.test-helper.js';
import { TarReader, type TarFile } from './tar-reader.js';

const longDir = `d${'x'.repeat(60)}/e${'y'.repeat(60)}`;
const longName = `${longDir}/file-${'z'.repeat(40)}.txt`;

function readAll(chunks: Uint8Array[]): { files: TarFile[]; ended: boolean; bytes: number } {
  const tar = new TarReader();
  const files: TarFile[] = [];
  for (const chunk of chunks) files.push(...tar.push(chunk));
  return { files, ended: tar.ended, bytes: tar.bytes };
}

const hasTar = spawnSync('tar', ['--version']).status === 0;

describe('TarReader on archives written by GNU tar', { skip: hasTar ? false : 'tar is not installed' }, () => {
  let dir: string;
  const archives = new Map<string, Buffer>();
  const expected: TarFile[] = [
    { name: 'src/', size: 0, type: 'directory' },
    { name: 'src/a.txt', size: 5, type: 'file' },
    { name: 'src/big.bin', size: 70_000, type: 'file' },
    { name: 'src/empty', size: 0, type: 'file' },
    { name: 'src/link', size: 0, type: 'symlink', link: 'a.txt' },
    { name: `src/${longDir}/`, size: 0, type: 'directory' },
    { name: `src/${longName}`, size: 3, type: 'file' },
  ];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-tar-reader-'));
    const src = join(dir, 'src');
    mkdirSync(join(src, longDir), { recursive: true });
    writeFileSync(join(src, 'a.txt'), 'hello');
    writeFileSync(join(src, 'big.bin'), Buffer.alloc(70_000, 7));
    writeFileSync(join(src, 'empty'), '');
    symlinkSync('a.txt', join(src, 'link'));
    writeFileSync(join(src, longName), 'abc');
    for (const format of ['gnu', 'posix', 'ustar']) {
      const names = ['src', 'src/a.txt', 'src/big.bin', 'src/empty', 'src/link', `src/${longDir}`, `src/${longName}`];
      const r = spawnSync('tar', ['--format', format, '--no-recursion', '-cf', '-', ...names], { cwd: dir, maxBuffer: 1 << 24 });
      assert.equal(r.status, 0, r.stderr.toString());
      archives.set(format, r.stdout);
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const format of ['gnu', 'posix', 'ustar']) {
    it(`lists every entry of a ${format} archive with its name, size, type and link, and sees its end`, () => {
      const archive = archives.get(format)!;
      const { files, ended, bytes } = readAll([archive]);
      assert.deepEqual(files, expected);
      assert.equal(ended, true);
      assert.equal(bytes, archive.length);
    });
  }

  it('gives the same list at every cut point and one byte at a time, never from a partial header', () => {
    const archive = archives.get('posix')!;
    const whole = readAll([archive]);
    // Every cut through the first 8 KiB (headers, PAX records) and around the end marker.
    const head = archive.subarray(0, 8192);
    for (const [name, chunks] of splits(head)) {
      assert.deepEqual(readAll([...chunks, archive.subarray(8192)]).files, whole.files, name);
    }
    const tar = new TarReader();
    const seen: TarFile[] = [];
    for (let i = 0; i < archive.length; i++) {
      const got = tar.push(archive.subarray(i, i + 1));
      seen.push(...got);
    }
    assert.deepEqual(seen, whole.files, 'one byte at a time');
    assert.equal(tar.ended, true);
    const partial = new TarReader();
    assert.deepEqual(partial.push(archive.subarray(0, 511)), [], 'nothing from 511 bytes of a header');
  });

  it('every split of a small archive lists the same files', () => {
    const r = spawnSync('tar', ['--format', 'gnu', '-cf', '-', 'src/a.txt', `src/${longName}`], { cwd: dir });
    const archive = r.stdout;
    const whole = readAll([archive]).files;
    assert.equal(whole.length, 2);
    for (const [name, chunks] of splits(archive)) assert.deepEqual(readAll(chunks).files, whole, name);
  });
});

function header(name: string, size: number, type = '0'): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0);
  h.write('0000644\0', 100);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('        ', 148);
  h.write(type, 156);
  h.write('ustar\x0000', 257);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

const end = Buffer.alloc(1024);

const malformedCases: Array<[string, Buffer]> = [
  ['a header whose checksum does not match', (() => { const h = header('a', 1); h[0] = 0x62; return Buffer.concat([h, Buffer.alloc(512), end]); })()],
  ['text that is not tar at all', Buffer.from('total 0\n'.repeat(100))],
  ['a size that is not octal', (() => { const h = header('a', 0); h.write('9', 124); return h; })()],
  ['data after the end-of-archive marker', Buffer.concat([header('a', 0), end, Buffer.from('x')])],
  ['a header after a single zero block', Buffer.concat([header('a', 0), Buffer.alloc(512), header('b', 0)])],
  ['a PAX record with a bad length', Buffer.concat([header('PaxHeaders/a', 12, 'x'), Buffer.from('99 path=a\n\0\0'.padEnd(512, '\0')), header('a', 0), end])],
  ['a long name larger than airlock reads', header('././@LongLink', 2 * 1024 * 1024, 'L')],
];

describe('TarReader refuses what is not tar', () => {
  for (const [title, bytes] of malformedCases) {
    it(`refuses ${title} with AIRLOCK_K8S_TAR_MALFORMED`, () => {
      assert.throws(() => readAll([bytes]), (err: Error & { code?: string }) => err.code === 'AIRLOCK_K8S_TAR_MALFORMED');
    });
  }

  it('accepts the zero padding GNU tar writes after the end marker', () => {
    const r = readAll([Buffer.concat([header('a', 3), Buffer.from('abc'.padEnd(512, '\0')), end, Buffer.alloc(8192)])]);
    assert.deepEqual(r.files, [{ name: 'a', size: 3, type: 'file' }]);
    assert.equal(r.ended, true);
  });

  it('reads a GNU base-256 size', () => {
    const h = header('huge', 0);
    const field = Buffer.alloc(12);
    field[0] = 0x80;
    field.writeUIntBE(9 * 1024 ** 3, 6, 6);
    field.copy(h, 124);
    h.write('        ', 148);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    assert.deepEqual(new TarReader().push(h), [{ name: 'huge', size: 9 * 1024 ** 3, type: 'file' }]);
  });
});
