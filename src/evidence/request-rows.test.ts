/**
 * The request read model against a real SQLite ledger whose entries are written the way the
 * gateway writes them (requestEntry for requests and refusals, response and stream entries
 * linked by requestId): joins, refusals, approvals, terminal sessions, imported history,
 * sessions, and a window that stays bounded however long the ledger is.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requestEntry } from '../gateway/recording.js';
import type { Exchange } from '../gateway/exchange.js';
import type { Identity } from '../identity/identity.js';
import { openLedger, openLedgerReader, type EntryInput, type Ledger, type LedgerReader } from '../ledger/index.js';
import type { PolicyRequest } from '../policy/request.js';
import { apiReplay, sessionTerminals } from './api-replay.js';
import { requestRows, sessionSummaries, type RequestRow } from './request-rows.js';
import { encodeTerminalBatch, TERMINAL_BATCH_TYPE } from './terminal-batch.js';

const bot: Identity = { subject: 'agent:deploy-bot', groups: ['agents', 'ci'], issuer: 'https://airlock.local', tokenId: 'tok-1', expiresAt: 2e9, kind: 'agent', via: 'builtin' };
const alice: Identity = { subject: 'human:alice', groups: ['sre'], issuer: 'https://idp.example', tokenId: 'tok-2', expiresAt: 2e9, kind: 'human', via: 'oidc' };
const BOT_SESSION = 'ses_bot';
const ALICE_SESSION = 'ses_alice';

let counter = 0;
/** exchange builds what the pipeline knows about a decided request. */
function exchange(identity: Identity | undefined, action: PolicyRequest | undefined, decision: Exchange['decision'], facts: Record<string, unknown> = {}): Exchange {
  counter++;
  return {
    id: `0190000${String(counter).padStart(2, '0')}-0000-7000-8000-000000000000`,
    protocol: 'kubernetes',
    startedAt: process.hrtime.bigint(),
    connection: 'sandbox',
    ...(identity ? { identity, sessionId: identity === bot ? BOT_SESSION : ALICE_SESSION } : {}),
    ...(action ? { action } : {}),
    ...(decision ? { decision } : {}),
    facts: { method: 'GET', userAgent: 'kubectl/v1.33.0', remoteAddress: '127.0.0.1', ...facts },
  };
}

const k8s = (fields: Partial<PolicyRequest>): PolicyRequest => ({ protocol: 'kubernetes', connection: 'sandbox', verb: 'get', apiVersion: 'v1', apiGroup: '', ...fields });
const allow = (rule: string): Exchange['decision'] => ({ effect: 'allow', rules: [rule], message: `${rule} allows it`, defaulted: false });
const response = (x: Exchange, status: number, extra: Partial<EntryInput> = {}, data: Record<string, unknown> = {}): EntryInput => ({
  type: 'response',
  sessionId: x.sessionId,
  connection: x.connection,
  data: { requestId: x.id, status, durationMs: 12.5, ...data },
  ...extra,
});

let dir: string;
let reader: LedgerReader;
const ids: Record<string, string> = {};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'airlock-request-rows-'));
  const ledger = await openLedger({ dataDir: dir, store: { kind: 'sqlite' }, inlineLimit: 256, checkpoint: { entries: 100_000, intervalMs: 3_600_000 } });
  try {
    await writeStory(ledger);
  } finally {
    await ledger.close();
  }
  reader = await openLedgerReader({ dataDir: dir, store: { kind: 'sqlite' } });
});
after(async () => {
  await reader?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function writeStory(ledger: Ledger): Promise<void> {
  // A read: request and answer in one commit.
  const get = exchange(bot, k8s({ verb: 'get', resource: 'pods', namespace: 'shop', name: 'web-1' }), allow('agents-read'), { target: '/api/v1/namespaces/shop/pods/web-1' });
  ids.get = get.id;
  await Promise.all([ledger.append(requestEntry(get, { outcome: 'forwarded' })), ledger.append(response(get, 200, { response: { contentType: 'application/json', body: '{"kind":"Pod","metadata":{"name":"web-1"}}' } }))]);

  // A write: recorded first, answered a few entries later, with a body large enough for the blob store.
  const create = exchange(bot, k8s({ verb: 'create', resource: 'deployments', apiGroup: 'apps', namespace: 'shop' }), allow('agents-write'), { method: 'POST', target: '/apis/apps/v1/namespaces/shop/deployments' });
  create.recordedRequest = { contentType: 'application/json', body: JSON.stringify({ kind: 'Deployment', metadata: { name: 'web' }, spec: { note: 'x'.repeat(400) } }) };
  ids.create = create.id;
  await ledger.append(requestEntry(create, { outcome: 'forwarded' }));

  // A denied delete, refused before it went anywhere.
  const del = exchange(bot, k8s({ verb: 'delete', resource: 'namespaces', name: 'kube-system' }), { effect: 'deny', rules: ['protect-system-namespaces'], message: 'namespaces cannot be deleted through airlock', defaulted: false }, { method: 'DELETE', target: '/api/v1/namespaces/kube-system' });
  ids.delete = del.id;
  await ledger.append(requestEntry(del, { outcome: 'refused', status: 403, reason: 'policy-denied', message: 'denied by rule protect-system-namespaces' }));
  await ledger.append(response(create, 201, {}, { bytes: 120 }));

  // A review: first held and answered 429, approved, then let through by the grant.
  const review = { effect: 'review' as const, rules: ['scale-needs-approval'], message: 'scaling prod needs a human', defaulted: false };
  const scaleAction = k8s({ verb: 'patch', resource: 'deployments', apiGroup: 'apps', namespace: 'shop', name: 'web', subresource: 'scale' });
  const held = exchange(bot, scaleAction, review, { method: 'PATCH', approval: { id: 'apr_1' } });
  ids.held = held.id;
  await ledger.append({ type: 'approval.requested', identity: { subject: bot.subject, groups: bot.groups, issuer: bot.issuer, kind: bot.kind, tokenId: bot.tokenId, via: bot.via }, sessionId: BOT_SESSION, connection: 'sandbox', data: { approvalId: 'apr_1' } });
  await ledger.append(requestEntry(held, { outcome: 'refused', status: 429, reason: 'approval-pending', message: 'this request is waiting for approval apr_1' }));
  await ledger.append({ type: 'approval.approved', identity: { subject: alice.subject, groups: alice.groups, issuer: alice.issuer, kind: alice.kind, tokenId: alice.tokenId, via: alice.via }, connection: 'sandbox', data: { approvalId: 'apr_1', approvals: 1, required: 1, state: 'approved', reason: 'planned scale-up' } });
  const granted = exchange(bot, scaleAction, review, { method: 'PATCH', approval: { id: 'apr_1', grant: 'request', approvedBy: ['human:alice'] } });
  ids.granted = granted.id;
  await ledger.append({ type: 'approval.used', sessionId: BOT_SESSION, connection: 'sandbox', data: { approvalId: 'apr_1', requestId: granted.id, grant: 'request' } });
  await ledger.append(requestEntry(granted, { outcome: 'forwarded' }));
  await ledger.append(response(granted, 200));

  // Another approval, denied.
  const refusedScale = exchange(bot, k8s({ ...scaleAction, name: 'db' }), review, { method: 'PATCH', approval: { id: 'apr_2' } });
  ids.deniedApproval = refusedScale.id;
  await ledger.append(requestEntry(refusedScale, { outcome: 'refused', status: 403, reason: 'approval-denied', message: 'approval apr_2 was denied by human:alice: not today' }));

  // Refused before authentication: no identity, no session, no decision.
  const anonymous = exchange(undefined, undefined, undefined, { target: '/api/v1/secrets' });
  ids.anonymous = anonymous.id;
  await ledger.append(requestEntry(anonymous, { outcome: 'refused', status: 401, reason: 'unauthenticated', message: 'no credential was presented' }));

  // A shell: recorded first, terminal batches, the answer when it ends.
  const exec = exchange(alice, k8s({ verb: 'create', resource: 'pods', namespace: 'shop', name: 'web-1', subresource: 'exec', command: ['sh', '-c', 'echo hi'] }), allow('sre-exec'), { method: 'GET' });
  ids.exec = exec.id;
  await ledger.append(requestEntry(exec, { outcome: 'forwarded' }));
  const events = [
    { t: 0.01, kind: 'o' as const, bytes: Buffer.from('hi\n') },
    { t: 0.02, kind: 'x' as const, bytes: Buffer.from('0') },
  ];
  await ledger.append({ type: 'stream', sessionId: ALICE_SESSION, connection: 'sandbox', response: { contentType: TERMINAL_BATCH_TYPE, body: encodeTerminalBatch(events) }, data: { requestId: exec.id, part: 1, terminal: true, events: 2 } });
  await ledger.append(response(exec, 101, {}, { terminal: true, transport: 'websocket' }));

  // History brought in from elsewhere keeps its own time and status.
  const imported = await ledger.append({
    type: 'imported',
    time: '2024-06-01T10:00:00.000Z',
    sessionId: 'ses_old',
    identity: { subject: 'agent:legacy', groups: [], issuer: 'https://old.example', kind: 'agent', tokenId: 'old', via: 'import' },
    connection: 'sandbox',
    action: k8s({ verb: 'list', resource: 'pods', namespace: 'shop' }),
    decision: { effect: 'allow', rules: ['legacy'], message: 'imported' },
    data: { protocol: 'kubernetes', outcome: 'forwarded', status: 200 },
  });
  ids.imported = imported.id;
}

async function allRows(query = {}): Promise<RequestRow[]> {
  const rows: RequestRow[] = [];
  for await (const row of requestRows(reader, query)) rows.push(row);
  return rows;
}

describe('requestRows', () => {
  it('yields one row per request and imported entry, in ledger order, joined with its answer', async () => {
    const rows = await allRows();
    assert.deepEqual(
      rows.map((r) => r.id),
      [ids.get, ids.create, ids.delete, ids.held, ids.granted, ids.deniedApproval, ids.anonymous, ids.exec, ids.imported],
    );
    assert.deepEqual(
      rows.map((r) => r.seq),
      [...rows.map((r) => r.seq)].sort((a, b) => a - b),
    );
    const get = rows[0]!;
    assert.equal(get.status, 200);
    assert.equal(get.durationMs, 12.5);
    assert.equal(get.subject, 'agent:deploy-bot');
    assert.deepEqual(get.groups, ['agents', 'ci']);
    assert.equal(get.identityKind, 'agent');
    assert.equal(get.sessionId, BOT_SESSION);
    assert.equal(get.verb, 'get');
    assert.equal(get.resource, 'pods');
    assert.equal(get.namespace, 'shop');
    assert.equal(get.name, 'web-1');
    assert.equal(get.target, '/api/v1/namespaces/shop/pods/web-1');
    assert.equal(get.userAgent, 'kubectl/v1.33.0');
    assert.equal(get.decision, 'allow');
    assert.deepEqual(get.rules, ['agents-read']);
    assert.equal(get.outcome, 'forwarded');
    assert.equal(get.approval, 'none');
    assert.match(get.hash, /^[0-9a-f]{64}$/);
    // The write's answer came two entries later, after a refusal; still joined, still in order.
    const create = rows[1]!;
    assert.equal(create.status, 201);
    assert.equal(create.apiGroup, 'apps');
    assert.equal(create.method, 'POST');
  });

  it('a refusal carries airlock\'s own status and reason', async () => {
    const rows = await allRows();
    const del = rows.find((r) => r.id === ids.delete)!;
    assert.equal(del.decision, 'deny');
    assert.deepEqual(del.rules, ['protect-system-namespaces']);
    assert.equal(del.outcome, 'refused');
    assert.equal(del.refusalReason, 'policy-denied');
    assert.equal(del.status, 403);
    const anonymous = rows.find((r) => r.id === ids.anonymous)!;
    assert.equal(anonymous.subject, undefined);
    assert.equal(anonymous.decision, undefined);
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.refusalReason, 'unauthenticated');
  });

  it('approvals: held (pending), let through by a grant (approved, with the approver), denied', async () => {
    const rows = await allRows();
    const held = rows.find((r) => r.id === ids.held)!;
    assert.equal(held.approval, 'pending');
    assert.equal(held.approvalId, 'apr_1');
    assert.equal(held.status, 429);
    const granted = rows.find((r) => r.id === ids.granted)!;
    assert.equal(granted.approval, 'approved');
    assert.equal(granted.approvalId, 'apr_1');
    assert.deepEqual(granted.approvedBy, ['human:alice']);
    assert.equal(granted.status, 200);
    const denied = rows.find((r) => r.id === ids.deniedApproval)!;
    assert.equal(denied.approval, 'denied');
    assert.equal(denied.approvalId, 'apr_2');
    assert.equal(denied.status, 403);
  });

  it('an exec is a terminal row with status 101; an imported entry is flagged and keeps its status', async () => {
    const rows = await allRows();
    const exec = rows.find((r) => r.id === ids.exec)!;
    assert.equal(exec.status, 101);
    assert.equal(exec.terminal, true);
    assert.deepEqual(exec.command, ['sh', '-c', 'echo hi']);
    const imported = rows.find((r) => r.id === ids.imported)!;
    assert.equal(imported.imported, true);
    assert.equal(imported.status, 200);
    assert.equal(imported.time, '2024-06-01T10:00:00.000Z');
    assert.equal(rows.filter((r) => r.imported).length, 1);
  });

  it('since/until and sessionId narrow the rows', async () => {
    const bot = await allRows({ sessionId: BOT_SESSION });
    assert.deepEqual(
      bot.map((r) => r.id),
      [ids.get, ids.create, ids.delete, ids.held, ids.granted, ids.deniedApproval],
    );
    const old = await allRows({ until: '2025-01-01T00:00:00.000Z' });
    assert.deepEqual(
      old.map((r) => r.id),
      [ids.imported],
    );
  });
});

describe('sessionSummaries', () => {
  it('counts each session\'s requests by decision, with its approvals and terminal sessions', async () => {
    const sessions = await sessionSummaries(reader);
    assert.deepEqual(
      sessions.map((s) => s.sessionId),
      ['ses_old', BOT_SESSION, ALICE_SESSION],
    );
    const bot = sessions.find((s) => s.sessionId === BOT_SESSION)!;
    assert.equal(bot.subject, 'agent:deploy-bot');
    assert.equal(bot.requests, 6);
    assert.deepEqual(bot.decisions, { allow: 2, deny: 1, review: 3 });
    assert.equal(bot.refused, 3);
    assert.deepEqual(bot.approvals, [
      { id: 'apr_1', status: 'approved' },
      { id: 'apr_2', status: 'denied' },
    ]);
    assert.deepEqual(bot.connections, ['sandbox']);
    assert.deepEqual(bot.terminalSessions, []);
    const alice = sessions.find((s) => s.sessionId === ALICE_SESSION)!;
    assert.deepEqual(
      alice.terminalSessions.map((t) => t.id),
      [ids.exec],
    );
  });

  it('filters by identity, decision and approval', async () => {
    const ids = async (filter: Parameters<typeof sessionSummaries>[1]) => (await sessionSummaries(reader, filter)).map((s) => s.sessionId);
    assert.deepEqual(await ids({ identity: 'human:alice' }), [ALICE_SESSION]);
    assert.deepEqual(await ids({ decision: 'deny' }), [BOT_SESSION]);
    assert.deepEqual(await ids({ approval: 'denied' }), [BOT_SESSION]);
    assert.deepEqual(await ids({ approval: 'none' }), ['ses_old', ALICE_SESSION]);
    assert.deepEqual(await ids({ connection: 'elsewhere' }), []);
  });
});

describe('apiReplay and sessionTerminals', () => {
  it('gives each request its masked bodies, from the entry or the blob store', async () => {
    const lines = [];
    for await (const line of apiReplay(reader, BOT_SESSION)) lines.push(line);
    assert.equal(lines.length, 6);
    const get = lines.find((l) => l.id === ids.get)!;
    assert.equal(get.response?.text, '{"kind":"Pod","metadata":{"name":"web-1"}}');
    assert.equal(get.status, 200);
    const create = lines.find((l) => l.id === ids.create)!;
    // Larger than the inline limit: read back from the blob store by its digest.
    assert.match(create.request?.text ?? '', /^\{"kind":"Deployment".*x{400}/);
    assert.equal(create.method, 'POST');
    assert.equal(create.target, '/apis/apps/v1/namespaces/shop/deployments');
  });

  it('gathers the terminal events of each exec in a session', async () => {
    const terminals = await sessionTerminals(reader, ALICE_SESSION);
    assert.equal(terminals.length, 1);
    assert.equal(terminals[0]!.request.id, ids.exec);
    assert.deepEqual(
      terminals[0]!.events.map((e) => e.data),
      ['hi\n', '0'],
    );
    assert.deepEqual(await sessionTerminals(reader, BOT_SESSION), []);
  });
});

describe('the look-ahead window', () => {
  let bigDir: string;
  let big: LedgerReader;
  const REQUESTS = 10_000;
  const watchIds: string[] = [];
  before(async () => {
    bigDir = mkdtempSync(join(tmpdir(), 'airlock-request-rows-big-'));
    const ledger = await openLedger({ dataDir: bigDir, store: { kind: 'sqlite' }, checkpoint: { entries: 1_000_000, intervalMs: 3_600_000 } });
    try {
      // 10,000 requests and 10,000 answers; each answer lands up to 7 requests after its
      // request; two watches answer only at the very end; every 97th request is never answered.
      const batch: EntryInput[] = [];
      const late: EntryInput[] = [];
      const due = new Map<number, EntryInput[]>();
      let entries = 0;
      for (let i = 0; i < REQUESTS; i++) {
        const watch = i === 5 || i === 4000;
        const action = k8s({ verb: watch ? 'watch' : 'get', resource: 'pods', namespace: 'shop', name: watch ? undefined : `pod-${i}` });
        const x = exchange(bot, action, allow('agents-read'));
        (x as { id: string }).id = `01900000-0000-7000-8000-${String(i).padStart(12, '0')}`;
        if (watch) watchIds.push(x.id);
        batch.push(requestEntry(x, { outcome: 'forwarded' }));
        for (const answer of due.get(i) ?? []) batch.push(answer);
        due.delete(i);
        if (watch) late.push(response(x, 200, {}, { streamed: true }));
        else if (i % 97 !== 0) {
          const at = i + (i % 8);
          due.set(at, [...(due.get(at) ?? []), response(x, 200)]);
        }
        if (batch.length >= 500) {
          entries += batch.length;
          await Promise.all(batch.splice(0).map((e) => ledger.append(e)));
        }
      }
      for (const answers of due.values()) batch.push(...answers);
      batch.push(...late);
      entries += batch.length;
      await Promise.all(batch.splice(0).map((e) => ledger.append(e)));
      assert.ok(entries > 19_000, `${entries} entries`);
    } finally {
      await ledger.close();
    }
    big = await openLedgerReader({ dataDir: bigDir, store: { kind: 'sqlite' } });
  });
  after(async () => {
    await big?.close();
    rmSync(bigDir, { recursive: true, force: true });
  });

  it('stays bounded by the requests still waiting, not by the ledger, and keeps request order', async () => {
    let largest = 0;
    let read = 0;
    let readAtFirstRow = -1;
    let count = 0;
    let lastSeq = 0;
    for await (const row of requestRows(big, { maxPending: 100, onWindow: (n) => ((largest = Math.max(largest, n)), read++) })) {
      if (readAtFirstRow < 0) readAtFirstRow = read;
      assert.ok(row.seq > lastSeq, 'rows come out in ledger order');
      lastSeq = row.seq;
      count++;
    }
    assert.equal(count, REQUESTS);
    assert.ok(largest <= 101, `the window held ${largest} requests`);
    // Streaming: the first row is out long before the ledger has been read.
    assert.ok(readAtFirstRow < 300, `first row after ${readAtFirstRow} entries`);
  });

  it('a watch that outlives the window still gets its late answer; an unanswered request has no status', async () => {
    const rows = new Map<string, RequestRow>();
    for await (const row of requestRows(big, { maxPending: 100 })) if (row.verb === 'watch' || row.name === 'pod-97' || row.name === 'pod-98') rows.set(row.name ?? row.id, row);
    for (const id of watchIds) assert.equal(rows.get(id)?.status, 200, `watch ${id}`);
    assert.equal(rows.get('pod-97')?.status, undefined);
    assert.equal(rows.get('pod-98')?.status, 200);
  });
});
