/**
 * Ledger segments: a stretch of one chain copied into plain files for an evidence bundle, and
 * read back as a LedgerReader so the ordinary verifier checks it offline — no database, no
 * gateway.
 *
 * Layout under the segment directory:
 *   <chain>.rows.jsonl         StoredEntryRow per line (the hashed canonical text and its hashes)
 *   <chain>.checkpoints.json   the signed checkpoints whose seq falls inside the segment
 *   blobs/<sha256>             the bodies the entries reference by digest
 *   segment.json               per chain: fromSeq, toSeq, and the hash before fromSeq
 *
 * A segment runs from the first entry of the period to the first checkpoint at or after its
 * last entry (when there is one), so its end is a signed hash: with the chain links, that one
 * signature vouches for every entry before it in the segment. Entries after the last
 * checkpoint are still bound by the bundle's signed manifest.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, writeFileSync, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { fileRecords, indexLines } from './file-records.js';
import { rowToEntry } from './store-query.js';
import type { Checkpoint, EntryQuery, LedgerEntry, LedgerReader, StoredEntryRow } from './types.js';

export interface SegmentChain {
  chain: string;
  fromSeq: number;
  toSeq: number;
  /** The hash of the entry before fromSeq (the genesis hash when fromSeq is 1). */
  prevHash: string;
  entries: number;
  checkpoints: number;
  /** Entries after the last checkpoint inside the segment: bound by the manifest only. */
  unsigned: number;
}

export interface SegmentInfo {
  chains: SegmentChain[];
  blobs: number;
}

const SEGMENT_FILE = 'segment.json';

/**
 * exportSegment copies, per chain, the entries recorded between `since` and `until` (RFC 3339,
 * inclusive; open when absent) and the entries up to the next checkpoint, their checkpoints
 * and blobs, into `dir`. Memory stays bounded: rows stream to the file a page at a time.
 */
export async function exportSegment(reader: LedgerReader, dir: string, period: { since?: string; until?: string }): Promise<SegmentInfo> {
  mkdirSync(join(dir, 'blobs'), { recursive: true });
  const chains: SegmentChain[] = [];
  const blobs = new Set<string>();
  for (const chain of await reader.chains()) {
    // The first and last entries of the period fix the seq range.
    const first = await firstRow(reader, { chain, ...(period.since ? { since: period.since } : {}), ...(period.until ? { until: period.until } : {}) });
    if (!first) continue;
    const last = await lastSeqInPeriod(reader, chain, first.seq, period.until);
    const checkpoints = await reader.checkpoints(chain);
    const anchor = checkpoints.find((c) => c.seq >= last);
    const toSeq = anchor ? anchor.seq : last;
    const out = createWriteStream(join(dir, `${chain}.rows.jsonl`));
    let entries = 0;
    for await (const row of reader.rows({ chain, fromSeq: first.seq, toSeq })) {
      if (!out.write(`${JSON.stringify(row)}\n`)) await once(out, 'drain');
      entries++;
      const entry = rowToEntry(row);
      for (const p of [entry.request, entry.response]) if (p?.blob) blobs.add(p.sha256);
    }
    out.end();
    await once(out, 'finish');
    const inside = checkpoints.filter((c) => c.seq >= first.seq && c.seq <= toSeq);
    writeFileSync(join(dir, `${chain}.checkpoints.json`), `${JSON.stringify(inside, null, 2)}\n`);
    const lastSigned = inside.reduce((m, c) => Math.max(m, c.seq), first.seq - 1);
    chains.push({ chain, fromSeq: first.seq, toSeq, prevHash: first.prevHash, entries, checkpoints: inside.length, unsigned: Math.max(0, toSeq - lastSigned) });
  }
  for (const sha of blobs) {
    const data = await reader.blob(sha);
    if (data) writeFileSync(join(dir, 'blobs', sha), data);
  }
  const info: SegmentInfo = { chains, blobs: blobs.size };
  writeFileSync(join(dir, SEGMENT_FILE), `${JSON.stringify(info, null, 2)}\n`);
  return info;
}

/** Every n-th row of a segment file (INDEX_EVERY by default): its seq, line number and byte offset (seqs ascending). */
interface SeqIndex {
  seqs: number[];
  lines: number[];
  offsets: number[];
}

const INDEX_EVERY = 1000;

/**
 * seqIndex indexes a rows file for paged readers; undefined when the indexed seqs do not
 * ascend (a damaged or edited file: paged readers then read from the top). The verifier reads
 * every row from the top whatever the index says, and names rows out of order.
 */
async function seqIndex(file: string, every: number): Promise<SeqIndex | undefined> {
  const { lines, offsets } = await indexLines(file, every);
  const seqs: number[] = [];
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(256);
    for (const offset of offsets) {
      const read = readSync(fd, head, 0, head.length, offset);
      if (read === 0) break; // the end of a file whose last line ends with a newline
      const m = /"seq":(\d+)/.exec(head.toString('latin1', 0, read));
      const seq = m ? Number(m[1]) : Number.NaN;
      if (!Number.isSafeInteger(seq) || (seqs.length > 0 && seq <= (seqs[seqs.length - 1] as number))) return undefined;
      seqs.push(seq);
    }
  } finally {
    closeSync(fd);
  }
  return { seqs, lines: lines.slice(0, seqs.length), offsets: offsets.slice(0, seqs.length) };
}

/** startFor: the indexed row at or before `fromSeq` (the top of the file without an index). */
function startFor(index: SeqIndex | undefined, fromSeq: number): { line: number; offset: number } {
  if (!index) return { line: 0, offset: 0 };
  let k = 0;
  for (let lo = 0, hi = index.seqs.length - 1; lo <= hi; ) {
    const mid = (lo + hi) >> 1;
    if ((index.seqs[mid] as number) <= fromSeq) {
      k = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return { line: index.lines[k] ?? 0, offset: index.offsets[k] ?? 0 };
}

async function firstRow(reader: LedgerReader, query: EntryQuery): Promise<StoredEntryRow | undefined> {
  for await (const row of reader.rows({ ...query, limit: 1 })) return row;
  return undefined;
}

/** lastSeqInPeriod: the highest seq at or after `fromSeq` recorded by `until`. */
async function lastSeqInPeriod(reader: LedgerReader, chain: string, fromSeq: number, until: string | undefined): Promise<number> {
  // An open period runs to the chain's head: no need to read the chain to find it.
  if (until === undefined) return Math.max(fromSeq, (await reader.head(chain))?.seq ?? fromSeq);
  let last = fromSeq;
  for await (const row of reader.rows({ chain, fromSeq, ...(until ? { until } : {}) })) last = row.seq;
  return last;
}

/** readSegmentInfo reads segment.json; undefined when the directory holds none. */
export function readSegmentInfo(dir: string): SegmentInfo | undefined {
  const file = join(dir, SEGMENT_FILE);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as SegmentInfo;
}

/**
 * openSegmentReader reads an exported segment as a LedgerReader (rows, entries, checkpoints,
 * blobs) for verifyLedger and the exporters. A line that is not JSON is handed on as a row the
 * verifier reports as malformed, never dropped.
 */
export function openSegmentReader(dir: string, info: SegmentInfo, options: { indexEvery?: number } = {}): LedgerReader {
  const every = options.indexEvery ?? INDEX_EVERY;
  // Readers page through a segment by `fromSeq` (1,000 rows a query): a sparse index of where
  // rows start lets each page begin near its first row instead of reading the file from the top.
  const indexes = new Map<string, Promise<SeqIndex | undefined>>();
  const indexOf = (file: string) => {
    let index = indexes.get(file);
    if (!index) {
      index = seqIndex(file, every);
      indexes.set(file, index);
    }
    return index;
  };
  const rowsOf = async function* (query: EntryQuery): AsyncGenerator<StoredEntryRow> {
    const chains = query.chain ? info.chains.filter((c) => c.chain === query.chain) : info.chains;
    let left = query.limit ?? Infinity;
    for (const c of chains) {
      if (left <= 0) return;
      const file = join(dir, `${c.chain}.rows.jsonl`);
      if (!existsSync(file)) continue;
      const start = query.fromSeq !== undefined && query.fromSeq > c.fromSeq ? startFor(await indexOf(file), query.fromSeq) : { line: 0, offset: 0 };
      const lines = fileRecords(file, '\n', start.offset);
      let n = start.line;
      // A row's type is written `"type":"…"` once, at the top level (inside a string a quote is
      // escaped): rows of other types are skipped without parsing them.
      const typeMarks = query.types?.map((t) => `"type":${JSON.stringify(t)}`);
      for await (const line of lines) {
        if (typeMarks && !typeMarks.some((m) => line.includes(m))) {
          n++;
          continue;
        }
        let row: StoredEntryRow;
        try {
          row = JSON.parse(line) as StoredEntryRow;
        } catch {
          row = { chain: c.chain, seq: c.fromSeq + n, id: '', time: '', type: '', sessionId: null, prevHash: '', hash: '', canonical: line };
        }
        n++;
        if (query.fromSeq !== undefined && row.seq < query.fromSeq) continue;
        if (query.toSeq !== undefined && row.seq > query.toSeq) continue;
        if (query.since !== undefined && row.time < query.since) continue;
        if (query.until !== undefined && row.time > query.until) continue;
        if (query.types && !query.types.includes(row.type)) continue;
        if (query.sessionId !== undefined && row.sessionId !== query.sessionId) continue;
        yield row;
        if (--left <= 0) {
          await lines.return(undefined);
          return;
        }
      }
    }
  };
  return {
    async chains() {
      return info.chains.map((c) => c.chain);
    },
    rows: rowsOf,
    async *entries(query: EntryQuery): AsyncGenerator<LedgerEntry> {
      for await (const row of rowsOf(query)) {
        try {
          yield rowToEntry(row);
        } catch {
          // A malformed row is the verifier's to report; readers of entries skip it.
        }
      }
    },
    async head(chain) {
      let last: { seq: number; hash: string } | undefined;
      for await (const row of rowsOf({ chain })) last = { seq: row.seq, hash: row.hash };
      return last;
    },
    async checkpoints(chain) {
      const file = join(dir, `${chain}.checkpoints.json`);
      if (!existsSync(file)) return [];
      try {
        return JSON.parse(readFileSync(file, 'utf8')) as Checkpoint[];
      } catch {
        return [];
      }
    },
    async blob(sha256) {
      if (!/^[0-9a-f]{64}$/.test(sha256)) return undefined;
      const file = join(dir, 'blobs', sha256);
      return existsSync(file) ? new Uint8Array(readFileSync(file)) : undefined;
    },
    async close() {},
  };
}
