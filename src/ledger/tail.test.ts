import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatEntryLine, openLedger, openLedgerReader, tailLedger } from './index.js';
import type { LedgerEntry } from './types.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const base: LedgerEntry = {
  id: '0190a1b2-0000-7000-8000-000000000001',
  time: '2025-03-01T12:00:00.000Z',
  chain: 'main',
  seq: 42,
  type: 'request',
  prevHash: '0'.repeat(64),
  hash: '1'.repeat(64),
};

test('formatEntryLine shows time, position, type, subject, verb, target and decision', () => {
  const identity = { subject: 'agent:deploy-bot', groups: [], issuer: 'i', kind: 'agent' as const, tokenId: 't', via: 'builtin' };
  const cases: { name: string; entry: LedgerEntry; line: string }[] = [
    {
      name: 'a Kubernetes request',
      entry: {
        ...base,
        identity,
        action: { protocol: 'kubernetes', connection: 'prod', verb: 'delete', resource: 'pods', namespace: 'payments', name: 'api-1' },
        decision: { effect: 'deny', rules: ['no-deletes'], message: 'no' },
        data: { status: 403 },
      },
      line: '2025-03-01T12:00:00.000Z main#42 request agent:deploy-bot delete pods payments/api-1 -> deny [no-deletes] status=403',
    },
    {
      name: 'a subresource',
      entry: { ...base, identity, action: { protocol: 'kubernetes', connection: 'prod', verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'ns', name: 'p' } },
      line: '2025-03-01T12:00:00.000Z main#42 request agent:deploy-bot create pods/exec ns/p',
    },
    {
      name: 'a SQL statement',
      entry: { ...base, identity, action: { protocol: 'postgres', connection: 'db', verb: 'select', database: 'shop', statement: 'SELECT 1' }, decision: { effect: 'allow', rules: [], message: '' } },
      line: '2025-03-01T12:00:00.000Z main#42 request agent:deploy-bot select shop "SELECT 1" -> allow',
    },
    {
      name: 'a system entry',
      entry: { ...base, type: 'system', data: { event: 'ledger.recovered', refused: 3 } },
      line: '2025-03-01T12:00:00.000Z main#42 system - ledger.recovered',
    },
    {
      name: 'an approval',
      entry: { ...base, type: 'approval.approved', identity: { ...identity, subject: 'alice' }, approvalId: 'apr-7' },
      line: '2025-03-01T12:00:00.000Z main#42 approval.approved alice approval=apr-7',
    },
  ];
  for (const c of cases) assert.equal(formatEntryLine(c.entry), c.line, c.name);
});

test('control characters in recorded fields cannot rewrite the terminal', () => {
  const line = formatEntryLine({
    ...base,
    action: { protocol: 'kubernetes', connection: 'c', verb: 'get', resource: 'pods', name: 'evil\u001b[2J\r\nfake line' },
  });
  assert.ok(![...line].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f), line);
  assert.match(line, /evil\\x1b\[2J\\x0d\\x0afake line/);
});

test('tail starts after the current end by default, or at fromSeq, and ends when aborted', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'airlock-tail-'));
  dirs.push(dataDir);
  const ledger = await openLedger({ dataDir, store: { kind: 'sqlite' } });
  for (let i = 1; i <= 3; i++) await ledger.append({ type: 'request', data: { i } });
  const reader = await openLedgerReader({ dataDir, store: { kind: 'sqlite' } });
  try {
    const fromStart = new AbortController();
    const replayed: number[] = [];
    for await (const e of tailLedger(reader, { signal: fromStart.signal, fromSeq: 2, intervalMs: 10 })) {
      replayed.push(e.seq);
      if (e.seq === 3) fromStart.abort();
    }
    assert.deepEqual(replayed, [2, 3]);

    // SQLite reads are synchronous, so the tail has fixed its starting point (after #3) within
    // this turn, before the append below can complete on the writer thread.
    const live = new AbortController();
    const seen: number[] = [];
    const following = (async () => {
      for await (const e of tailLedger(reader, { signal: live.signal, intervalMs: 10, types: ['request'] })) {
        seen.push(e.seq);
        if (e.seq === 6) live.abort();
      }
    })();
    await ledger.append({ type: 'request', data: { i: 4 } });
    await ledger.append({ type: 'system', data: { event: 'skipped by the type filter' } });
    await ledger.append({ type: 'request', data: { i: 6 } });
    await following;
    assert.deepEqual(seen, [4, 6]);
  } finally {
    await reader.close();
    await ledger.close();
  }
});
