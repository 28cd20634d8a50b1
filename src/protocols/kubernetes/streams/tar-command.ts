/**
 * Recognising `kubectl cp` from the exec command it sends: `tar cf - PATH` (download: the
 * archive comes back on stdout) or `tar -xmf - -C DIR` (upload: the archive goes in on stdin).
 * Only a plain, uncompressed archive to or from the standard streams counts, because only that
 * can be read as tar as it passes; anything else (`sh -c "tar … | …"`, `tar czf -`,
 * `tar cf /tmp/x.tar`) stays an ordinary terminal session. Pure.
 */

export type TransferDirection = 'upload' | 'download';

/** Options that compress or otherwise change what crosses the stream. */
const filterLetters = new Set(['z', 'j', 'J', 'Z', 'a', 'I']);
const filterLong = /^--(gzip|gunzip|ungzip|bzip2|xz|lzma|lzip|lzop|zstd|compress|uncompress|auto-compress|use-compress-program|to-stdout|to-command|multi-volume)\b/;

/** basename of argv[0], as the container's shell would resolve `/bin/tar` or `busybox`-style paths. */
function programName(argv: readonly string[]): string {
  const first = argv[0] ?? '';
  return first.slice(first.lastIndexOf('/') + 1);
}

/**
 * detectTarTransfer says whether an exec's argv is a tar archive on the standard streams and
 * which way it goes; undefined otherwise.
 *
 * @example
 * detectTarTransfer(['tar', 'cf', '-', '/tmp/foo']);           // 'download'
 * detectTarTransfer(['tar', '-xmf', '-', '-C', '/tmp']);       // 'upload'
 * detectTarTransfer(['sh', '-c', 'tar cf - /x | tail -c+5']);  // undefined
 */
export function detectTarTransfer(argv: readonly string[]): TransferDirection | undefined {
  if (programName(argv) !== 'tar') return undefined;
  let mode: 'c' | 'x' | undefined;
  let file: string | undefined;
  const setMode = (m: 'c' | 'x'): boolean => {
    if (mode !== undefined && mode !== m) return false;
    mode = m;
    return true;
  };
  const args = argv.slice(1);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--') break;
    if (arg.startsWith('--')) {
      if (filterLong.test(arg)) return undefined;
      if (arg === '--create' && !setMode('c')) return undefined;
      if ((arg === '--extract' || arg === '--get') && !setMode('x')) return undefined;
      if (arg.startsWith('--file=')) file = arg.slice('--file='.length);
      else if (arg === '--file') file = args[++i];
      continue;
    }
    // The first argument may be an old-style letter bundle without a dash (`tar cf - PATH`).
    const bundle = arg.startsWith('-') ? arg.slice(1) : i === 0 ? arg : undefined;
    if (bundle === undefined) continue;
    for (let j = 0; j < bundle.length; j++) {
      const letter = bundle[j]!;
      if (filterLetters.has(letter)) return undefined;
      if (letter === 'c' && !setMode('c')) return undefined;
      if (letter === 'x' && !setMode('x')) return undefined;
      if (letter === 'f') {
        // `-f-` / `-fARCHIVE` carry the value in the bundle; otherwise it is the next argument.
        if (arg.startsWith('-') && j + 1 < bundle.length) file = bundle.slice(j + 1);
        else file = args[++i];
        break;
      }
    }
  }
  if (file !== '-' || mode === undefined) return undefined;
  return mode === 'c' ? 'download' : 'upload';
}
