/**
 * The pipeline's ordering guarantees, with the real policy engine and the real SQLite ledger;
 * the protocol adapter is a small scripted one (the Kubernetes adapter is covered end to end
 * under test/e2e/kubernetes). Each test reads the order of events: what was durable in the
 * ledger when the adapter forwarded, released or refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLedger } from '../ledger/index.js';
import type { EntryInput, Ledger } from '../ledger/types.js';
import { silentLogger } from '../log.js';
import { compilePolicy } from '../policy/index.js';
import type { Identity } from '../identity/identity.js';
import type { ProtocolAdapter } from './adapter.js';
import type { Exchange, Refusal } from './exchange.js';
import { buildPipeline } from './pipeline.js';
import { isRead } from './recording.js';
import { Approvals } from '../review/approvals.js';

const policy = compilePolicy(
  [
    'default: allow',
    'rules:',
    '  - name: no-deletes',
    '    match: request.verb == "delete"',
    '    effect: deny',
    '    message: deletes are not allowed',
    '  - name: exec-needs-approval',
    '    match: has(request.subresource) && request.subresource == "exec"',
    '    effect: review',
    '    message: a shell needs approval',
    '    approvers: [group:sre]',
    '',
  ].join('\n'),
);

const alice: Identity = { subject: 'agent:alice', groups: ['ci'], issuer: 'https://idp', tokenId: 't-1', expiresAt: 2e9, kind: 'agent', via: 'test' };
const sam: Identity = { subject: 'human:sam', groups: ['sre'], issuer: 'https://idp', tokenId: 't-2', expiresAt: 2e9, kind: 'human', via: 'test' };

interface Script {
  verb: string;
  subresource?: string;
  throwIn?: 'interpret' | 'forward';
}

/** A ledger that notes every append's completion in `events` (around the real SQLite ledger). */
/** observed notes each durable append; with `fail.now` appends fail, and health says so once one has. */
function observed(ledger: Ledger, events: string[], fail: { now: boolean }): Pick<Ledger, 'append' | 'health'> {
  let failed = false;
  return {
    async append(input: EntryInput) {
      failed = fail.now;
      if (fail.now) throw new Error('disk full');
      const entry = await ledger.append(input);
      events.push(`durable:${input.type}`);
      return entry;
    },
    health: () => (failed ? { ...ledger.health(), writable: false, lastError: 'disk full' } : ledger.health()),
  };
}

function scriptedAdapter(script: Script, events: string[]): ProtocolAdapter<Exchange> {
  return {
    protocol: 'test',
    async admit(x) {
      x.connection = 'c1';
      x.credential = 'token';
    },
    async interpret(x) {
      if (script.throwIn === 'interpret') throw new Error('adapter bug');
      x.action = { protocol: 'test', connection: 'c1', verb: script.verb, resource: 'things', ...(script.subresource ? { subresource: script.subresource } : {}) };
    },
    async forward(x, record) {
      events.push('forward');
      if (script.throwIn === 'forward') throw new Error('upstream adapter bug');
      await record.response({ status: 200, body: { body: 'ok' } });
      events.push('release');
    },
    async refuse(_x, r: Refusal) {
      events.push(`refuse:${r.status}:${r.reason}`);
    },
    describeForReview(x) {
      return { digest: `digest-of-${x.action?.verb}`, subject: { protocol: 'test', method: 'POST', target: '/things', summary: `${x.action?.verb} things`, action: {} } };
    },
  };
}

async function run(
  t: { after(fn: () => Promise<void> | void): void },
  script: Script,
  options: { ledgerFails?: boolean; ledgerFailedBefore?: boolean; holdMs?: number; duringHold?: (approvals: Approvals) => void } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-pipeline-'));
  const ledger = await openLedger({ dataDir: dir, store: { kind: 'sqlite' } });
  t.after(async () => {
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const events: string[] = [];
  const fail = { now: options.ledgerFails ?? false };
  const recorded = observed(ledger, events, fail);
  const approvals = new Approvals({
    ledger: recorded,
    config: { requestTtl: 60_000, grantTtl: 60_000, roles: { admin: [], approver: ['group:sre'], auditor: [] } },
    adminUrl: 'http://admin',
    logger: silentLogger,
  });
  t.after(() => approvals.close());
  // Once the approval request is durable (and, a turn later, in the book), an approver acts.
  if (options.duringHold) ledger.onEntry((e) => e.type === 'approval.requested' && setImmediate(() => options.duringHold?.(approvals)));
  const handle = buildPipeline(scriptedAdapter(script, events), {
    ledger: recorded,
    policy: () => policy,
    authenticate: async () => alice,
    logger: silentLogger,
    review: { approvals, holdMs: options.holdMs ?? 0, retryAfterMs: 1000 },
  });
  // An earlier append failed: the ledger knows it cannot write.
  if (options.ledgerFailedBefore) await recorded.append({ type: 'system', data: { event: 'probe' } }).catch(() => undefined);
  const x = exchange();
  await handle(x);
  return { events, x, handle, fail };
}

function exchange(): Exchange {
  return { id: `00000000-0000-7000-8000-${String(Math.floor(Math.random() * 1e12)).padStart(12, '0')}`, protocol: 'test', startedAt: process.hrtime.bigint(), facts: {} };
}

test('a write is durable in the ledger before it is forwarded, and its response before release', async (t) => {
  const { events } = await run(t, { verb: 'create' });
  assert.deepEqual(events, ['durable:request', 'forward', 'durable:response', 'release']);
});

test('a read is recorded with its answer in one commit, and nothing is released before both are durable', async (t) => {
  const { events } = await run(t, { verb: 'get' });
  assert.deepEqual(events, ['forward', 'durable:request', 'durable:response', 'release']);
});

test('streaming subresources are not reads: an exec, attach, port-forward or proxy is recorded before it opens', () => {
  const x = (verb: string, subresource?: string): Exchange => ({
    id: 'x',
    protocol: 'test',
    startedAt: 0n,
    facts: {},
    action: { protocol: 'test', connection: 'c1', verb, ...(subresource ? { subresource } : {}) },
  });
  assert.equal(isRead(x('get')), true);
  assert.equal(isRead(x('watch')), true);
  assert.equal(isRead(x('get', 'log')), true);
  for (const sub of ['exec', 'attach', 'portforward', 'proxy']) assert.equal(isRead(x('get', sub)), false, sub);
  assert.equal(isRead(x('create')), false);
  assert.equal(isRead(x('patch')), false);
});

test('a denied request is recorded, then refused, and never forwarded', async (t) => {
  const { events, x } = await run(t, { verb: 'delete' });
  assert.deepEqual(events, ['durable:request', 'refuse:403:policy-denied']);
  assert.equal(x.decision?.effect, 'deny');
  assert.deepEqual(x.decision?.rules, ['no-deletes']);
});

test('a review decision opens an approval request, then the caller is told to retry (429), both recorded', async (t) => {
  const { events, x } = await run(t, { verb: 'create', subresource: 'exec' });
  assert.deepEqual(events, ['durable:approval.requested', 'durable:request', 'refuse:429:approval-pending']);
  assert.match(String((x.facts.approval as { id: string }).id), /^apr-[0-9a-f]{20}$/);
});

test('approved while held: the use of the grant is recorded, then the request itself, then it is forwarded', async (t) => {
  const { events, x } = await run(t, { verb: 'create', subresource: 'exec' }, {
    holdMs: 30_000,
    duringHold: (approvals) => {
      const [pending] = approvals.list({ state: 'pending' });
      void approvals.approve(pending!.id, sam, 'looks fine');
    },
  });
  assert.deepEqual(events, ['durable:approval.requested', 'durable:approval.approved', 'durable:approval.used', 'durable:request', 'forward', 'durable:response', 'release']);
  assert.deepEqual((x.facts.approval as { approvedBy: string[] }).approvedBy, ['human:sam']);
});

test('when the ledger cannot write, a write is refused with 503 and never reaches upstream', async (t) => {
  const { events } = await run(t, { verb: 'create' }, { ledgerFails: true });
  assert.deepEqual(events, ['refuse:503:ledger-unavailable']);
});

test('when the ledger cannot write, a read is forwarded but its answer is never released', async (t) => {
  const { events } = await run(t, { verb: 'get' }, { ledgerFails: true });
  assert.ok(!events.includes('release'), events.join(','));
});

test('while the ledger is known not to write, a read is refused with 503 before it reaches upstream; once it writes again, reads flow', async (t) => {
  const { events, handle, fail } = await run(t, { verb: 'get' }, { ledgerFails: true, ledgerFailedBefore: true });
  assert.deepEqual(events, ['refuse:503:ledger-unavailable']);
  // The disk has room again: the next refusal is recorded, which tells the ledger it writes...
  fail.now = false;
  events.length = 0;
  await handle(exchange());
  assert.deepEqual(events, ['durable:request', 'refuse:503:ledger-unavailable']);
  // ...and the read after it is forwarded and released as usual.
  events.length = 0;
  await handle(exchange());
  assert.deepEqual(events, ['forward', 'durable:request', 'durable:response', 'release']);
});

test('a stage that throws becomes a recorded 500 refusal; the process carries on', async (t) => {
  const { events, x } = await run(t, { verb: 'get', throwIn: 'interpret' });
  assert.deepEqual(events, ['durable:request', 'refuse:500:internal']);
  assert.equal(x.facts.failure, 'adapter bug');
});
