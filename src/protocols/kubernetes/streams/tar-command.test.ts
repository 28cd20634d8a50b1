import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectTarTransfer, type TransferDirection } from './tar-command.js';

const cases: Array<[string, string[], TransferDirection | undefined]> = [
  ['kubectl cp download', ['tar', 'cf', '-', '/tmp/foo'], 'download'],
  ['kubectl cp upload', ['tar', '-xmf', '-', '-C', '/tmp'], 'upload'],
  ['kubectl cp upload without a directory', ['tar', '-xmf', '-'], 'upload'],
  ['tar by full path', ['/bin/tar', 'xf', '-', '-C', '/x'], 'upload'],
  ['separate options', ['tar', '-c', '-f', '-', 'a'], 'download'],
  ['the archive attached to -f', ['tar', '-cf-', 'a'], 'download'],
  ['long options', ['tar', '--create', '--file=-', 'a'], 'download'],
  ['long options with a separate value', ['tar', '--extract', '--file', '-'], 'upload'],
  ['verbose listing flags do not change the direction', ['tar', 'cvf', '-', 'a'], 'download'],
  ['a compressed archive is not readable as tar', ['tar', 'czf', '-', 'a'], undefined],
  ['--gzip', ['tar', '--gzip', '-cf', '-', 'a'], undefined],
  ['an archive written to a file', ['tar', 'cf', '/tmp/x.tar', 'a'], undefined],
  ['no archive named', ['tar', 'c', 'a'], undefined],
  ['listing an archive', ['tar', 'tf', '-'], undefined],
  ['both create and extract', ['tar', '-c', '-x', '-f', '-'], undefined],
  ['tar inside a shell pipeline', ['sh', '-c', 'tar cf - /x | tail -c+5'], undefined],
  ['a program merely named like tar', ['star', 'cf', '-', 'a'], undefined],
  ['no command (attach)', [], undefined],
];

describe('detectTarTransfer', () => {
  for (const [title, argv, expected] of cases) {
    it(`${title}: ${JSON.stringify(argv)} is ${expected ?? 'not a transfer'}`, () => {
      assert.equal(detectTarTransfer(argv), expected);
    });
  }
});
