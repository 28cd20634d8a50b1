/**
 * `airlock sessions` and `airlock export` from code: a real SQLite ledger in a temp dir
 * holding entries shaped like the gateway's, the commands run in-process through a commander
 * program, their output and exit codes captured.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Command, CommanderError } from 'commander';
import { parseAsciicast } from '../evidence/asciicast.js';
import { CSV_COLUMNS, type K8sAuditEvent } from '../evidence/export-formats.js';
import type { SessionSummary } from '../evidence/request-rows.js';
import { TERMINAL_BATCH_JSON_TYPE } from '../evidence/terminal-batch.js';
import type { Exchange } from '../gateway/exchange.js';
import { requestEntry } from '../gateway/recording.js';
import type { Identity } from '../identity/identity.js';
import { openLedger, type EntryInput } from '../ledger/index.js';
import type { PolicyRequest } from '../policy/request.js';
import { registerExport } from './export.js';
import { registerSessions } from './sessions.js';

const bot: Identity = { subject: 'agent:deploy-bot', groups: ['agents'], issuer: 'https://airlock.local', tokenId: 'tok-bot', expiresAt: 2e9, kind: 'agent', via: 'builtin' };
const ops: Identity = { subject: 'agent:ops', groups: ['ops'], issuer: 'https://airlock.local', tokenId: 'tok-ops', expiresAt: 2e9, kind: 'agent', via: 'builtin' };
const OLD = '2024-03-01T12:00:00.000Z';

let dir: string;
let dataDir: string;
const ids: Record<string, string> = {};
let n = 0;

function exchange(identity: Identity, sessionId: string, connection: string, action: Partial<PolicyRequest>, decision: Exchange['decision'], facts: Record<string, unknown> = {}): Exchange {
  n++;
  return {
    id: `01950000-0000-7000-8000-${String(n).padStart(12, '0')}`,
    protocol: 'kubernetes',
    startedAt: process.hrtime.bigint(),
    connection,
    identity,
    sessionId,
    action: { protocol: 'kubernetes', connection, verb: 'get', ...action },
    decision,
    facts: { method: 'GET', remoteAddress: '10.0.0.7', userAgent: 'kubectl/v1.33.0', ...facts },
  };
}
const allow: Exchange['decision'] = { effect: 'allow', rules: ['agents-read'], message: 'reads are allowed', defaulted: false };
const deny: Exchange['decision'] = { effect: 'deny', rules: ['protect-system-namespaces'], message: 'namespaces cannot be deleted', defaulted: false };
const review: Exchange['decision'] = { effect: 'review', rules: ['prod-writes'], message: 'writes to prod need a human', defaulted: false };
const answer = (x: Exchange, status: number, data: Record<string, unknown> = {}, time?: string): EntryInput => ({
  type: 'response',
  ...(time ? { time } : {}),
  sessionId: x.sessionId,
  connection: x.connection,
  data: { requestId: x.id, status, durationMs: 3, ...data },
});

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'airlock-cli-export-'));
  dataDir = join(dir, 'data');
  const ledger = await openLedger({ dataDir, store: { kind: 'sqlite' }, checkpoint: { entries: 10_000, intervalMs: 3_600_000 } });
  try {
    // An old session of agent:ops on staging.
    const old = exchange(ops, 'ses_ops', 'staging', { resource: 'pods', namespace: 'web' }, allow);
    ids.old = old.id;
    await ledger.append({ ...requestEntry(old, { outcome: 'forwarded' }), time: OLD });
    await ledger.append(answer(old, 200, {}, OLD));

    // Today: the bot reads, is denied a delete (with a hostile name), asks for a write, is approved, and opens a shell.
    const get = exchange(bot, 'ses_bot', 'prod', { resource: 'pods', namespace: 'shop', name: 'web-1' }, allow, { target: '/api/v1/namespaces/shop/pods/web-1' });
    ids.get = get.id;
    await Promise.all([ledger.append(requestEntry(get, { outcome: 'forwarded' })), ledger.append(answer(get, 200))]);
    const del = exchange(bot, 'ses_bot', 'prod', { verb: 'delete', resource: 'namespaces', name: '=HYPERLINK("x")' }, deny, { method: 'DELETE' });
    ids.delete = del.id;
    await ledger.append(requestEntry(del, { outcome: 'refused', status: 403, reason: 'policy-denied', message: 'denied by protect-system-namespaces' }));
    const held = exchange(bot, 'ses_bot', 'prod', { verb: 'patch', resource: 'deployments', apiGroup: 'apps', namespace: 'shop', name: 'web' }, review, { method: 'PATCH', approval: { id: 'apr_9' } });
    ids.held = held.id;
    await ledger.append({ type: 'approval.requested', sessionId: 'ses_bot', connection: 'prod', identity: { subject: bot.subject, groups: bot.groups, issuer: bot.issuer, kind: bot.kind, tokenId: bot.tokenId, via: bot.via }, data: { approvalId: 'apr_9' } });
    await ledger.append(requestEntry(held, { outcome: 'refused', status: 429, reason: 'approval-pending', message: 'waiting for approval apr_9' }));
    await ledger.append({ type: 'approval.approved', connection: 'prod', identity: { subject: 'human:alice', groups: ['sre'], issuer: 'https://idp.example', kind: 'human', tokenId: 't', via: 'oidc' }, data: { approvalId: 'apr_9', approvals: 1, required: 1, state: 'approved', reason: 'release 42' } });
    const granted = exchange(bot, 'ses_bot', 'prod', { verb: 'patch', resource: 'deployments', apiGroup: 'apps', namespace: 'shop', name: 'web' }, review, { method: 'PATCH', approval: { id: 'apr_9', grant: 'request', approvedBy: ['human:alice'] } });
    granted.recordedRequest = { contentType: 'application/merge-patch+json', body: '{"spec":{"replicas":3}}' };
    ids.granted = granted.id;
    await ledger.append(requestEntry(granted, { outcome: 'forwarded' }));
    await ledger.append(answer(granted, 200));
    const exec = exchange(bot, 'ses_bot', 'prod', { verb: 'create', resource: 'pods', namespace: 'shop', name: 'web-1', subresource: 'exec', command: ['sh'] }, allow);
    ids.exec = exec.id;
    await ledger.append(requestEntry(exec, { outcome: 'forwarded' }));
    const events = [
      { t: 0, kind: 'r', data: '100x30' },
      { t: 0.5, kind: 'o', data: '$ ' },
      { t: 1.25, kind: 'x', data: '0' },
    ];
    // Written as ledgers before the byte format held terminal batches: a JSON list, still read.
    await ledger.append({ type: 'stream', sessionId: 'ses_bot', connection: 'prod', response: { contentType: TERMINAL_BATCH_JSON_TYPE, body: JSON.stringify(events) }, data: { requestId: exec.id, part: 1, terminal: true } });
    await ledger.append(answer(exec, 101, { terminal: true }));
  } finally {
    await ledger.close();
  }
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | string | undefined;
  stdout: string;
  stderr: string;
}

/** A Writable that takes its time: a small buffer, so the export must wait for 'drain'. */
function slowSink(): { stream: Writable; text: () => string; drains: () => number } {
  const chunks: Buffer[] = [];
  let drains = 0;
  const stream = new Writable({
    highWaterMark: 16,
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk);
      setImmediate(done);
    },
  });
  stream.on('drain', () => drains++);
  return { stream, text: () => Buffer.concat(chunks).toString('utf8'), drains: () => drains };
}

/** run runs `airlock ARGS` in-process with the sessions and export commands, and captures it. */
async function run(args: string[], sink = slowSink()): Promise<Run & { sink: ReturnType<typeof slowSink> }> {
  let out = '';
  let err = '';
  const program = new Command('airlock').exitOverride();
  program.configureOutput({ writeOut: (t) => void (out += t), writeErr: (t) => void (err += t) });
  const io = { out: (t: string) => void (out += t), err: (t: string) => void (err += t), now: () => new Date() };
  registerSessions(program, io);
  registerExport(program, { ...io, stdout: sink.stream });
  const saved = process.exitCode;
  process.exitCode = undefined;
  let code: number | string | undefined;
  try {
    await program.parseAsync([...args, '--data', dataDir], { from: 'user' });
    code = process.exitCode ?? 0;
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    code = e.exitCode;
  } finally {
    process.exitCode = saved;
  }
  return { code, stdout: out + sink.text(), stderr: err, sink };
}

const sessionIds = async (args: string[]): Promise<string[]> => {
  const r = await run(['sessions', 'list', '--json', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as SessionSummary[]).map((s) => s.sessionId);
};

describe('airlock sessions list', () => {
  it('lists each session with its counts', async () => {
    const r = await run(['sessions', 'list']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /^ses_ops {2}agent:ops {2}2024-03-01T12:00:00\.000Z \.\. 2024-03-01T12:00:00\.000Z {2}1 request \(allow 1, deny 0, review 0; refused 0\) {2}on staging$/);
    assert.match(lines[1]!, /^ses_bot {2}agent:deploy-bot .* 5 requests \(allow 2, deny 1, review 2; refused 2\) {2}on prod {2}approvals apr_9:approved {2}1 terminal session$/);
  });

  it('filters by identity, connection, time, decision and approval', async () => {
    assert.deepEqual(await sessionIds(['--identity', 'agent:ops']), ['ses_ops']);
    assert.deepEqual(await sessionIds(['--connection', 'prod']), ['ses_bot']);
    assert.deepEqual(await sessionIds(['--since', '7d']), ['ses_bot']);
    assert.deepEqual(await sessionIds(['--until', '2025-01-01']), ['ses_ops']);
    assert.deepEqual(await sessionIds(['--decision', 'deny']), ['ses_bot']);
    assert.deepEqual(await sessionIds(['--approval', 'approved']), ['ses_bot']);
    assert.deepEqual(await sessionIds(['--approval', 'none']), ['ses_ops']);
    assert.deepEqual(await sessionIds(['--approval', 'denied']), []);
  });

  it('refuses a bad flag with exit code 2 and a plain error', async () => {
    const badDecision = await run(['sessions', 'list', '--decision', 'maybe']);
    assert.equal(badDecision.code, 2);
    assert.match(badDecision.stderr, /Allowed choices are allow, deny, review/);
    const badSince = await run(['sessions', 'list', '--since', 'last tuesday']);
    assert.equal(badSince.code, 2);
    assert.match(badSince.stderr, /^airlock: .*--since "last tuesday" is neither a time .* \[AIRLOCK_INPUT_INVALID\]$/m);
  });
});

describe('airlock sessions show', () => {
  it('tells the session in order: requests with decision and status, approval steps, the shell to replay', async () => {
    const r = await run(['sessions', 'show', 'ses_bot']);
    assert.equal(r.code, 0, r.stderr);
    const text = r.stdout;
    assert.match(text, /^session ses_bot$/m);
    assert.match(text, /who: {6}agent:deploy-bot \(agent\) from https:\/\/airlock\.local, groups agents/);
    assert.match(text, /get pods shop\/web-1 {2}allow \[agents-read\] {2}forwarded {2}status 200/);
    assert.match(text, /delete namespaces =HYPERLINK\("x"\) {2}deny \[protect-system-namespaces\] {2}refused \(policy-denied\) {2}status 403/);
    assert.match(text, /patch deployments shop\/web {2}review \[prod-writes\] {2}refused \(approval-pending\) {2}status 429 {2}approval pending apr_9/);
    assert.match(text, /approval apr_9 approved by human:alice: release 42/);
    assert.match(text, /forwarded {2}status 200 {2}approval approved apr_9 by human:alice/);
    assert.match(text, new RegExp(`terminal session: airlock replay ${ids.exec}`));
    // Chronological: requested, held, approved, let through.
    const order = ['approval apr_9 requested', 'approval pending apr_9', 'approval apr_9 approved', 'approval approved apr_9'].map((s) => text.indexOf(s));
    assert.deepEqual([...order].sort((a, b) => a - b), order);
    assert.ok(order.every((i) => i >= 0));
  });

  it('an unknown session exits 2', async () => {
    const r = await run(['sessions', 'show', 'ses_nope']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no recorded session "ses_nope"/);
  });
});

describe('airlock export', () => {
  it('sessions --format csv streams every request through a slow output, waiting for drain', async () => {
    const r = await run(['export', 'sessions', '--format', 'csv']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\r\n');
    assert.equal(lines[0], CSV_COLUMNS.join(','));
    assert.equal(lines.length, 1 + 6 + 1);
    assert.ok(r.sink.drains() > 0, 'the export waited for the output to drain');
    const deleteLine = lines.find((l) => l.includes(ids.delete!))!;
    // The hostile name is quoted and defused.
    assert.ok(deleteLine.includes(`"'=HYPERLINK(""x"")"`), deleteLine);
  });

  it('sessions --format jsonl --since and --out FILE', async () => {
    const file = join(dir, 'recent.jsonl');
    const r = await run(['export', 'sessions', '--format', 'jsonl', '--since', '2025-01-01T00:00:00Z', '--out', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    const rows = readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { id: string; status?: number; approval: string });
    assert.deepEqual(
      rows.map((x) => x.id),
      [ids.get, ids.delete, ids.held, ids.granted, ids.exec],
    );
    assert.deepEqual(
      rows.map((x) => x.status),
      [200, 403, 429, 200, 101],
    );
    assert.equal(rows[3]!.approval, 'approved');
  });

  it('k8s-audit writes one audit.k8s.io/v1 Event per request', async () => {
    const r = await run(['export', 'k8s-audit', '--until', '2025-01-01T00:00:00Z']);
    assert.equal(r.code, 0, r.stderr);
    const events = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as K8sAuditEvent);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.auditID, ids.old);
    assert.equal(events[0]!.user.username, 'agent:ops');
    assert.equal(events[0]!.responseStatus?.code, 200);
    assert.equal(events[0]!.annotations['airlock.dev/connection'], 'staging');
  });

  it('replay SESSION --out DIR writes api.jsonl and an asciicast per terminal session', async () => {
    const out = join(dir, 'replay');
    const r = await run(['export', 'replay', 'ses_bot', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(out).sort(), [`${ids.exec}.cast`, 'api.jsonl'].sort());
    const api = readFileSync(join(out, 'api.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { id: string; method?: string; request?: { text?: string }; status?: number });
    assert.equal(api.length, 5);
    const patch = api.find((l) => l.id === ids.granted)!;
    assert.equal(patch.method, 'PATCH');
    assert.equal(patch.request?.text, '{"spec":{"replicas":3}}');
    const cast = parseAsciicast(readFileSync(join(out, `${ids.exec}.cast`), 'utf8'));
    assert.equal(cast.header.width, 100);
    assert.ok(cast.events.some(([, code, data]) => code === 'o' && data === '$ '));
    assert.match(r.stdout, /api\.jsonl: 5 requests/);
  });

  it('replay of an unknown session and a bad --format exit 2', async () => {
    const unknown = await run(['export', 'replay', 'ses_nope', '--out', join(dir, 'nope')]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no recorded requests in session "ses_nope"/);
    const format = await run(['export', 'sessions', '--format', 'xml']);
    assert.equal(format.code, 2);
  });
});
