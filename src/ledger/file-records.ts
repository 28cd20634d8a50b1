/**
 * Reading a text file record by record (JSON lines, CSV records) in bounded memory. Faster than
 * `readline` on the long lines a ledger segment holds (its line-ending regex and per-line events
 * cost more than the reading): chunks of 256 KiB are split on the separator natively.
 */
import { createReadStream } from 'node:fs';

/**
 * fileRecords yields the file's records, without their separator, from byte `start` (which
 * must be the start of a record); empty records are skipped.
 */
export async function* fileRecords(path: string, separator = '\n', start = 0): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 256 * 1024, start })) {
    const parts = (rest + (chunk as string)).split(separator);
    rest = parts.pop() ?? '';
    for (const p of parts) if (p !== '') yield p;
  }
  if (rest !== '') yield rest;
}

/** Where every `every`-th line of a file starts: line numbers and byte offsets, in order. */
export interface LineIndex {
  lines: number[];
  offsets: number[];
}

/**
 * indexLines finds where every `every`-th line (0, every, 2·every, …) starts, reading the file
 * once as bytes: a reader can then start near any line without reading what comes before.
 */
export async function indexLines(path: string, every: number): Promise<LineIndex> {
  const index: LineIndex = { lines: [0], offsets: [0] };
  let line = 0;
  let position = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 })) {
    const bytes = chunk as Buffer;
    for (let at = bytes.indexOf(10); at >= 0; at = bytes.indexOf(10, at + 1)) {
      line++;
      if (line % every === 0) {
        index.lines.push(line);
        index.offsets.push(position + at + 1);
      }
    }
    position += bytes.length;
  }
  return index;
}
