/**
 * The approval book with the real SQLite ledger: who may approve, deny or revoke, what a grant
 * serves and for how long, what survives a restart, and what approvers are told. The clock is
 * injected (into the book and the ledger alike), so expiry is a matter of moving it; the few
 * tests of the book's own timers wait for the `approval.expired` entry instead.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { Identity } from '../identity/identity.js';
import { openLedger, openLedgerReader } from '../ledger/index.js';
import type { EntryInput, Ledger, LedgerEntry } from '../ledger/types.js';
import { silentLogger } from '../log.js';
import { Approvals, isApprovalActionError, type ApprovalAsk, type ApprovalErrorKind } from './approvals.js';
import type { ApprovalNotification, ApprovalRequest, Notifier } from './types.js';

const IDP = 'https://idp.example.test';
const T0 = Date.parse('2030-03-04T10:00:00.000Z');
const REQUEST_TTL = 60 * 60_000;
const GRANT_TTL = 15 * 60_000;
const APPROVAL_TYPES = ['approval.requested', 'approval.approved', 'approval.denied', 'approval.used', 'approval.expired', 'approval.revoked'];

function identity(subject: string, kind: Identity['kind'], groups: string[], issuer = IDP): Identity {
  return { subject, groups, issuer, tokenId: `tok-${subject}`, expiresAt: 2e9, kind, via: 'test' };
}

/** The agent that asks. */
const bot = identity('agent:deploy-bot', 'agent', ['ci']);
/** The same subject name, vouched for by another issuer: another identity. */
const botElsewhere = identity('agent:deploy-bot', 'agent', ['ci'], 'https://other-idp.example.test');
const otherBot = identity('agent:report-bot', 'agent', ['ci']);
/** Approvers named by the rule (group sre). */
const sam = identity('human:sam', 'human', ['sre']);
const kim = identity('human:kim', 'human', ['sre']);
/** Holds the approver role, but the rule names only group:sre. */
const lee = identity('human:lee', 'human', ['dba']);
/** Holds no role at all. */
const pat = identity('human:pat', 'human', ['dev']);
/** An agent in the approvers' group: approvers are people. */
const helperBot = identity('agent:helper-bot', 'agent', ['sre']);
/** An admin (not in group sre). */
const ada = identity('human:ada', 'human', []);

const roles = { admin: ['user:human:ada'], approver: ['group:sre', 'group:dba'], auditor: [] };

function digestOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const EXEC = digestOf('POST /api/v1/namespaces/default/pods/web-0/exec?command=sh');
const DELETE = digestOf('DELETE /api/v1/namespaces/default/pods/web-0');

function ask(over: Partial<ApprovalAsk> = {}): ApprovalAsk {
  return {
    connection: 'prod',
    identity: bot,
    rules: ['exec-needs-approval'],
    message: 'a shell needs approval',
    approvers: ['group:sre'],
    approvals: 1,
    digest: EXEC,
    scope: 'default',
    subject: {
      protocol: 'kubernetes',
      method: 'POST',
      target: '/api/v1/namespaces/default/pods/web-0/exec?command=sh',
      summary: 'create pods/exec "web-0" in default',
      action: { verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'default', name: 'web-0' },
    },
    requestEntryId: '01900000-0000-7000-8000-000000000001',
    ...over,
  };
}

interface Clock {
  now(): number;
  advance(ms: number): void;
}

function fakeClock(start = T0): Clock {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

interface BookOptions {
  /** Use the wall clock (for tests of the book's own timers). */
  realClock?: boolean;
  requestTtl?: number;
  grantTtl?: number;
  notifiers?: Notifier[];
  adminUrl?: string;
  /** Wraps the ledger the book writes to. */
  wrap?: (ledger: Ledger) => Pick<Ledger, 'append'>;
}

interface Book {
  approvals: Approvals;
  ledger: Ledger;
  clock: Clock;
  /** The durable entries of these types, oldest first, read back through a ledger reader. */
  entries(types?: string[]): Promise<LedgerEntry[]>;
  /** Resolves with the next durable entry that `match` accepts. */
  nextEntry(match: (e: LedgerEntry) => boolean): Promise<LedgerEntry>;
  /** A second book over the same ledger and clock, as after a restart. */
  another(): Approvals;
}

async function openBook(t: TestContext, options: BookOptions = {}): Promise<Book> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-approvals-'));
  const clock = options.realClock ? { now: Date.now, advance: () => assert.fail('the wall clock cannot be moved') } : fakeClock();
  const ledger = await openLedger({ dataDir: dir, store: { kind: 'sqlite' }, ...(options.realClock ? {} : { now: () => new Date(clock.now()) }) });
  const books: Approvals[] = [];
  const make = () => {
    const book = new Approvals({
      ledger: options.wrap ? options.wrap(ledger) : ledger,
      config: { requestTtl: options.requestTtl ?? REQUEST_TTL, grantTtl: options.grantTtl ?? GRANT_TTL, roles },
      ...(options.notifiers ? { notifiers: options.notifiers } : {}),
      adminUrl: options.adminUrl ?? 'https://airlock.example.test',
      logger: silentLogger,
      ...(options.realClock ? {} : { now: clock.now }),
    });
    books.push(book);
    return book;
  };
  const approvals = make();
  /** Entries still awaited when the test ends (it failed): stop waiting for them. */
  const awaited = new Set<() => void>();
  t.after(async () => {
    for (const stop of awaited) stop();
    for (const b of books) b.close();
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    approvals,
    ledger,
    clock,
    async entries(types = APPROVAL_TYPES) {
      const reader = await openLedgerReader({ dataDir: dir, store: { kind: 'sqlite' } });
      try {
        const out: LedgerEntry[] = [];
        for await (const e of reader.entries({ types })) out.push(e);
        return out;
      } finally {
        await reader.close();
      }
    },
    nextEntry(match) {
      return new Promise((resolve) => {
        // The book's own timers do not hold the process open; this does while the entry is awaited.
        const keepAlive = setInterval(() => undefined, 60_000);
        const off = ledger.onEntry((e) => {
          if (!match(e)) return;
          stop();
          resolve(e);
        });
        const stop = () => {
          off();
          clearInterval(keepAlive);
          awaited.delete(stop);
        };
        awaited.add(stop);
      });
    },
    another: make,
  };
}

async function refused(action: Promise<unknown>, kind: ApprovalErrorKind, message: RegExp): Promise<void> {
  await assert.rejects(action, (err: unknown) => {
    assert.ok(isApprovalActionError(err), `expected an ApprovalActionError, got ${String(err)}`);
    assert.equal(err.kind, kind);
    assert.equal(err.status, kind === 'not-found' ? 404 : kind === 'conflict' ? 409 : 403);
    assert.match(err.message, message);
    return true;
  });
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A suite that waits for an entry that never comes fails instead of hanging. */
const guard = { timeout: 60_000 };

describe('open', guard, () => {
  it('opens a pending request bound to the caller and the digest, and records it', async (t) => {
    const { approvals, entries } = await openBook(t);
    const a = await approvals.open(ask({ approvals: 2 }));
    assert.match(a.id, /^apr-[0-9a-f]{20}$/);
    assert.equal(a.state, 'pending');
    assert.deepEqual(a.requester, { subject: bot.subject, issuer: bot.issuer, groups: ['ci'], kind: 'agent' });
    assert.equal(a.digest, EXEC);
    assert.equal(a.approvalsRequired, 2);
    assert.equal(a.createdAt, iso(T0));
    assert.equal(a.expiresAt, iso(T0 + REQUEST_TTL));
    const recorded = await entries();
    assert.deepEqual(recorded.map((e) => [e.type, e.data?.approvalId, e.identity?.subject]), [['approval.requested', a.id, bot.subject]]);
    assert.deepEqual(recorded[0]?.data?.approval, a);
  });

  it('asked twice for the same request, returns the same approval request', async (t) => {
    const { approvals, entries } = await openBook(t);
    const first = await approvals.open(ask());
    const again = await approvals.open(ask({ requestEntryId: '01900000-0000-7000-8000-000000000002' }));
    assert.equal(again.id, first.id);
    assert.equal((await entries()).length, 1);
  });

  it('asked twice at once for the same request, opens and records one approval request', async (t) => {
    const { approvals, entries } = await openBook(t);
    const [a, b] = await Promise.all([approvals.open(ask()), approvals.open(ask({ requestEntryId: '01900000-0000-7000-8000-000000000002' }))]);
    assert.equal(a.id, b.id);
    assert.deepEqual((await entries()).map((e) => e.type), ['approval.requested']);
    assert.equal(approvals.list().length, 1);
  });

  it('opens a separate request for another identity or another digest', async (t) => {
    const { approvals, entries } = await openBook(t);
    const asked = await Promise.all([
      approvals.open(ask()),
      approvals.open(ask({ digest: DELETE })),
      approvals.open(ask({ identity: otherBot })),
      approvals.open(ask({ identity: botElsewhere })),
    ]);
    assert.equal(new Set(asked.map((a) => a.id)).size, 4);
    assert.equal((await entries(['approval.requested'])).length, 4);
  });

  it('keeps a preview that could not be built as its error, and still opens the request', async (t) => {
    const { approvals } = await openBook(t);
    const a = await approvals.open(
      ask({
        preview: async () => {
          throw new Error('dry run refused: admission webhook unavailable');
        },
      }),
    );
    assert.equal(a.state, 'pending');
    assert.deepEqual(a.request.preview, { error: 'dry run refused: admission webhook unavailable' });
  });
});

describe('approve', guard, () => {
  it('refuses the requester approving their own request', async (t) => {
    const { approvals, entries } = await openBook(t);
    const a = await approvals.open(ask({ identity: kim }));
    await refused(approvals.approve(a.id, kim), 'forbidden', /human:kim asked for apr-\w+ and cannot approve their own request/);
    assert.equal(approvals.get(a.id)?.state, 'pending');
    assert.equal((await entries(['approval.approved'])).length, 0);
  });

  it('refuses an agent identity, even in the approvers group', async (t) => {
    const { approvals } = await openBook(t);
    const a = await approvals.open(ask());
    await refused(approvals.approve(a.id, helperBot), 'forbidden', /approvers are people; agent:helper-bot is an agent identity/);
    assert.deepEqual(approvals.get(a.id)?.approvals, []);
  });

  it('refuses someone holding neither the approver nor the admin role', async (t) => {
    const { approvals } = await openBook(t);
    const a = await approvals.open(ask({ approvers: [] }));
    await refused(approvals.approve(a.id, pat), 'forbidden', /human:pat does not hold the approver role/);
    await refused(approvals.deny(a.id, pat), 'forbidden', /human:pat does not hold the approver role/);
    assert.equal(approvals.get(a.id)?.state, 'pending');
  });

  it('refuses an approver the rule does not name, and lets any approver decide when it names no one', async (t) => {
    const { approvals } = await openBook(t);
    const named = await approvals.open(ask());
    await refused(approvals.approve(named.id, lee), 'forbidden', /may be approved only by group:sre; human:lee is none of them/);
    assert.equal(approvals.get(named.id)?.state, 'pending');
    const anyone = await approvals.open(ask({ digest: DELETE, approvers: [] }));
    assert.equal((await approvals.approve(anyone.id, lee)).state, 'approved');
  });

  it('counts each approver once; with two required, the first vote leaves it pending and a second approver approves', async (t) => {
    const { approvals, entries } = await openBook(t);
    const a = await approvals.open(ask({ approvals: 2 }));
    const afterFirst = await approvals.approve(a.id, sam, 'checked the pod');
    assert.equal(afterFirst.state, 'pending');
    assert.equal(afterFirst.grant.expiresAt, undefined);
    assert.equal(approvals.grantFor({ identity: bot, digest: EXEC, connection: 'prod', rules: a.rules }), undefined);
    await refused(approvals.approve(a.id, sam), 'conflict', /human:sam has already approved apr-\w+; it needs 1 more approval\(s\) from someone else/);
    const afterSecond = await approvals.approve(a.id, kim);
    assert.equal(afterSecond.state, 'approved');
    assert.deepEqual(afterSecond.approvals.map((v) => [v.subject, v.reason]), [['human:sam', 'checked the pod'], ['human:kim', undefined]]);
    const votes = await entries(['approval.approved']);
    assert.deepEqual(votes.map((e) => [e.identity?.subject, e.data?.approvals, e.data?.state]), [['human:sam', 1, 'pending'], ['human:kim', 2, 'approved']]);
  });

  it('grants until now + grantTtl, counted from the approval', async (t) => {
    const { approvals, clock, entries } = await openBook(t);
    const a = await approvals.open(ask());
    clock.advance(7 * 60_000);
    const approved = await approvals.approve(a.id, sam);
    assert.equal(approved.state, 'approved');
    assert.deepEqual(approved.grant, { kind: 'request', expiresAt: iso(T0 + 7 * 60_000 + GRANT_TTL) });
    const [entry] = await entries(['approval.approved']);
    assert.equal(entry?.data?.grantExpiresAt, iso(T0 + 7 * 60_000 + GRANT_TTL));
  });

  it('refuses to approve a request that is no longer pending', async (t) => {
    const { approvals } = await openBook(t);
    const a = await approvals.open(ask());
    await approvals.approve(a.id, sam);
    await refused(approvals.approve(a.id, kim), 'conflict', /cannot be approved: it is already approved/);
    await refused(approvals.approve('apr-00000000000000000000', kim), 'not-found', /no approval request apr-0+/);
  });

  it('refuses to approve a request past its expiresAt, and records that it expired', async (t) => {
    const { approvals, clock, nextEntry } = await openBook(t);
    const a = await approvals.open(ask());
    clock.advance(REQUEST_TTL);
    const expired = nextEntry((e) => e.type === 'approval.expired');
    await refused(approvals.approve(a.id, sam), 'conflict', /cannot be approved: it expired at .*; the caller must ask again/);
    const entry = await expired;
    assert.deepEqual(entry.data, { approvalId: a.id, was: 'pending', at: iso(T0 + REQUEST_TTL) });
    assert.equal(approvals.get(a.id)?.state, 'expired');
  });
});

describe('deny', guard, () => {
  it('decides at once, even when two approvals are required, and nothing can approve it afterwards', async (t) => {
    const { approvals, entries } = await openBook(t);
    const a = await approvals.open(ask({ approvals: 2 }));
    const denied = await approvals.deny(a.id, sam, 'not during the freeze');
    assert.equal(denied.state, 'denied');
    assert.deepEqual(denied.denial, { subject: 'human:sam', issuer: IDP, at: iso(T0), reason: 'not during the freeze' });
    await refused(approvals.approve(a.id, kim), 'conflict', /cannot be approved: it is already denied/);
    assert.equal(approvals.grantFor({ identity: bot, digest: EXEC, connection: 'prod', rules: a.rules }), undefined);
    assert.deepEqual((await entries()).map((e) => e.type), ['approval.requested', 'approval.denied']);
  });

  it('answers retries of the same request with the denial until it would have expired, then opens a new request', async (t) => {
    const { approvals, clock, entries } = await openBook(t);
    const a = await approvals.open(ask());
    await approvals.deny(a.id, sam, 'no');
    clock.advance(REQUEST_TTL - 1);
    const retry = await approvals.open(ask());
    assert.equal(retry.id, a.id);
    assert.equal(retry.state, 'denied');
    assert.equal(retry.denial?.reason, 'no');
    clock.advance(1);
    const fresh = await approvals.open(ask());
    assert.notEqual(fresh.id, a.id);
    assert.equal(fresh.state, 'pending');
    assert.equal((await entries(['approval.requested'])).length, 2);
  });
});

describe('grantFor', guard, () => {
  async function approved(t: TestContext, options: BookOptions = {}) {
    const book = await openBook(t, options);
    const a = await book.approvals.open(ask());
    await book.approvals.approve(a.id, sam);
    return { ...book, a };
  }

  it('serves only the identity that asked (subject and issuer) and only the same digest', async (t) => {
    const { approvals, a } = await approved(t);
    const lookup = { connection: 'prod', rules: a.rules, scope: 'default' };
    assert.equal(approvals.grantFor({ ...lookup, identity: otherBot, digest: EXEC }), undefined);
    assert.equal(approvals.grantFor({ ...lookup, identity: botElsewhere, digest: EXEC }), undefined);
    assert.equal(approvals.grantFor({ ...lookup, identity: bot, digest: DELETE }), undefined);
    assert.equal(approvals.grantFor({ ...lookup, identity: bot, digest: EXEC })?.id, a.id);
  });

  it('reserves a single-request grant: a second request at the same time gets nothing until it is released', async (t) => {
    const { approvals, a } = await approved(t);
    const lookup = { identity: bot, digest: EXEC, connection: 'prod', rules: a.rules };
    const first = approvals.grantFor(lookup);
    assert.equal(first?.id, a.id);
    assert.equal(approvals.grantFor(lookup), undefined);
    approvals.release(first!);
    assert.equal(approvals.grantFor(lookup)?.id, a.id);
  });

  it('use records approval.used and spends the grant', async (t) => {
    const { approvals, a, entries } = await approved(t);
    const lookup = { identity: bot, digest: EXEC, connection: 'prod', rules: a.rules };
    const grant = approvals.grantFor(lookup)!;
    await approvals.use(grant, { requestEntryId: '01900000-0000-7000-8000-000000000009', identity: bot, sessionId: 'sess-1' });
    assert.equal(approvals.get(a.id)?.state, 'used');
    approvals.release(grant);
    assert.equal(approvals.grantFor(lookup), undefined);
    const used = (await entries(['approval.used']))[0];
    assert.equal(used?.identity?.subject, bot.subject);
    assert.equal(used?.sessionId, 'sess-1');
    assert.deepEqual(used?.data, { approvalId: a.id, requestId: '01900000-0000-7000-8000-000000000009', grant: 'request', grantExpiresAt: iso(T0 + GRANT_TTL) });
  });

  it('does not serve a grant once its expiresAt has come, and records that it expired', async (t) => {
    const { approvals, a, clock, nextEntry } = await approved(t);
    const lookup = { identity: bot, digest: EXEC, connection: 'prod', rules: a.rules };
    clock.advance(GRANT_TTL - 1);
    const stillValid = approvals.grantFor(lookup);
    assert.equal(stillValid?.id, a.id);
    approvals.release(stillValid!);
    clock.advance(1);
    const expired = nextEntry((e) => e.type === 'approval.expired');
    assert.equal(approvals.grantFor(lookup), undefined);
    assert.deepEqual((await expired).data, { approvalId: a.id, was: 'approved', at: iso(T0 + GRANT_TTL) });
    assert.equal(approvals.get(a.id)?.state, 'expired');
  });

  it('a window grant serves repeated requests on the same rules, connection and namespace until the window closes', async (t) => {
    const { approvals, clock } = await openBook(t);
    const a = await approvals.open(ask({ window: { ms: 30 * 60_000, text: '30m' } }));
    await approvals.approve(a.id, sam);
    assert.deepEqual(approvals.get(a.id)?.grant, { kind: 'window', window: '30m', expiresAt: iso(T0 + 30 * 60_000) });
    const lookup = { identity: bot, connection: 'prod', rules: a.rules, scope: 'default' };
    for (const digest of [EXEC, DELETE, EXEC]) {
      const grant = approvals.grantFor({ ...lookup, digest });
      assert.equal(grant?.id, a.id);
      await approvals.use(grant!, { requestEntryId: `req-${digest.slice(0, 8)}`, identity: bot });
    }
    assert.equal(approvals.grantFor({ ...lookup, digest: EXEC, scope: 'kube-system' }), undefined);
    assert.equal(approvals.grantFor({ ...lookup, digest: EXEC, connection: 'staging' }), undefined);
    assert.equal(approvals.grantFor({ ...lookup, digest: EXEC, rules: ['another-rule'] }), undefined);
    clock.advance(30 * 60_000);
    assert.equal(approvals.grantFor({ ...lookup, digest: EXEC }), undefined);
  });

  it(
    'a window grant is bound to the scope the request was asked in',
    async (t) => {
      const { approvals } = await openBook(t);
      const subject = { ...ask().subject, action: { verb: 'update', resource: 'table', database: 'payments' } };
      const a = await approvals.open(ask({ scope: 'payments', subject, window: { ms: 30 * 60_000, text: '30m' } }));
      await approvals.approve(a.id, sam);
      assert.equal(approvals.grantFor({ identity: bot, digest: DELETE, connection: 'prod', rules: a.rules, scope: 'payments' })?.id, a.id);
    },
  );
});

describe('wait', guard, () => {
  it('resolves as soon as the request is approved', async (t) => {
    const { approvals } = await openBook(t);
    const a = await approvals.open(ask());
    const waiting = approvals.wait(a.id, 60_000);
    await approvals.approve(a.id, sam);
    assert.equal((await waiting)?.state, 'approved');
  });

  it('resolves as soon as the request is denied', async (t) => {
    const { approvals } = await openBook(t);
    const a = await approvals.open(ask());
    const waiting = approvals.wait(a.id, 60_000);
    await approvals.deny(a.id, kim, 'wrong pod');
    const decided = await waiting;
    assert.equal(decided?.state, 'denied');
    assert.equal(decided?.denial?.reason, 'wrong pod');
  });

  it('resolves with the still-pending request when nobody decides in time', async (t) => {
    const { approvals } = await openBook(t);
    const a = await approvals.open(ask());
    const after = await approvals.wait(a.id, 20);
    assert.equal(after?.id, a.id);
    assert.equal(after?.state, 'pending');
  });

  it('resolves undefined for an unknown approval id', async (t) => {
    const { approvals } = await openBook(t);
    assert.equal(await approvals.wait('apr-00000000000000000000', 60_000), undefined);
  });

  it('wakes a waiter when the pending request expires on its own timer, and records the expiry', async (t) => {
    const { approvals, nextEntry } = await openBook(t, { realClock: true, requestTtl: 30 });
    const expired = nextEntry((e) => e.type === 'approval.expired');
    const a = await approvals.open(ask());
    const waiting = approvals.wait(a.id, 60_000);
    const entry = await expired;
    assert.deepEqual(entry.data, { approvalId: a.id, was: 'pending', at: a.expiresAt });
    assert.equal((await waiting)?.state, 'expired');
  });

  it('lets a grant lapse on its own timer', async (t) => {
    const { approvals, nextEntry } = await openBook(t, { realClock: true, grantTtl: 30 });
    const a = await approvals.open(ask());
    const expired = nextEntry((e) => e.type === 'approval.expired');
    const approved = await approvals.approve(a.id, sam);
    const entry = await expired;
    assert.deepEqual(entry.data, { approvalId: a.id, was: 'approved', at: approved.grant.expiresAt });
    assert.equal(approvals.list({ state: 'expired' })[0]?.id, a.id);
  });
});

describe('the ledger first', guard, () => {
  /** A ledger that refuses every append while `down.now` is set (around the real one). */
  function failing(down: { now: boolean }) {
    return (ledger: Ledger): Pick<Ledger, 'append'> => ({
      append: (input: EntryInput) => (down.now ? Promise.reject(new Error('ledger unavailable: disk full')) : ledger.append(input)),
    });
  }

  it('an approval the ledger could not record does not count', async (t) => {
    const down = { now: false };
    const { approvals, entries } = await openBook(t, { wrap: failing(down) });
    const a = await approvals.open(ask());
    const waiting = approvals.wait(a.id, 60_000);
    down.now = true;
    await assert.rejects(approvals.approve(a.id, sam, 'fine'), /disk full/);
    assert.equal(approvals.get(a.id)?.state, 'pending');
    assert.deepEqual(approvals.get(a.id)?.approvals, []);
    assert.equal(approvals.grantFor({ identity: bot, digest: EXEC, connection: 'prod', rules: a.rules }), undefined);
    // Once the ledger is back, the same approver's vote is a first vote, not a repeated one.
    down.now = false;
    assert.equal((await approvals.approve(a.id, sam, 'fine')).state, 'approved');
    assert.equal((await waiting)?.state, 'approved');
    assert.deepEqual((await entries()).map((e) => e.type), ['approval.requested', 'approval.approved']);
  });

  it('a denial, a revocation or a use the ledger could not record does not happen', async (t) => {
    const down = { now: false };
    const { approvals } = await openBook(t, { wrap: failing(down) });
    const pending = await approvals.open(ask());
    const granted = await approvals.open(ask({ digest: DELETE }));
    await approvals.approve(granted.id, sam);
    down.now = true;
    await assert.rejects(approvals.deny(pending.id, sam), /disk full/);
    assert.equal(approvals.get(pending.id)?.state, 'pending');
    await assert.rejects(approvals.revoke(granted.id, ada), /disk full/);
    const grant = approvals.grantFor({ identity: bot, digest: DELETE, connection: 'prod', rules: granted.rules });
    assert.equal(grant?.id, granted.id);
    await assert.rejects(approvals.use(grant!, { requestEntryId: 'req-1', identity: bot }), /disk full/);
    assert.equal(approvals.get(granted.id)?.state, 'approved');
  });

  it('a request the ledger could not record is not opened', async (t) => {
    const { approvals } = await openBook(t, { wrap: failing({ now: true }) });
    await assert.rejects(approvals.open(ask()), /disk full/);
    assert.deepEqual(approvals.list(), []);
  });
});

describe('restore', guard, () => {
  it('rebuilds the same states, votes and grants from the ledger', async (t) => {
    const { approvals, clock, entries, another } = await openBook(t);
    const pending = await approvals.open(ask());
    clock.advance(1000);
    const halfway = await approvals.open(ask({ digest: digestOf('halfway'), approvals: 2 }));
    await approvals.approve(halfway.id, sam, 'one of two');
    clock.advance(1000);
    const approved = await approvals.open(ask({ digest: digestOf('approved') }));
    await approvals.approve(approved.id, kim, 'go ahead');
    clock.advance(1000);
    const denied = await approvals.open(ask({ digest: digestOf('denied') }));
    await approvals.deny(denied.id, sam, 'not today');
    clock.advance(1000);
    const used = await approvals.open(ask({ digest: digestOf('used') }));
    await approvals.approve(used.id, sam);
    await approvals.use(approvals.grantFor({ identity: bot, digest: digestOf('used'), connection: 'prod', rules: used.rules })!, { requestEntryId: 'req-used', identity: bot });
    clock.advance(1000);
    const revoked = await approvals.open(ask({ digest: digestOf('revoked') }));
    await approvals.approve(revoked.id, sam);
    await approvals.revoke(revoked.id, ada, 'changed my mind');
    clock.advance(1000);
    const window = await approvals.open(ask({ digest: digestOf('window'), window: { ms: 45 * 60_000, text: '45m' } }));
    await approvals.approve(window.id, kim);

    const restored = another();
    restored.restore(await entries());

    assert.deepEqual(
      restored.list().map((a) => [a.id, a.state]),
      [
        [window.id, 'approved'],
        [revoked.id, 'revoked'],
        [used.id, 'used'],
        [denied.id, 'denied'],
        [approved.id, 'approved'],
        [halfway.id, 'pending'],
        [pending.id, 'pending'],
      ],
    );
    assert.deepEqual(restored.list(), approvals.list());
    assert.equal(restored.get(approved.id)?.grant.expiresAt, iso(T0 + 2000 + GRANT_TTL));
    assert.equal(restored.get(window.id)?.grant.expiresAt, iso(T0 + 6000 + 45 * 60_000));
  });

  it('after a restore, the book goes on where it stopped', async (t) => {
    const { approvals, clock, entries, another } = await openBook(t);
    const halfway = await approvals.open(ask({ approvals: 2 }));
    await approvals.approve(halfway.id, sam);
    const approved = await approvals.open(ask({ digest: DELETE }));
    await approvals.approve(approved.id, kim);
    const window = await approvals.open(ask({ digest: digestOf('window'), window: { ms: 45 * 60_000, text: '45m' } }));

    const restored = another();
    restored.restore(await entries());
    // A retry joins the pending request instead of opening another.
    assert.equal((await restored.open(ask({ approvals: 2 }))).id, halfway.id);
    await refused(restored.approve(halfway.id, sam), 'conflict', /already approved/);
    assert.equal((await restored.approve(halfway.id, kim)).state, 'approved');
    // The restored grant serves its requester once.
    const grant = restored.grantFor({ identity: bot, digest: DELETE, connection: 'prod', rules: approved.rules });
    assert.equal(grant?.id, approved.id);
    // A window grant approved after the restore still lasts its window, not grantTtl.
    assert.deepEqual((await restored.approve(window.id, sam)).grant, { kind: 'window', window: '45m', expiresAt: iso(T0 + 45 * 60_000) });
    // A restored grant lapses at the expiry it was recorded with.
    clock.advance(GRANT_TTL);
    restored.release(grant!);
    assert.equal(restored.grantFor({ identity: bot, digest: DELETE, connection: 'prod', rules: approved.rules }), undefined);
    assert.equal(restored.get(approved.id)?.state, 'expired');
  });

  it('a restored expiry stands', async (t) => {
    const { approvals, clock, entries, another, nextEntry } = await openBook(t);
    const a = await approvals.open(ask());
    clock.advance(REQUEST_TTL);
    const expired = nextEntry((e) => e.type === 'approval.expired');
    assert.equal(approvals.get(a.id)?.state, 'expired');
    await expired;
    clock.advance(-REQUEST_TTL);
    const restored = another();
    restored.restore(await entries());
    assert.equal(restored.get(a.id)?.state, 'expired');
    assert.notEqual((await restored.open(ask())).id, a.id);
  });
});

describe('retention', guard, () => {
  it('the book forgets what can no longer let anything through once `retain` has passed; the ledger keeps it', async (t) => {
    const { approvals, clock, entries, another } = await openBook(t);
    const RETAIN = 24 * 60 * 60_000; // the default
    const used = await approvals.open(ask({ digest: digestOf('used') }));
    await approvals.approve(used.id, sam);
    const grant = approvals.grantFor({ identity: bot, digest: digestOf('used'), connection: 'prod', rules: used.rules });
    await approvals.use(grant!, { requestEntryId: '01900000-0000-7000-8000-0000000000aa', identity: bot });
    const denied = await approvals.open(ask({ digest: digestOf('denied') }));
    await approvals.deny(denied.id, sam, 'no');
    const pending = await approvals.open(ask({ digest: digestOf('pending') }));

    // Within the request's life and `retain` after it, everything is still listed.
    clock.advance(REQUEST_TTL + RETAIN);
    assert.equal(approvals.prune(), 0);
    assert.equal(approvals.get(denied.id)?.state, 'denied');
    assert.equal(approvals.get(pending.id)?.state, 'expired', 'the pending request expired long ago');
    const recent = await approvals.open(ask({ digest: digestOf('recent') }));
    clock.advance(60_000);
    // The used grant, the denial and the expired request are past their relevance and `retain`:
    // forgotten (retention counts from when they stopped mattering, not from when that was noticed).
    assert.equal(approvals.prune(), 3);
    assert.equal(approvals.get(used.id), undefined);
    assert.equal(approvals.get(denied.id), undefined);
    assert.equal(approvals.get(pending.id), undefined);
    assert.deepEqual(approvals.list().map((a) => a.id), [recent.id]);

    // A restart rebuilds only what is still within retention, though the ledger holds all.
    const recorded = await entries();
    assert.ok(recorded.some((e) => e.data?.approvalId === used.id) && recorded.some((e) => e.data?.approvalId === denied.id));
    const restored = another();
    restored.restore(recorded);
    assert.equal(restored.get(used.id), undefined);
    assert.equal(restored.get(denied.id), undefined);
    assert.deepEqual(restored.list().map((a) => a.id), [recent.id]);
    assert.equal(restored.get(recent.id)?.state, 'pending');
  });

  it('a denial stands for its request`s life however short `retain` is, and approved grants are never pruned', async (t) => {
    const { approvals, clock } = await openBook(t);
    const denied = await approvals.open(ask({ digest: digestOf('denied') }));
    await approvals.deny(denied.id, sam, 'no');
    const approved = await approvals.open(ask({ digest: digestOf('approved'), window: { ms: 10 * REQUEST_TTL, text: '10h' } }));
    await approvals.approve(approved.id, sam);
    clock.advance(REQUEST_TTL - 1);
    assert.equal(approvals.prune(), 0);
    assert.equal((await approvals.open(ask({ digest: digestOf('denied') }))).state, 'denied', 'retries still hear the no');
    clock.advance(2 * REQUEST_TTL);
    assert.equal(approvals.get(approved.id)?.state, 'approved', 'the window is still open');
  });
});

describe('revoke', guard, () => {
  it('an admin may revoke an approved grant; it is then no longer served', async (t) => {
    const { approvals, entries } = await openBook(t);
    const a = await approvals.open(ask());
    await approvals.approve(a.id, sam);
    const revoked = await approvals.revoke(a.id, ada, 'wrong cluster');
    assert.equal(revoked.state, 'revoked');
    assert.equal(approvals.grantFor({ identity: bot, digest: EXEC, connection: 'prod', rules: a.rules }), undefined);
    const [entry] = await entries(['approval.revoked']);
    assert.equal(entry?.identity?.subject, 'human:ada');
    assert.deepEqual(entry?.data, { approvalId: a.id, reason: 'wrong cluster' });
  });

  it('one of its approvers may revoke it', async (t) => {
    const { approvals } = await openBook(t);
    const a = await approvals.open(ask());
    await approvals.approve(a.id, sam);
    assert.equal((await approvals.revoke(a.id, sam)).state, 'revoked');
  });

  it('someone who is neither an admin nor one of its approvers may not', async (t) => {
    const { approvals, entries } = await openBook(t);
    const a = await approvals.open(ask());
    await approvals.approve(a.id, sam);
    for (const stranger of [pat, kim, bot]) {
      await refused(approvals.revoke(a.id, stranger), 'forbidden', /only an admin or one of its approvers may revoke/);
    }
    assert.equal(approvals.grantFor({ identity: bot, digest: EXEC, connection: 'prod', rules: a.rules })?.id, a.id);
    assert.equal((await entries(['approval.revoked'])).length, 0);
  });

  it('only an approved grant can be revoked', async (t) => {
    const { approvals } = await openBook(t);
    const a = await approvals.open(ask());
    await refused(approvals.revoke(a.id, ada), 'conflict', /is pending; only an approved grant can be revoked/);
    await refused(approvals.revoke('apr-00000000000000000000', ada), 'not-found', /no approval request/);
  });
});

/** A notification channel that keeps what it is told: a test double for a webhook or Slack notifier. */
class RecordingNotifier implements Notifier {
  readonly seen: ApprovalNotification[] = [];
  constructor(
    readonly name: string,
    private readonly failWith?: string,
  ) {}

  async notify(notification: ApprovalNotification): Promise<void> {
    this.seen.push(notification);
    if (this.failWith) throw new Error(this.failWith);
  }
}

describe('notifications', guard, () => {
  it('tells every channel about a new request, with links on the admin server and CLI lines', async (t) => {
    const channel = new RecordingNotifier('webhook:hooks.example.test');
    const { approvals, nextEntry } = await openBook(t, { notifiers: [channel], adminUrl: 'https://airlock.example.test/admin/' });
    const notified = nextEntry((e) => e.type === 'approval.notified');
    const a = await approvals.open(ask());
    assert.equal(channel.seen.length, 1);
    const [n] = channel.seen;
    assert.equal(n?.event, 'approval.requested');
    assert.deepEqual(n?.approval, a);
    assert.deepEqual(n?.links, {
      show: `https://airlock.example.test/admin/approvals/${a.id}`,
      approve: `https://airlock.example.test/admin/approvals/${a.id}?decide=approve`,
      deny: `https://airlock.example.test/admin/approvals/${a.id}?decide=deny`,
    });
    assert.deepEqual(n?.commands, { approve: `airlock approvals approve ${a.id} --reason "…"`, deny: `airlock approvals deny ${a.id} --reason "…"` });
    assert.deepEqual((await notified).data, { approvalId: a.id, event: 'approval.requested', channel: 'webhook:hooks.example.test', ok: true });
  });

  it('records a channel that gave up as approval.notified with ok:false and its error, and goes on', async (t) => {
    const broken = new RecordingNotifier('slack:hooks.slack.com', 'https://hooks.slack.com answered 503 after 5 attempts');
    const { approvals, nextEntry } = await openBook(t, { notifiers: [broken] });
    const notified = nextEntry((e) => e.type === 'approval.notified');
    const a = await approvals.open(ask());
    assert.equal(a.state, 'pending');
    assert.deepEqual((await notified).data, {
      approvalId: a.id,
      event: 'approval.requested',
      channel: 'slack:hooks.slack.com',
      ok: false,
      error: 'https://hooks.slack.com answered 503 after 5 attempts',
    });
    assert.equal((await approvals.approve(a.id, sam)).state, 'approved');
  });

  it('tells approvers when a request is approved, denied or expires', async (t) => {
    const channel = new RecordingNotifier('webhook:hooks.example.test');
    const { approvals, clock } = await openBook(t, { notifiers: [channel] });
    const approved = await approvals.open(ask());
    await approvals.approve(approved.id, sam);
    const denied = await approvals.open(ask({ digest: DELETE }));
    await approvals.deny(denied.id, sam);
    const lapsed = await approvals.open(ask({ digest: digestOf('lapsed') }));
    clock.advance(REQUEST_TTL);
    approvals.get(lapsed.id);
    assert.deepEqual(
      channel.seen.map((n) => [n.event, n.approval.id, n.approval.state]),
      [
        ['approval.requested', approved.id, 'pending'],
        ['approval.approved', approved.id, 'approved'],
        ['approval.requested', denied.id, 'pending'],
        ['approval.denied', denied.id, 'denied'],
        ['approval.requested', lapsed.id, 'pending'],
        ['approval.expired', lapsed.id, 'expired'],
      ],
    );
  });
});

describe('concurrent decisions', guard, () => {
  it(
    'two approvers approving at the same moment approve a request that needs two',
    async (t) => {
      const { approvals } = await openBook(t);
      const a = await approvals.open(ask({ approvals: 2 }));
      await Promise.allSettled([approvals.approve(a.id, sam), approvals.approve(a.id, kim)]);
      const after = approvals.get(a.id)!;
      assert.equal(after.approvals.length, 2);
      assert.equal(after.state, 'approved');
    },
  );

  it(
    'the same approver approving twice at the same moment counts once',
    async (t) => {
      const { approvals } = await openBook(t);
      const a = await approvals.open(ask({ approvals: 2 }));
      const outcomes = await Promise.allSettled([approvals.approve(a.id, sam), approvals.approve(a.id, sam)]);
      assert.deepEqual(outcomes.map((o) => o.status).sort(), ['fulfilled', 'rejected']);
      assert.deepEqual(approvals.get(a.id)?.approvals.map((v) => v.subject), ['human:sam']);
    },
  );

  it(
    'when a denial races an approval, the ledger tells the same story as the book',
    async (t) => {
      const { approvals, entries, another } = await openBook(t);
      const a = await approvals.open(ask());
      const outcomes = await Promise.allSettled([approvals.approve(a.id, sam), approvals.deny(a.id, kim, 'no')]);
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
      const live: ApprovalRequest = approvals.get(a.id)!;
      const restored = another();
      restored.restore(await entries());
      assert.equal(restored.get(a.id)?.state, live.state);
    },
  );
});
