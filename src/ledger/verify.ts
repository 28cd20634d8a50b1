/**
 * Offline verification of a ledger: re-hash every stored row, follow the chain links, check
 * every checkpoint signature against keys the auditor trusts, compare checkpoints (stored and
 * witnessed) with the chain, and check that referenced blobs exist and hash right. Rows are
 * streamed a page at a time, so memory stays bounded whatever the ledger's size; only the
 * checkpoints (one per thousand entries by default) are held. It trusts nothing in the store:
 * not the hash columns, not the checkpoints table, not the key in the data dir.
 */
import type { KeyObject } from 'node:crypto';
import { entryHash, GENESIS_HASH, sha256Hex } from './canonical.js';
import { checkCheckpointSignature } from './checkpoint.js';
import { payloadMatches } from './payload.js';
import { ledgerKeyId, toPublicKey } from './signing-key.js';
import type { Checkpoint, LedgerEntry, LedgerReader, StoredEntryRow } from './types.js';
import { ProblemLog, type ChainReport, type VerifyReport } from './verify-report.js';
import { readWitnessFile } from './witness.js';

export interface VerifyOptions {
  /** The checkpoint public key(s) to trust (PEM or KeyObject), obtained out of band. */
  publicKey: KeyObject | string | (KeyObject | string)[];
  /** Witnessed checkpoints: a witness file, or checkpoints fetched from an HTTP witness. */
  witness?: { file: string } | { checkpoints: Checkpoint[] };
  /** Only these chains (default: every chain in the store or the witness). */
  chains?: string[];
  /** Problems listed in the report before the rest are only counted (default 1000). */
  maxProblems?: number;
  /**
   * Chains that are segments (an evidence bundle's copy): each starts at `fromSeq`, after an
   * entry hashing to `prevHash`. The link into the segment is taken as given; its truth follows
   * from the signed checkpoints inside it, which bind every entry before them.
   */
  segments?: Record<string, { fromSeq: number; prevHash: string }>;
}

/** A checkpoint's claim about one seq, waiting for the row at that seq. */
interface Claim {
  hash: string;
  source: 'stored' | 'witness';
}

/**
 * verifyLedger checks the whole ledger (or `chains`) and names, per chain, the first bad
 * entry and why. It throws only when the store cannot be read; a tampered ledger is a report
 * with `ok: false`, never an exception.
 */
export async function verifyLedger(reader: LedgerReader, options: VerifyOptions): Promise<VerifyReport> {
  const keys = new Map<string, KeyObject>();
  for (const k of Array.isArray(options.publicKey) ? options.publicKey : [options.publicKey]) {
    const pub = toPublicKey(k);
    keys.set(ledgerKeyId(pub), pub);
  }
  const log = new ProblemLog(options.maxProblems ?? 1000);
  const witnessed = await loadWitness(options.witness, keys, log);
  const chains = options.chains ?? [...new Set([...(await reader.chains()), ...witnessed.keys()])].sort();
  const reports: ChainReport[] = [];
  for (const chain of chains) reports.push(await verifyChain(reader, chain, keys, witnessed.get(chain) ?? [], log, options.segments?.[chain]));
  return { ok: log.count === 0, chains: reports, problems: log.problems, omittedProblems: log.omitted };
}

async function verifyChain(
  reader: LedgerReader,
  chain: string,
  keys: Map<string, KeyObject>,
  witnessed: Checkpoint[],
  log: ProblemLog,
  segment?: { fromSeq: number; prevHash: string },
): Promise<ChainReport> {
  const stored = await reader.checkpoints(chain);
  const claims = new Map<number, Claim[]>();
  const claim = (seq: number, c: Claim): void => {
    const list = claims.get(seq);
    if (list) list.push(c);
    else claims.set(seq, [c]);
  };
  let validCheckpoints = 0;
  let lastSigned = segment ? segment.fromSeq - 1 : 0;
  for (const cp of stored) {
    const fault = cp.chain === chain ? checkCheckpointSignature(cp, keys) : 'bad-signature';
    if (fault) {
      const reason = fault === 'unknown-key' ? 'checkpoint-unknown-key' : 'checkpoint-signature';
      const why = fault === 'unknown-key' ? `is signed by key ${cp.keyId}, which is not trusted` : 'has a signature that does not verify (forged or altered)';
      log.add({ chain, seq: cp.seq, reason, message: `the stored checkpoint at ${chain}#${cp.seq} ${why}` });
      continue;
    }
    validCheckpoints++;
    lastSigned = Math.max(lastSigned, cp.seq);
    claim(cp.seq, { hash: cp.hash, source: 'stored' });
  }
  for (const cp of witnessed) {
    lastSigned = Math.max(lastSigned, cp.seq);
    claim(cp.seq, { hash: cp.hash, source: 'witness' });
  }

  const walk = new ChainWalk(chain, log, segment ? { seq: segment.fromSeq - 1, hash: segment.prevHash } : { seq: 0, hash: GENESIS_HASH });
  for await (const row of reader.rows({ chain })) {
    const entry = walk.check(row);
    for (const c of claims.get(row.seq) ?? []) {
      if (c.hash !== row.hash) {
        log.add({
          chain, seq: row.seq, id: row.id, reason: c.source === 'stored' ? 'checkpoint-mismatch' : 'witness-mismatch',
          message: `a signed ${c.source === 'stored' ? 'checkpoint' : 'witness checkpoint'} says ${chain}#${row.seq} hashes to ${c.hash}, the chain has ${row.hash}`,
        });
      }
    }
    claims.delete(row.seq);
    if (entry) await checkPayloads(reader, row, entry, log);
  }

  const lastSeq = walk.lastSeq;
  let beyond: { seq: number; source: Claim['source'] } | undefined;
  for (const [seq, list] of claims) {
    for (const c of list) {
      if (seq > lastSeq) {
        if (!beyond || seq > beyond.seq || (seq === beyond.seq && c.source === 'witness')) beyond = { seq, source: c.source };
      } else {
        const reason = c.source === 'stored' ? 'checkpoint-mismatch' : 'witness-mismatch';
        log.add({ chain, seq, reason, message: `a signed checkpoint vouches for ${chain}#${seq}, which is missing` });
      }
    }
  }
  if (beyond) {
    log.add({
      chain, seq: lastSeq + 1, reason: 'truncated-tail',
      message: `a signed ${beyond.source === 'witness' ? 'witness' : 'stored'} checkpoint covers ${chain}#${beyond.seq}, but the chain ends at #${lastSeq}: entries ${lastSeq + 1}..${beyond.seq} were removed`,
    });
  }
  return {
    chain,
    entries: walk.count,
    lastSeq,
    checkpoints: stored.length,
    validCheckpoints,
    witnessed: witnessed.length,
    unsigned: Math.max(0, lastSeq - lastSigned),
    ...(log.firstBad(chain) ? { firstBad: log.firstBad(chain) } : {}),
  };
}

/**
 * ChainWalk checks each row against itself and its predecessor. Each row gets at most one
 * link problem, and a run of rows shifted by the same offset is reported once, at its start,
 * so one deleted, inserted or swapped row yields one or two problems, not thousands.
 */
class ChainWalk {
  count = 0;
  lastSeq = 0;
  private prev: StoredEntryRow | undefined;
  private prevShift = 0;
  private readonly startHash: string;

  constructor(private readonly chain: string, private readonly log: ProblemLog, start: { seq: number; hash: string }) {
    this.lastSeq = start.seq;
    this.startHash = start.hash;
  }

  check(row: StoredEntryRow): LedgerEntry | undefined {
    const { chain, log } = this;
    const expected = this.lastSeq + 1;
    const gap = row.seq > expected;
    this.count++;
    if (gap) {
      const missing = row.seq - expected === 1 ? `entry ${chain}#${expected} is missing` : `entries ${chain}#${expected}..${row.seq - 1} are missing`;
      log.add({ chain, seq: expected, reason: 'seq-gap', message: `${missing} (deleted)` });
    }
    const at = { chain, seq: row.seq, id: row.id };
    let entry: LedgerEntry | undefined;
    try {
      entry = JSON.parse(row.canonical) as LedgerEntry;
    } catch {
      log.add({ ...at, reason: 'malformed', message: `${chain}#${row.seq} is not valid JSON` });
    }
    const shift = entry && typeof entry.seq === 'number' && entry.chain === row.chain ? row.seq - entry.seq : Number.NaN;
    if (!entry) {
      // reported above
    } else if (entryHash(row.prevHash, row.canonical) !== row.hash) {
      log.add({ ...at, reason: 'hash-mismatch', message: `${chain}#${row.seq} does not hash to its recorded hash: its content was changed` });
    } else if (!gap && row.prevHash !== (this.prev?.hash ?? this.startHash)) {
      this.linkProblem(row, shift);
    } else if (shift !== 0 && shift !== this.prevShift) {
      log.add({ ...at, reason: 'out-of-order', message: outOfOrder(row, entry) });
    } else {
      const column = fieldMismatch(row, entry);
      if (column) log.add({ ...at, reason: 'field-mismatch', message: `${chain}#${row.seq}: the ${column} column disagrees with the hashed entry` });
    }
    this.prevShift = Number.isNaN(shift) ? 0 : shift;
    this.prev = row;
    this.lastSeq = row.seq;
    return entry;
  }

  private linkProblem(row: StoredEntryRow, shift: number): void {
    const { chain, log } = this;
    const prev = this.prev;
    if (prev && row.prevHash === prev.prevHash) {
      // Two rows claim the same predecessor: the earlier one was squeezed in between.
      log.add({ chain, seq: prev.seq, id: prev.id, reason: 'inserted', message: `${chain}#${prev.seq} was inserted: the entry after it links past it to #${prev.seq - 1}` });
    } else if (shift !== 0) {
      log.add({ chain, seq: row.seq, id: row.id, reason: 'out-of-order', message: `${chain}#${row.seq} is out of place: it does not follow #${row.seq - 1}` });
    } else {
      log.add({ chain, seq: row.seq, id: row.id, reason: 'prev-hash-mismatch', message: `${chain}#${row.seq} does not link to #${row.seq - 1} (its prevHash is not that entry's hash)` });
    }
  }
}

function outOfOrder(row: StoredEntryRow, entry: LedgerEntry): string {
  const where = `${row.chain}#${row.seq} holds entry #${entry.seq} (id ${entry.id})`;
  return entry.seq > row.seq ? `${where}: entries before it were removed and the rest renumbered` : `${where}: rows were swapped or an entry was inserted`;
}

function fieldMismatch(row: StoredEntryRow, e: LedgerEntry): string | undefined {
  if (e.id !== row.id) return 'id';
  if (e.time !== row.time) return 'time';
  if (e.type !== row.type) return 'type';
  if ((e.sessionId ?? null) !== row.sessionId) return 'session_id';
  return undefined;
}

async function checkPayloads(reader: LedgerReader, row: StoredEntryRow, entry: LedgerEntry, log: ProblemLog): Promise<void> {
  for (const field of ['request', 'response'] as const) {
    const p = entry[field];
    if (!p || typeof p !== 'object') continue;
    const at = { chain: row.chain, seq: row.seq, id: row.id };
    if (p.blob) {
      const data = await reader.blob(p.sha256);
      if (!data) log.add({ ...at, reason: 'blob-missing', message: `the ${field} body of ${row.chain}#${row.seq} (blob ${p.sha256}) is missing` });
      else if (sha256Hex(data) !== p.sha256) log.add({ ...at, reason: 'blob-corrupt', message: `the ${field} body of ${row.chain}#${row.seq} (blob ${p.sha256}) does not hash to its digest` });
    } else if (!payloadMatches(p)) {
      log.add({ ...at, reason: 'payload-mismatch', message: `the inline ${field} body of ${row.chain}#${row.seq} disagrees with its size or digest` });
    }
  }
}

/** loadWitness reads and checks witnessed checkpoints; only validly signed ones are used against the chain. */
async function loadWitness(
  witness: VerifyOptions['witness'],
  keys: Map<string, KeyObject>,
  log: ProblemLog,
): Promise<Map<string, Checkpoint[]>> {
  const byChain = new Map<string, Checkpoint[]>();
  if (!witness) return byChain;
  let checkpoints: Checkpoint[];
  if ('file' in witness) {
    const read = await readWitnessFile(witness.file);
    for (const line of read.bad) log.add({ chain: '', reason: 'witness-malformed', message: `witness line ${line} is not a checkpoint` });
    checkpoints = read.checkpoints;
  } else {
    checkpoints = witness.checkpoints;
  }
  for (const cp of checkpoints) {
    if (checkCheckpointSignature(cp, keys)) {
      log.add({ chain: cp.chain, seq: cp.seq, reason: 'witness-signature', message: `the witness checkpoint for ${cp.chain}#${cp.seq} does not verify with a trusted key` });
      continue;
    }
    const list = byChain.get(cp.chain);
    if (list) list.push(cp);
    else byChain.set(cp.chain, [cp]);
  }
  return byChain;
}
