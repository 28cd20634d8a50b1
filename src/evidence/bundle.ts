/**
 * The evidence bundle an auditor takes away: everything for one period, derived from one
 * ledger segment that travels with it, signed as a whole.
 *
 *   index.html                 summary and the SOC 2 criteria each file evidences
 *   sessions.csv, .jsonl       one row per request (identity, request, decision, approval, status, ledger seq and hash)
 *   k8s-audit.jsonl            the same requests as audit.k8s.io/v1 Events
 *   approvals.jsonl            every approval step (requested, approved, denied, used, expired, revoked)
 *   replays/terminal/ID.cast   each exec/attach session, asciicast v2
 *   replays/api/SESSION.jsonl  each session's API requests with their masked bodies
 *   policies/HASH.yaml         each policy in force during the period (and history.jsonl: when)
 *   masking/HASH.json          each masking configuration in force (and history.jsonl)
 *   ledger/                    the ledger segment (rows, checkpoints, blobs) and the public key
 *   manifest.json, .sig        every file's SHA-256, signed with the ledger key
 *
 * Every file except the policy/masking in force before the period is computed from the
 * bundle's own ledger segment, so `verifyEvidenceBundle` can compute it again and compare:
 * nothing dropped, nothing added, nothing changed. Bodies and recordings are the ledger's masked
 * copies; nothing here ever held a clear secret.
 */
import { appendFileSync, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { exportSegment, openSegmentReader, readSegmentInfo, type SegmentInfo } from '../ledger/segment.js';
import { verifyLedger } from '../ledger/verify.js';
import type { LedgerEntry, LedgerReader } from '../ledger/types.js';
import { checkManifest, PUBLIC_KEY_FILE, writeManifest, type Manifest } from './bundle-manifest.js';
import { csvHeader, csvLine, jsonLine, toK8sAuditEvent } from './export-formats.js';
import { requestRows, type RequestRow } from './request-rows.js';
import { compareInStep, explainDifference, type DerivedFile } from './bundle-compare.js';
import { apiReplayLineOf, castOf, compareReplays, expectedReplays, inPeriod, TerminalSessions, type OpenTerminal } from './bundle-replays.js';
import { renderIndex } from './bundle-index.js';

export interface EvidenceExportOptions {
  /** The live ledger to take the period from. */
  reader: LedgerReader;
  /** The ledger's signing key (the data dir's) and its public key. */
  key: { privateKey: KeyObject; publicKey: KeyObject; publicPem: string };
  out: string;
  since?: string;
  until?: string;
  now?: () => Date;
}

const APPROVAL_TYPES = ['approval.requested', 'approval.notified', 'approval.approved', 'approval.denied', 'approval.used', 'approval.expired', 'approval.revoked'];

/** exportEvidenceBundle writes the bundle into `out` (which must not exist or be empty). */
export async function exportEvidenceBundle(o: EvidenceExportOptions): Promise<Manifest> {
  if (existsSync(o.out) && readdirSync(o.out).length > 0) throw new Error(`${o.out} is not empty; choose a new directory for the bundle`);
  mkdirSync(o.out, { recursive: true });
  const period = { ...(o.since ? { since: o.since } : {}), ...(o.until ? { until: o.until } : {}) };
  const ledgerDir = join(o.out, 'ledger');
  const segment = await exportSegment(o.reader, ledgerDir, period);
  writeFileSync(join(o.out, PUBLIC_KEY_FILE), o.key.publicPem);
  const seg = openSegmentReader(ledgerDir, segment);

  const derived = await writeDerived(seg, o.out, period);
  const inForce = await writeConfigurations(o.reader, seg, o.out, period, segment);
  const summary = { ...derived.summary, policies: inForce.policies, maskingConfigurations: inForce.masking, chains: segment.chains };
  writeFileSync(join(o.out, 'index.html'), renderIndex({ period, createdAt: (o.now ?? (() => new Date()))().toISOString(), summary, files: derived.files }));
  return writeManifest(o.out, { createdAt: (o.now ?? (() => new Date()))().toISOString(), period, summary }, o.key);
}

/**
 * The files computed from the segment alone: what verify computes again. Two passes over the
 * segment however many sessions it holds: the rows (session logs, audit events and every API
 * session's replay), then the entries (approvals and every terminal session's replay).
 */
async function writeDerived(seg: LedgerReader, out: string, period: { since?: string; until?: string }) {
  const counts = { requests: 0, allowed: 0, denied: 0, review: 0, refused: 0, approvals: 0, terminalSessions: 0, apiSessions: 0, imported: 0 };
  const csv = lineWriter(join(out, 'sessions.csv'), '');
  const jsonl = lineWriter(join(out, 'sessions.jsonl'));
  const audit = lineWriter(join(out, 'k8s-audit.jsonl'));
  await csv.write(csvHeader());
  mkdirSync(join(out, 'replays', 'terminal'), { recursive: true });
  mkdirSync(join(out, 'replays', 'api'), { recursive: true });
  const terminals = new Set<string>();
  // Every session's requests go to its replay file as they pass; a session that turns out to
  // hold only exec/attach (or imported) requests gets no file (its casts replay it).
  const replays = new ApiReplayFiles(join(out, 'replays', 'api'));
  for await (const row of requestRows(seg, { ...period, bodies: true })) {
    counts.requests++;
    if (row.decision === 'allow') counts.allowed++;
    else if (row.decision === 'deny') counts.denied++;
    else if (row.decision === 'review') counts.review++;
    if (row.outcome === 'refused') counts.refused++;
    if (row.imported) counts.imported++;
    if (row.terminal) terminals.add(row.id);
    await csv.write(csvLine(row));
    await jsonl.write(jsonLine(row).trimEnd());
    await audit.write(JSON.stringify(toK8sAuditEvent(row)));
    const added = await apiReplayLineOf(seg, row, period);
    if (added) replays.add(added.file, added.line, added.keep);
  }
  await Promise.all([csv.end(), jsonl.end(), audit.end()]);
  counts.apiSessions = replays.finish();

  const approvals = lineWriter(join(out, 'approvals.jsonl'));
  // A terminal session is written once its closing entry passes (bundle-replays.ts).
  const sessions = new TerminalSessions(terminals);
  const writeCast = async (session: OpenTerminal, end?: LedgerEntry) => {
    const cast = await castOf(seg, session, end);
    if (cast === undefined) return;
    writeFileSync(join(out, 'replays', 'terminal', `${session.request.id}.cast`), cast);
    counts.terminalSessions++;
  };
  for await (const entry of seg.entries({})) {
    if (APPROVAL_TYPES.includes(entry.type)) {
      if (!inPeriod(entry.time, period)) continue;
      counts.approvals += entry.type === 'approval.requested' ? 1 : 0;
      await approvals.write(approvalLine(entry));
      continue;
    }
    const done = sessions.push(entry);
    if (done) await writeCast(done.session, done.end);
  }
  for (const session of sessions.unfinished()) await writeCast(session);
  await approvals.end();

  const files = ['sessions.csv', 'sessions.jsonl', 'k8s-audit.jsonl', 'approvals.jsonl', 'replays/terminal/', 'replays/api/', 'policies/', 'masking/', 'ledger/'];
  return { summary: counts, files };
}

/**
 * ApiReplayFiles appends each session's replay lines to `replays/api/SESSION.jsonl`, buffered
 * (a few MiB at most, then flushed file by file), so one pass writes every session's file.
 */
class ApiReplayFiles {
  readonly #buffers = new Map<string, string[]>();
  readonly #keep = new Set<string>();
  #buffered = 0;

  constructor(private readonly dir: string) {}

  /** add buffers `line` for `file` (a name in the folder); `keep`: the file stays at finish. */
  add(file: string, line: string, keep: boolean): void {
    if (keep) this.#keep.add(file);
    const buffer = this.#buffers.get(file);
    if (buffer) buffer.push(line);
    else this.#buffers.set(file, [line]);
    this.#buffered += line.length;
    if (this.#buffered > 4 * 1024 * 1024) this.#flush();
  }

  /** finish writes what is buffered and removes the files no request earned; returns how many remain. */
  finish(): number {
    this.#flush();
    for (const file of readdirSync(this.dir)) if (!this.#keep.has(file)) rmSync(join(this.dir, file), { force: true });
    return this.#keep.size;
  }

  #flush(): void {
    for (const [file, lines] of this.#buffers) appendFileSync(join(this.dir, file), `${lines.join('\n')}\n`);
    this.#buffers.clear();
    this.#buffered = 0;
  }
}


/** approvalLine: one approval step as the bundle lists it (the entry's own masked data). */
function approvalLine(e: LedgerEntry): string {
  return JSON.stringify({ seq: e.seq, chain: e.chain, hash: e.hash, id: e.id, time: e.time, type: e.type, by: e.identity?.subject ?? null, data: e.data ?? {} });
}

/**
 * writeConfigurations writes every policy and masking configuration recorded in the segment,
 * plus the ones in force when the period began (the last recorded before it).
 */
async function writeConfigurations(live: LedgerReader, seg: LedgerReader, out: string, period: { since?: string }, segment: SegmentInfo) {
  mkdirSync(join(out, 'policies'), { recursive: true });
  mkdirSync(join(out, 'masking'), { recursive: true });
  const found: Record<'policy.loaded' | 'masking.loaded', LedgerEntry[]> = { 'policy.loaded': [], 'masking.loaded': [] };
  // What was in force at the start: the last of each recorded before the segment.
  for (const c of segment.chains) {
    const before: Partial<Record<keyof typeof found, LedgerEntry>> = {};
    for await (const e of live.entries({ chain: c.chain, toSeq: c.fromSeq - 1, types: ['policy.loaded', 'masking.loaded'] })) before[e.type as keyof typeof found] = e;
    for (const k of Object.keys(found) as (keyof typeof found)[]) if (before[k]) found[k].push(before[k]!);
  }
  for await (const e of seg.entries({ types: ['policy.loaded', 'masking.loaded'] })) found[e.type as keyof typeof found].push(e);
  const history = { policies: lineWriter(join(out, 'policies', 'history.jsonl')), masking: lineWriter(join(out, 'masking', 'history.jsonl')) };
  const hashes = { policies: new Set<string>(), masking: new Set<string>() };
  for (const e of found['policy.loaded']) {
    const hash = String(e.data?.hash ?? e.hash);
    if (!hashes.policies.has(hash)) writeFileSync(join(out, 'policies', `${hash}.yaml`), String(e.data?.source ?? ''));
    hashes.policies.add(hash);
    await history.policies.write(JSON.stringify({ time: e.time, chain: e.chain, seq: e.seq, hash, reason: e.data?.reason, file: e.data?.file, rules: e.data?.rules, default: e.data?.default }));
  }
  for (const e of found['masking.loaded']) {
    const hash = String(e.data?.hash ?? e.hash);
    if (!hashes.masking.has(hash)) writeFileSync(join(out, 'masking', `${hash}.json`), `${JSON.stringify(e.data?.configuration ?? {}, null, 2)}\n`);
    hashes.masking.add(hash);
    await history.masking.write(JSON.stringify({ time: e.time, chain: e.chain, seq: e.seq, hash, reason: e.data?.reason }));
  }
  await Promise.all([history.policies.end(), history.masking.end()]);
  void period;
  return { policies: hashes.policies.size, masking: hashes.masking.size };
}

/** lineWriter writes lines (ended by `eol`) with back-pressure. */
function lineWriter(file: string, eol = '\n') {
  const stream = createWriteStream(file);
  return {
    async write(line: string) {
      if (!stream.write(`${line}${eol}`)) await once(stream, 'drain');
    },
    async end() {
      stream.end();
      await once(stream, 'finish');
    },
  };
}

export interface BundleReport {
  ok: boolean;
  keyId?: string;
  /** The key came from the bundle, not from the auditor. */
  selfTrusted: boolean;
  period?: { since?: string; until?: string };
  counts?: Record<string, unknown>;
  problems: string[];
}

/**
 * verifyEvidenceBundle checks a bundle with nothing but its files: the manifest signature and
 * every file's hash; the ledger segment's chain and checkpoints; that the session logs, the
 * audit events and the approvals are exactly what the segment holds — row by row, both ways;
 * and that every replay is what the segment yields, with none added or missing.
 */
export async function verifyEvidenceBundle(dir: string, options: { publicKey?: string | KeyObject } = {}): Promise<BundleReport> {
  const check = await checkManifest(dir, options.publicKey);
  const problems = [...check.problems];
  const base = { selfTrusted: check.selfTrusted, ...(check.publicKey && check.manifest ? { keyId: check.manifest.keyId } : {}) };
  if (!check.manifest || !check.publicKey) return { ok: false, ...base, problems };
  const period = check.manifest.period ?? {};
  const ledgerDir = join(dir, 'ledger');
  const info = readSegmentInfo(ledgerDir);
  if (!info) return { ok: false, ...base, period, problems: [...problems, 'ledger/segment.json is missing: the bundle has no ledger segment'] };
  const seg = openSegmentReader(ledgerDir, info);
  const segments = Object.fromEntries(info.chains.map((c) => [c.chain, { fromSeq: c.fromSeq, prevHash: c.prevHash }]));
  const ledger = await verifyLedger(seg, { publicKey: check.publicKey, segments });
  for (const p of ledger.problems) problems.push(`ledger segment: ${p.message}`);

  // The files derived from the segment must be exactly what it yields (bundle-compare.ts): one
  // pass when they are, memory flat in the period's size either way.
  const files: DerivedFile[] = [
    { path: join(dir, 'sessions.jsonl'), name: 'sessions.jsonl', separator: '\n', noun: 'line', describe: describeRow },
    { path: join(dir, 'sessions.csv'), name: 'sessions.csv', separator: '\r\n', noun: 'record', describe: (r) => r.slice(0, 100) },
    { path: join(dir, 'k8s-audit.jsonl'), name: 'k8s-audit.jsonl', separator: '\n', noun: 'line', describe: describeAudit },
  ];
  async function* rowTexts(): AsyncGenerator<Array<string | undefined>> {
    yield [undefined, csvHeader(), undefined];
    for await (const r of requestRows(seg, period)) yield [jsonLine(r), csvLine(r), JSON.stringify(toK8sAuditEvent(r))];
  }
  const approvalsFile: DerivedFile = { path: join(dir, 'approvals.jsonl'), name: 'approvals.jsonl', separator: '\n', noun: 'line', describe: (l) => l.slice(0, 100) };
  async function* approvalTexts(): AsyncGenerator<string[]> {
    for await (const entry of seg.entries({ ...period })) if (APPROVAL_TYPES.includes(entry.type)) yield [approvalLine(entry)];
  }
  const differ = [...(await compareInStep(files, rowTexts)), ...(await compareInStep([approvalsFile], approvalTexts))];
  // The replays too: each is what the segment yields, and no other replay is there.
  await compareReplays(dir, await expectedReplays(seg, period), problems);
  for (const file of files.concat(approvalsFile).filter((f) => differ.includes(f))) {
    const column = files.indexOf(file);
    const texts = column >= 0 ? rowTexts : approvalTexts;
    await explainDifference(file, async function* () {
      for await (const t of texts()) {
        const text = t[column >= 0 ? column : 0];
        if (text !== undefined) yield text;
      }
    }, problems);
  }
  return { ok: problems.length === 0, ...base, period, counts: check.manifest.summary, problems };
}

function describeRow(line: string): string {
  try {
    const r = JSON.parse(line) as RequestRow;
    return `${r.chain}#${r.seq} (${r.verb ?? ''} ${r.resource ?? ''} ${r.name ?? ''} by ${r.subject ?? 'unknown'})`.replace(/\s+/g, ' ');
  } catch {
    return line.slice(0, 80);
  }
}

function describeAudit(line: string): string {
  try {
    return `auditID ${(JSON.parse(line) as { auditID?: string }).auditID ?? '?'}`;
  } catch {
    return line.slice(0, 80);
  }
}

/** readManifest reads a bundle's manifest without checking it (for printing). */
export function readManifest(dir: string): Manifest | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}
