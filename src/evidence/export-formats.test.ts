/**
 * Export formats: CSV that a spreadsheet opens without running anything and a parser reads
 * back cell for cell, JSON lines, and Kubernetes audit events with the fields of
 * audit.k8s.io/v1 Event.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CSV_COLUMNS, csvCell, csvHeader, csvLine, jsonLine, microTime, toK8sAuditEvent } from './export-formats.js';
import type { RequestRow } from './request-rows.js';

const HASH = 'a'.repeat(64);

function row(over: Partial<RequestRow> = {}): RequestRow {
  return {
    chain: 'main',
    seq: 42,
    hash: HASH,
    id: '01936f0e-8c4a-7b2e-9d1f-3a5b7c9e1f20',
    time: '2025-01-15T09:30:00.120Z',
    sessionId: 'ses_1',
    subject: 'agent:deploy-bot',
    issuer: 'https://airlock.local',
    groups: ['agents', 'ci'],
    identityKind: 'agent',
    connection: 'prod',
    protocol: 'kubernetes',
    verb: 'get',
    resource: 'pods',
    apiGroup: '',
    apiVersion: 'v1',
    namespace: 'shop',
    name: 'web-1',
    method: 'GET',
    target: '/api/v1/namespaces/shop/pods/web-1',
    userAgent: 'kubectl/v1.33.0',
    remoteAddress: '127.0.0.1',
    decision: 'allow',
    rules: ['agents-read'],
    decisionMessage: 'reads are allowed',
    outcome: 'forwarded',
    approval: 'none',
    approvedBy: [],
    status: 200,
    durationMs: 20.5,
    responseTime: '2025-01-15T09:30:00.141Z',
    imported: false,
    ...over,
  };
}

/** parseCsv is an RFC 4180 reader: quoted cells, doubled quotes, CRLF records. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let cell = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(cell);
      records.push(record);
      record = [];
      cell = '';
      i++;
    } else cell += c;
  }
  return records;
}

describe('CSV', () => {
  it('has a header naming every column and one CRLF record per row', () => {
    const text = csvHeader() + csvLine(row());
    const [header, record] = parseCsv(text);
    assert.deepEqual(header, [...CSV_COLUMNS]);
    const cells = Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, record![i]]));
    assert.equal(cells.subject, 'agent:deploy-bot');
    assert.equal(cells.groups, 'agents;ci');
    assert.equal(cells.status, '200');
    assert.equal(cells.decision, 'allow');
    assert.equal(cells.hash, HASH);
    assert.equal(cells.refusal_reason, '');
    assert.equal(cells.imported, 'false');
  });

  it('quotes commas, quotes and line breaks so a parser reads the value back', () => {
    const message = 'say "no", then\r\nstop';
    const [record] = parseCsv(csvLine(row({ decisionMessage: message, name: 'a,b' })));
    assert.equal(record![CSV_COLUMNS.indexOf('decision_message')], message);
    assert.equal(record![CSV_COLUMNS.indexOf('name')], 'a,b');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
  });

  it('puts an apostrophe before a value a spreadsheet would run as a formula', () => {
    for (const value of ['=HYPERLINK("http://evil.example","x")', '+1+1', '-2+3', '@SUM(A1)', '\tcmd', '\rcmd']) {
      const cell = csvCell(value);
      const [[read]] = parseCsv(`${cell}\r\n`) as [[string]];
      assert.equal(read, `'${value}`, `cell for ${JSON.stringify(value)}`);
    }
    const [record] = parseCsv(csvLine(row({ name: '=cmd|" /C calc"!A0', userAgent: '@evil' })));
    assert.equal(record![CSV_COLUMNS.indexOf('name')], `'=cmd|" /C calc"!A0`);
    assert.equal(record![CSV_COLUMNS.indexOf('user_agent')], "'@evil");
    // Ordinary values are left alone.
    assert.equal(csvCell('agent:deploy-bot'), 'agent:deploy-bot');
    assert.equal(csvCell('2025-01-15T09:30:00.120Z'), '2025-01-15T09:30:00.120Z');
  });
});

describe('JSON lines', () => {
  it('one object per line, without bodies', () => {
    const line = jsonLine(row({ requestBody: { size: 2, sha256: 'b'.repeat(64), inline: '{}' } }));
    assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'));
    const parsed = JSON.parse(line) as Record<string, unknown>;
    assert.equal(parsed.id, row().id);
    assert.equal(parsed.requestBody, undefined);
    assert.equal(parsed.status, 200);
  });
});

describe('Kubernetes audit events', () => {
  it('maps an allowed read to an audit.k8s.io/v1 Event at level Metadata', () => {
    const event = toK8sAuditEvent(row());
    assert.deepEqual(event, {
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'Metadata',
      auditID: '01936f0e-8c4a-7b2e-9d1f-3a5b7c9e1f20',
      stage: 'ResponseComplete',
      requestURI: '/api/v1/namespaces/shop/pods/web-1',
      verb: 'get',
      user: { username: 'agent:deploy-bot', groups: ['agents', 'ci'], extra: { 'airlock.dev/issuer': ['https://airlock.local'], 'airlock.dev/kind': ['agent'], 'airlock.dev/session': ['ses_1'] } },
      sourceIPs: ['127.0.0.1'],
      userAgent: 'kubectl/v1.33.0',
      objectRef: { resource: 'pods', namespace: 'shop', name: 'web-1', apiGroup: '', apiVersion: 'v1' },
      responseStatus: { metadata: {}, code: 200 },
      // Arrival is the answer's time less the duration.
      requestReceivedTimestamp: '2025-01-15T09:30:00.120500Z',
      stageTimestamp: '2025-01-15T09:30:00.141000Z',
      annotations: {
        'authorization.k8s.io/decision': 'allow',
        'authorization.k8s.io/reason': 'airlock rule agents-read: reads are allowed',
        'airlock.dev/decision': 'allow',
        'airlock.dev/rules': 'agents-read',
        'airlock.dev/connection': 'prod',
        'airlock.dev/outcome': 'forwarded',
        'airlock.dev/ledger': `main#42@${HASH}`,
      },
    });
  });

  it('a denied request is forbid with a Failure status; an approved one is allow and names the approvers', () => {
    const denied = toK8sAuditEvent(
      row({ verb: 'delete', decision: 'deny', rules: ['protect-system-namespaces'], decisionMessage: 'no', outcome: 'refused', refusalReason: 'policy-denied', refusalMessage: 'denied by rule protect-system-namespaces', status: 403, responseTime: undefined, durationMs: undefined }),
    );
    assert.equal(denied.annotations['authorization.k8s.io/decision'], 'forbid');
    assert.equal(denied.annotations['airlock.dev/refusal-reason'], 'policy-denied');
    assert.deepEqual(denied.responseStatus, { metadata: {}, code: 403, status: 'Failure', message: 'denied by rule protect-system-namespaces', reason: 'Forbidden' });
    assert.equal(denied.requestReceivedTimestamp, '2025-01-15T09:30:00.120000Z');
    assert.equal(denied.stageTimestamp, denied.requestReceivedTimestamp);

    const approved = toK8sAuditEvent(row({ verb: 'patch', decision: 'review', rules: ['scale'], approval: 'approved', approvalId: 'apr_1', approvedBy: ['human:alice', 'human:bob'] }));
    assert.equal(approved.annotations['authorization.k8s.io/decision'], 'allow');
    assert.equal(approved.annotations['airlock.dev/approval'], 'approved apr_1');
    assert.equal(approved.annotations['airlock.dev/approved-by'], 'human:alice,human:bob');

    const pending = toK8sAuditEvent(row({ decision: 'review', approval: 'pending', approvalId: 'apr_2', outcome: 'refused', status: 429 }));
    assert.equal(pending.annotations['authorization.k8s.io/decision'], 'forbid');
    assert.equal(pending.responseStatus?.reason, 'TooManyRequests');
  });

  it('an unauthenticated request is system:anonymous; a request with no answer has no responseStatus', () => {
    const event = toK8sAuditEvent(row({ subject: undefined, issuer: undefined, identityKind: undefined, groups: [], decision: undefined, rules: [], verb: undefined, resource: undefined, method: 'GET', status: undefined, responseTime: undefined, durationMs: undefined }));
    assert.deepEqual(event.user, { username: 'system:anonymous', groups: ['system:unauthenticated'] });
    assert.equal(event.verb, 'get');
    assert.equal(event.objectRef, undefined);
    assert.equal(event.responseStatus, undefined);
    assert.equal(event.annotations['authorization.k8s.io/decision'], undefined);
  });

  it('MicroTime has six fractional digits', () => {
    assert.equal(microTime(Date.parse('2025-01-15T09:30:00.000Z') * 1000 + 1), '2025-01-15T09:30:00.000001Z');
    assert.equal(microTime(Date.parse('2025-01-15T09:30:00.999Z') * 1000 + 999), '2025-01-15T09:30:00.999999Z');
  });
});
