/**
 * A streaming tar reader for `kubectl cp`: it lists the entries of a tar archive as its bytes
 * pass through airlock, so a copy is recorded as the files it moved rather than as binary
 * terminal text. It reads ustar (name with `prefix`), GNU (`L`/`K` long names, base-256 sizes)
 * and PAX (`x`/`g` records: `path`, `linkpath`, `size`) headers, and skips file contents
 * without keeping them. Pure: no I/O; bytes may arrive cut anywhere.
 *
 * What does not read as tar — a bad header checksum, an unreadable size, an oversized long
 * name, anything but zeros after the end-of-archive marker — throws
 * AIRLOCK_K8S_TAR_MALFORMED: a stream airlock records as a file list must be one.
 */
import { AirlockError } from '../../../errors.js';

export const TAR_BLOCK = 512;

/** The largest long-name or PAX record airlock keeps (GNU tar and Go write a few hundred bytes). */
export const MAX_META_BYTES = 1024 * 1024;

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

/** One entry of the archive, as listed in the recording. */
export interface TarFile {
  name: string;
  /** Bytes of content (0 for directories and links). */
  size: number;
  type: TarEntryType;
  /** The target of a symbolic or hard link. */
  link?: string;
}

interface Pending {
  path?: string;
  linkpath?: string;
  size?: number;
}

type State =
  | { kind: 'header' }
  | { kind: 'skip'; remaining: number }
  | { kind: 'meta'; typeflag: string; size: number; padded: number; chunks: Buffer[]; got: number }
  | { kind: 'ended' };

function malformed(detail: string): AirlockError {
  return new AirlockError('AIRLOCK_K8S_TAR_MALFORMED', detail);
}

function padTo(size: number): number {
  return Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;
}

function cString(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const nul = field.indexOf(0);
  return (nul === -1 ? field : field.subarray(0, nul)).toString('utf8');
}

/** parseNumeric reads an octal field, or GNU base-256 when its first bit is set. */
function parseNumeric(block: Buffer, start: number, length: number, what: string): number {
  const field = block.subarray(start, start + length);
  if ((field[0] ?? 0) & 0x80) {
    if ((field[0] ?? 0) & 0x40) throw malformed(`negative ${what}`);
    let value = (field[0] ?? 0) & 0x3f;
    for (const byte of field.subarray(1)) value = value * 256 + byte;
    if (!Number.isSafeInteger(value)) throw malformed(`${what} too large`);
    return value;
  }
  const text = field.toString('latin1').replace(/[\0 ]+$/, '').replace(/^[ ]+/, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw malformed(`${what} is not an octal number`);
  return parseInt(text, 8);
}

function checksumOk(block: Buffer): boolean {
  const stored = parseNumeric(block, 148, 8, 'checksum');
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < TAR_BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return stored === unsigned || stored === signed;
}

/** parsePax reads `LEN key=value\n` records; LEN counts the whole record. */
function parsePax(data: Buffer): Pending {
  const out: Pending = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space === -1) {
      // Trailing NULs are padding some writers leave.
      if (data.subarray(at).every((b) => b === 0)) break;
      throw malformed('a PAX record has no length');
    }
    const lengthText = data.subarray(at, space).toString('latin1');
    const length = /^[0-9]+$/.test(lengthText) ? Number(lengthText) : NaN;
    if (!Number.isSafeInteger(length) || length <= space - at + 1 || at + length > data.length || data[at + length - 1] !== 0x0a) {
      throw malformed('a PAX record has an invalid length');
    }
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq === -1) throw malformed('a PAX record has no "="');
    const key = record.slice(0, eq);
    const value = record.slice(eq + 1);
    if (key === 'path') out.path = value;
    else if (key === 'linkpath') out.linkpath = value;
    else if (key === 'size') {
      if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) throw malformed('a PAX size is not a number');
      out.size = Number(value);
    }
    at += length;
  }
  return out;
}

const typeNames: Record<string, TarEntryType> = { '0': 'file', '\0': 'file', '7': 'file', '5': 'directory', '2': 'symlink', '1': 'hardlink' };

/** Types whose header carries no content, whatever its size field says (as Go's archive/tar reads them). */
const headerOnly = new Set(['1', '2', '3', '4', '5', '6']);

/**
 * TarReader lists a tar archive fed in pieces. `push` returns the entries whose headers
 * completed in that piece (never one from a partial header); `ended` turns true at the
 * end-of-archive marker (two zero blocks).
 *
 * @example
 * const tar = new TarReader();
 * for (const chunk of stdout) for (const f of tar.push(chunk)) files.push(f);
 * tar.ended; // true once the archive is complete
 */
export class TarReader {
  #state: State = { kind: 'header' };
  #header: Buffer[] = [];
  #headerBytes = 0;
  #zeroBlocks = 0;
  #next: Pending = {};
  #global: Pending = {};
  #bytes = 0;

  /** Bytes seen so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** ended is true once the end-of-archive marker has been read. */
  get ended(): boolean {
    return this.#state.kind === 'ended';
  }

  push(chunk: Uint8Array): TarFile[] {
    const out: TarFile[] = [];
    let data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.#bytes += data.length;
    while (data.length > 0) {
      const state = this.#state;
      if (state.kind === 'ended') {
        // GNU tar pads the archive to a whole record with zeros; nothing else may follow.
        if (!data.every((b) => b === 0)) throw malformed('data follows the end of the archive');
        return out;
      }
      if (state.kind === 'skip') {
        const n = Math.min(state.remaining, data.length);
        state.remaining -= n;
        data = data.subarray(n);
        if (state.remaining === 0) this.#state = { kind: 'header' };
        continue;
      }
      if (state.kind === 'meta') {
        const n = Math.min(state.padded - state.got, data.length);
        const wanted = Math.max(0, Math.min(n, state.size - state.got));
        if (wanted > 0) state.chunks.push(Buffer.from(data.subarray(0, wanted)));
        state.got += n;
        data = data.subarray(n);
        if (state.got === state.padded) this.#finishMeta(state);
        continue;
      }
      const need = TAR_BLOCK - this.#headerBytes;
      const take = data.subarray(0, need);
      this.#header.push(Buffer.from(take));
      this.#headerBytes += take.length;
      data = data.subarray(take.length);
      if (this.#headerBytes < TAR_BLOCK) continue;
      const block = Buffer.concat(this.#header);
      this.#header = [];
      this.#headerBytes = 0;
      const file = this.#readHeader(block);
      if (file) out.push(file);
    }
    return out;
  }

  #readHeader(block: Buffer): TarFile | undefined {
    if (block.every((b) => b === 0)) {
      this.#zeroBlocks += 1;
      if (this.#zeroBlocks === 2) this.#state = { kind: 'ended' };
      return undefined;
    }
    if (this.#zeroBlocks > 0) throw malformed('a header follows a single zero block');
    if (!checksumOk(block)) throw malformed('a header checksum does not match');
    const typeflag = String.fromCharCode(block[156] ?? 0);
    let size = parseNumeric(block, 124, 12, 'size');
    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      if (size > MAX_META_BYTES) throw malformed(`a ${typeflag} record of ${size} bytes is larger than airlock reads`);
      this.#state = size === 0 ? { kind: 'header' } : { kind: 'meta', typeflag, size, padded: padTo(size), chunks: [], got: 0 };
      if (size === 0) this.#finishMeta({ typeflag, chunks: [] });
      return undefined;
    }
    const pending = { ...this.#global, ...this.#next };
    this.#next = {};
    if (pending.size !== undefined) size = pending.size;
    if (headerOnly.has(typeflag)) size = 0;
    const magic = block.subarray(257, 263).toString('latin1');
    let name = cString(block, 0, 100);
    // POSIX ustar splits long names into prefix/name; GNU uses those bytes for other fields.
    if (magic === 'ustar\0') {
      const prefix = cString(block, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    if (pending.path !== undefined) name = pending.path;
    const type = typeNames[typeflag] ?? 'other';
    const link = pending.linkpath ?? cString(block, 157, 100);
    this.#state = size > 0 ? { kind: 'skip', remaining: padTo(size) } : { kind: 'header' };
    return {
      name,
      size: type === 'file' || type === 'other' ? size : 0,
      type,
      ...((type === 'symlink' || type === 'hardlink') && link ? { link } : {}),
    };
  }

  #finishMeta(state: { typeflag: string; chunks: Buffer[] }): void {
    const data = Buffer.concat(state.chunks);
    this.#state = { kind: 'header' };
    if (state.typeflag === 'L') this.#next.path = cString(data, 0, data.length);
    else if (state.typeflag === 'K') this.#next.linkpath = cString(data, 0, data.length);
    else if (state.typeflag === 'x') Object.assign(this.#next, parsePax(data));
    else Object.assign(this.#global, parsePax(data));
  }
}
