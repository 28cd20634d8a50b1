/**
 * Importing Kubernetes audit logs: the mapping of realistic kube-apiserver events (shaped as
 * the log backend writes them, per the audit.k8s.io/v1 Event reference), stage folding,
 * dedupe against the ledger, bad lines, and a real SQLite ledger that still verifies and holds
 * no request or response body.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isAirlockError } from '../errors.js';
import { exportLedgerPublicKey, openLedger, openLedgerReader, verifyLedger, type EntryInput, type LedgerEntry } from '../ledger/index.js';
import {
  importK8sAudit,
  knownAuditIds,
  normalizeTime,
  readAuditEvent,
  readAuditFile,
  StageWindow,
  toImportedEntry,
  type AuditEvent,
  type AuditRead,
} from './k8s-audit-import.js';

// Synthetic secrets, planted where a RequestResponse-level audit log keeps bodies.
const SECRET_PLAIN = 'synthetic-db-password-7f3a9c';
const SECRET_B64 = Buffer.from(SECRET_PLAIN).toString('base64');
const SECRET_TOKEN = 'synthetic-api-token-e41d0b';

/** A service account renewing its leader-election lease: RequestReceived, then ResponseComplete. */
const leaseReceived = {
  kind: 'Event',
  apiVersion: 'audit.k8s.io/v1',
  level: 'Metadata',
  auditID: '7d3e2a91-0c5b-4f6e-9a41-2b8c1d0e5f37',
  stage: 'RequestReceived',
  requestURI: '/apis/coordination.k8s.io/v1/namespaces/monitoring/leases/metrics-operator-lock?timeout=5s',
  verb: 'update',
  user: {
    username: 'system:serviceaccount:monitoring:metrics-operator',
    uid: '0f6b1a2c-77d4-4c1e-8e0a-5d2f3b4c6a71',
    groups: ['system:serviceaccounts', 'system:serviceaccounts:monitoring', 'system:authenticated'],
    extra: { 'authentication.kubernetes.io/pod-name': ['metrics-operator-6d9f7b-x2kq9'] },
  },
  sourceIPs: ['10.244.1.17'],
  userAgent: 'metrics-operator/v0.9.1 (linux/amd64) kubernetes/$Format/leader-election',
  objectRef: { resource: 'leases', namespace: 'monitoring', name: 'metrics-operator-lock', apiGroup: 'coordination.k8s.io', apiVersion: 'v1' },
  requestReceivedTimestamp: '2025-03-04T08:15:30.123456Z',
  stageTimestamp: '2025-03-04T08:15:30.123456Z',
};
const leaseComplete = {
  ...leaseReceived,
  stage: 'ResponseComplete',
  objectRef: { ...leaseReceived.objectRef, uid: 'a1c9e3d5-2b4f-4e6a-8c0d-9f1e2d3c4b5a', resourceVersion: '4363907' },
  responseStatus: { metadata: {}, code: 200 },
  stageTimestamp: '2025-03-04T08:15:30.131207Z',
  annotations: {
    'authorization.k8s.io/decision': 'allow',
    'authorization.k8s.io/reason': 'RBAC: allowed by RoleBinding "metrics-operator-leader/monitoring" of Role "leader-election" to ServiceAccount "metrics-operator/monitoring"',
  },
};

/** `kubectl create secret` logged at RequestResponse level: both bodies hold the secret. */
const secretObject = {
  kind: 'Secret',
  apiVersion: 'v1',
  metadata: { name: 'db-credentials', namespace: 'shop', creationTimestamp: null },
  data: { password: SECRET_B64 },
  stringData: { token: SECRET_TOKEN },
  type: 'Opaque',
};
const secretReceived = {
  kind: 'Event',
  apiVersion: 'audit.k8s.io/v1',
  level: 'RequestResponse',
  auditID: 'c41f8e07-93ab-4d2e-b6f1-0a7c5e9d3b28',
  stage: 'RequestReceived',
  requestURI: '/api/v1/namespaces/shop/secrets?fieldManager=kubectl-create&fieldValidation=Strict',
  verb: 'create',
  user: { username: 'alice@example.com', groups: ['sre', 'system:authenticated'] },
  sourceIPs: ['203.0.113.7', '10.0.0.12'],
  userAgent: 'kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46',
  objectRef: { resource: 'secrets', namespace: 'shop', name: 'db-credentials', apiVersion: 'v1' },
  requestObject: secretObject,
  requestReceivedTimestamp: '2025-03-04T09:00:01.500999Z',
  stageTimestamp: '2025-03-04T09:00:01.500999Z',
};
const secretComplete = {
  ...secretReceived,
  stage: 'ResponseComplete',
  responseStatus: { metadata: {}, code: 201 },
  responseObject: { ...secretObject, metadata: { ...secretObject.metadata, uid: 'e2b7c1d9-4a6f-4b3e-9d8c-1f0a2e3b4c5d', resourceVersion: '918273' } },
  stageTimestamp: '2025-03-04T09:00:01.522310Z',
  annotations: {
    'authorization.k8s.io/decision': 'allow',
    'authorization.k8s.io/reason': 'RBAC: allowed by ClusterRoleBinding "sre-admin" of ClusterRole "admin" to Group "sre"',
    // A mutating webhook's patch, as the apiserver annotates it at RequestResponse level.
    'patch.webhook.admission.k8s.io/round_0_index_0': JSON.stringify({ patch: [{ op: 'add', path: '/data/token', value: Buffer.from(SECRET_TOKEN).toString('base64') }] }),
  },
};

/** A refused delete, logged only at ResponseComplete (RequestReceived omitted by the policy). */
const forbiddenDelete = {
  kind: 'Event',
  apiVersion: 'audit.k8s.io/v1',
  level: 'Metadata',
  auditID: '2f9d4b61-8e3c-4a75-b0d2-6c1e7f8a9b03',
  stage: 'ResponseComplete',
  requestURI: '/api/v1/namespaces/kube-system',
  verb: 'delete',
  user: { username: 'bob@example.com', groups: ['developers', 'system:authenticated'] },
  sourceIPs: ['198.51.100.23'],
  userAgent: 'kubectl/v1.30.4 (darwin/arm64) kubernetes/a51b3b7',
  objectRef: { resource: 'namespaces', name: 'kube-system', apiVersion: 'v1' },
  responseStatus: { metadata: {}, status: 'Failure', message: 'namespaces "kube-system" is forbidden', reason: 'Forbidden', details: { name: 'kube-system', kind: 'namespaces' }, code: 403 },
  requestReceivedTimestamp: '2025-03-04T09:05:00.000001Z',
  stageTimestamp: '2025-03-04T09:05:00.002245Z',
  annotations: { 'authorization.k8s.io/decision': 'forbid', 'authorization.k8s.io/reason': '' },
};

/** A list made through an impersonating proxy, as a dry run of a delete would be. */
const impersonatedList = {
  kind: 'Event',
  apiVersion: 'audit.k8s.io/v1',
  level: 'Metadata',
  auditID: '5a0c7e2d-1b9f-4c3a-8d6e-3f2a1b0c9d87',
  stage: 'ResponseComplete',
  requestURI: '/apis/apps/v1/namespaces/shop/deployments/web?dryRun=All',
  verb: 'delete',
  user: { username: 'system:serviceaccount:platform:access-proxy', groups: ['system:serviceaccounts', 'system:authenticated'] },
  impersonatedUser: { username: 'agent:deploy-bot', groups: ['ci', 'system:authenticated'], extra: { 'scopes.example.com/session': ['s-1'] } },
  sourceIPs: ['10.244.0.5'],
  userAgent: 'deploy-bot/1.4',
  objectRef: { resource: 'deployments', namespace: 'shop', name: 'web', apiGroup: 'apps', apiVersion: 'v1' },
  responseStatus: { metadata: {}, code: 200 },
  requestReceivedTimestamp: '2025-03-04T09:06:00.250Z',
  stageTimestamp: '2025-03-04T09:06:00.260Z',
  annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': '' },
};

/** A watch still open when the log rotated: RequestReceived and ResponseStarted, no completion. */
const watchReceived = {
  kind: 'Event',
  apiVersion: 'audit.k8s.io/v1',
  level: 'Metadata',
  auditID: '9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a',
  stage: 'RequestReceived',
  requestURI: '/api/v1/namespaces/shop/pods?allowWatchBookmarks=true&resourceVersion=918000&watch=true',
  verb: 'watch',
  user: { username: 'system:serviceaccount:shop:autoscaler', groups: ['system:serviceaccounts', 'system:serviceaccounts:shop', 'system:authenticated'] },
  sourceIPs: ['10.244.2.9'],
  userAgent: 'autoscaler/v2.1.0',
  objectRef: { resource: 'pods', namespace: 'shop', apiVersion: 'v1' },
  requestReceivedTimestamp: '2025-03-04T09:10:00.000000Z',
  stageTimestamp: '2025-03-04T09:10:00.000000Z',
};
const watchStarted = { ...watchReceived, stage: 'ResponseStarted', responseStatus: { metadata: {}, code: 200 }, stageTimestamp: '2025-03-04T09:10:00.004000Z', annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': '' } };

/** A non-resource request: no objectRef. */
const healthz = {
  kind: 'Event',
  apiVersion: 'audit.k8s.io/v1',
  level: 'Metadata',
  auditID: '0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9',
  stage: 'ResponseComplete',
  requestURI: '/readyz',
  verb: 'get',
  user: { username: 'system:anonymous', groups: ['system:unauthenticated'] },
  sourceIPs: ['172.30.1.2'],
  userAgent: 'kube-probe/1.31',
  responseStatus: { metadata: {}, code: 200 },
  requestReceivedTimestamp: '2025-03-04T09:11:00.999999Z',
  stageTimestamp: '2025-03-04T09:11:00.999999Z',
  annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': 'RBAC: allowed by ClusterRoleBinding "system:public-info-viewer" of ClusterRole "system:public-info-viewer" to Group "system:unauthenticated"' },
};

const line = (event: unknown) => JSON.stringify(event);
/** The day's log, in the order the apiserver wrote it (two requests interleaved). */
const auditLog = [leaseReceived, secretReceived, leaseComplete, secretComplete, forbiddenDelete, impersonatedList, watchReceived, watchStarted, healthz].map(line).join('\n') + '\n';

function event(value: unknown, listApiVersion?: string): AuditEvent {
  const read = readAuditEvent(value, listApiVersion);
  if ('error' in read) assert.fail(read.error);
  return read;
}

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'airlock-k8s-import-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function readAll(file: string): Promise<AuditRead[]> {
  const out: AuditRead[] = [];
  for await (const r of readAuditFile(file)) out.push(r);
  return out;
}

/** A dry run that captures what would be appended. */
async function collect(files: string[], options: Parameters<typeof importK8sAudit>[1] = {}) {
  const entries: EntryInput[] = [];
  const report = await importK8sAudit(files, { ...options, append: async (input) => void entries.push(input) });
  return { entries, report };
}

describe('mapping one audit event', () => {
  it('maps a service account lease update onto an imported entry, every field accounted for', () => {
    const entry = toImportedEntry(event(leaseComplete), { file: join(dir, 'audit.log'), line: 3 }, { connection: 'prod-eu' });
    assert.deepEqual(entry, {
      type: 'imported',
      time: '2025-03-04T08:15:30.123Z',
      identity: {
        subject: 'system:serviceaccount:monitoring:metrics-operator',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:monitoring', 'system:authenticated'],
        issuer: 'kubernetes-audit',
        kind: 'agent',
        tokenId: '',
        via: 'import',
      },
      connection: 'prod-eu',
      action: {
        protocol: 'kubernetes',
        connection: 'prod-eu',
        verb: 'update',
        path: '/apis/coordination.k8s.io/v1/namespaces/monitoring/leases/metrics-operator-lock',
        resource: 'leases',
        apiGroup: 'coordination.k8s.io',
        apiVersion: 'v1',
        namespace: 'monitoring',
        name: 'metrics-operator-lock',
        dryRun: false,
      },
      decision: {
        effect: 'allow',
        rules: [],
        message: 'RBAC: allowed by RoleBinding "metrics-operator-leader/monitoring" of Role "leader-election" to ServiceAccount "metrics-operator/monitoring"',
      },
      data: {
        witnessed: false,
        source: 'audit.log',
        line: 3,
        auditID: '7d3e2a91-0c5b-4f6e-9a41-2b8c1d0e5f37',
        stage: 'ResponseComplete',
        level: 'Metadata',
        requestURI: '/apis/coordination.k8s.io/v1/namespaces/monitoring/leases/metrics-operator-lock?timeout=5s',
        sourceIPs: ['10.244.1.17'],
        remoteAddress: '10.244.1.17',
        userAgent: 'metrics-operator/v0.9.1 (linux/amd64) kubernetes/$Format/leader-election',
        status: 200,
        stageTimestamp: '2025-03-04T08:15:30.131207Z',
        durationMs: 7.751,
      },
    });
  });

  it('a person is human; a forbid becomes deny; the core group is ""', () => {
    const entry = toImportedEntry(event(forbiddenDelete), { file: 'audit.log', line: 5 }, { connection: 'imported' });
    assert.equal(entry.identity?.kind, 'human');
    assert.deepEqual(entry.decision, { effect: 'deny', rules: [], message: "the cluster's authorizer answered forbid" });
    assert.equal(entry.action?.apiGroup, '');
    assert.equal(entry.action?.namespace, undefined);
    assert.equal(entry.data?.status, 403);
  });

  it('durations come from the microsecond timestamps; an unfinished request has none', () => {
    const loc = { file: 'audit.log', line: 1 };
    const c = { connection: 'imported' };
    assert.equal(toImportedEntry(event(secretComplete), loc, c).data?.durationMs, 21.311);
    assert.equal(toImportedEntry(event(impersonatedList), loc, c).data?.durationMs, 10);
    assert.equal(toImportedEntry(event(watchStarted), loc, c).data?.durationMs, undefined);
    assert.equal(toImportedEntry(event({ ...healthz, stageTimestamp: 'later' }), loc, c).data?.durationMs, undefined);
    // The last source IP is the peer the apiserver saw.
    assert.equal(toImportedEntry(event(secretComplete), loc, c).data?.remoteAddress, '10.0.0.12');
  });

  it('keeps who was impersonated (name and groups only) and marks dry runs', () => {
    const entry = toImportedEntry(event(impersonatedList), { file: 'audit.log', line: 6 }, { connection: 'imported' });
    assert.equal(entry.identity?.subject, 'system:serviceaccount:platform:access-proxy');
    assert.deepEqual(entry.data?.impersonatedUser, { username: 'agent:deploy-bot', groups: ['ci', 'system:authenticated'] });
    assert.equal(entry.action?.dryRun, true);
  });

  it('a non-resource request has a path and no resource; no decision annotation, no decision', () => {
    const { annotations: _a, ...bare } = healthz;
    const entry = toImportedEntry(event(bare), { file: 'audit.log', line: 9 }, { connection: 'imported' });
    assert.deepEqual(entry.action, { protocol: 'kubernetes', connection: 'imported', verb: 'get', path: '/readyz' });
    assert.equal(entry.decision, undefined);
    assert.equal(entry.identity?.kind, 'human');
  });

  it('never carries a body or an annotation other than the decision', () => {
    const entry = toImportedEntry(event(secretComplete), { file: 'audit.log', line: 4 }, { connection: 'imported' });
    const text = JSON.stringify(entry);
    for (const secret of [SECRET_PLAIN, SECRET_B64, SECRET_TOKEN, Buffer.from(SECRET_TOKEN).toString('base64')]) assert.ok(!text.includes(secret), secret);
    assert.equal(entry.request, undefined);
    assert.equal(entry.response, undefined);
    assert.ok(!text.includes('patch.webhook'));
  });

  it('times: microseconds cut to milliseconds, offsets to UTC, anything else refused', () => {
    assert.equal(normalizeTime('2025-03-04T08:15:30.123999Z'), '2025-03-04T08:15:30.123Z');
    assert.equal(normalizeTime('2025-03-04T10:15:30+02:00'), '2025-03-04T08:15:30.000Z');
    assert.equal(normalizeTime('2025-03-04t08:15:30.5z'), '2025-03-04T08:15:30.500Z');
    for (const bad of ['2025-03-04 08:15:30Z', 'yesterday', '1741076130', 1741076130, '2025-13-04T08:15:30Z']) assert.equal(normalizeTime(bad), undefined, String(bad));
  });

  it('v1beta1 events are read, with `timestamp` when requestReceivedTimestamp is missing', () => {
    const { requestReceivedTimestamp: _r, ...rest } = forbiddenDelete;
    const beta = { ...rest, apiVersion: 'audit.k8s.io/v1beta1', timestamp: '2019-10-25T13:58:49Z', metadata: { creationTimestamp: '2019-10-25T13:58:49Z' } };
    assert.equal(event(beta).time, '2019-10-25T13:58:49.000Z');
  });

  it('says why an event cannot be imported', () => {
    const reason = (value: unknown) => {
      const r = readAuditEvent(value);
      return 'error' in r ? r.error : 'ok';
    };
    assert.equal(reason([1]), 'not a JSON object');
    assert.equal(reason({ ...healthz, kind: 'Pod' }), 'kind "Pod" is not an audit Event');
    assert.equal(reason({ ...healthz, apiVersion: 'audit.k8s.io/v2' }), 'apiVersion "audit.k8s.io/v2" is not audit.k8s.io/v1 or audit.k8s.io/v1beta1');
    assert.equal(reason({ ...healthz, auditID: '' }), 'no auditID');
    assert.match(reason({ ...healthz, stage: 'Done' }), /^stage "Done" is not one of RequestReceived, ResponseStarted, ResponseComplete, Panic$/);
    assert.equal(reason({ ...healthz, user: { groups: ['x'] } }), 'no user.username');
    assert.equal(reason({ ...healthz, requestReceivedTimestamp: 'noon' }), 'requestReceivedTimestamp "noon" is not an RFC 3339 time');
    const { verb: _v, ...noVerb } = healthz;
    assert.equal(reason(noVerb), 'no verb');
  });
});

describe('reading files', () => {
  it('reads a pretty-printed EventList (webhook batch), items inheriting its apiVersion', async () => {
    const strip = ({ kind: _k, apiVersion: _v, ...rest }: Record<string, unknown>) => rest;
    const file = write('batch.json', JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items: [strip(leaseComplete), strip(healthz)] }, null, 2));
    const reads = await readAll(file);
    assert.deepEqual(reads.map((r) => ('event' in r ? [r.loc.item, r.loc.line, r.event.auditID] : r.error)), [
      [1, undefined, leaseComplete.auditID],
      [2, undefined, healthz.auditID],
    ]);
  });

  it('reads EventLists one per line, and names the line and item of a bad one', async () => {
    const list = (items: unknown[]) => line({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items });
    const file = write('batches.jsonl', `${list([leaseComplete, { ...healthz, stage: 'Later' }])}\n${list([forbiddenDelete])}\n`);
    const reads = await readAll(file);
    assert.deepEqual(reads.map((r) => [r.loc.line, r.loc.item, 'event' in r ? 'event' : r.error]), [
      [1, 1, 'event'],
      [1, 2, 'stage "Later" is not one of RequestReceived, ResponseStarted, ResponseComplete, Panic'],
      [2, 1, 'event'],
    ]);
  });

  it('bad lines are reported with their line and reason and do not stop the file; blank lines and CRLF are fine', async () => {
    const secretLine = line(secretComplete);
    const file = write('mixed.log', [line(leaseComplete), '', '{"kind":"Event","auditID":', 'not json at all', '{"a"}', secretLine.slice(0, 200), line(healthz), ''].join('\r\n'));
    const reads = await readAll(file);
    assert.deepEqual(reads.map((r) => [r.loc.line, 'event' in r ? 'event' : r.error]), [
      [1, 'event'],
      [3, 'not JSON: it ends early (truncated after 26 characters?)'],
      [4, 'not JSON: unexpected character'],
      [5, 'not JSON: unexpected text at column 5'],
      [6, 'not JSON: it ends early (truncated after 200 characters?)'],
      [7, 'event'],
    ]);
  });

  it('a reason never quotes the line it comes from', async () => {
    const file = write('quoted.log', `{"requestObject":{"data":{"password":"${SECRET_B64}"}} trailing ${SECRET_PLAIN}\n`);
    const [read] = await readAll(file);
    assert.ok(read && 'error' in read);
    assert.ok(!read.error.includes(SECRET_PLAIN) && !read.error.includes(SECRET_B64), read.error);
  });
});

describe('stages', () => {
  it('one entry per request: the final stage wins, earlier ones are folded', async () => {
    const { entries, report } = await collect([write('day.log', auditLog)]);
    assert.deepEqual(
      entries.map((e) => [e.data?.auditID, e.data?.stage]),
      [
        [leaseComplete.auditID, 'ResponseComplete'],
        [secretComplete.auditID, 'ResponseComplete'],
        [forbiddenDelete.auditID, 'ResponseComplete'],
        [impersonatedList.auditID, 'ResponseComplete'],
        [healthz.auditID, 'ResponseComplete'],
        // Never completed in this log: imported at its last stage, after the completed ones.
        [watchStarted.auditID, 'ResponseStarted'],
      ],
    );
    assert.deepEqual({ ...report, bad: undefined }, {
      files: 1, events: 9, imported: 6, duplicates: 0, earlierStages: 3, badLines: 0, bad: undefined, dryRun: false, refused: false,
    });
    assert.equal(entries[0]?.data?.line, 3);
  });

  it("a request's stages may straddle two rotated files", async () => {
    const older = write('audit-1.log', `${line(leaseReceived)}\n`);
    const newer = write('audit-2.log', `${line(leaseComplete)}\n`);
    const { entries } = await collect([older, newer]);
    assert.deepEqual(entries.map((e) => [e.data?.source, e.data?.stage]), [['audit-2.log', 'ResponseComplete']]);
  });

  it('an earlier stage written after a later one is the one dropped', () => {
    const w = new StageWindow(10);
    const at = (e: unknown, n: number) => ({ loc: { file: 'f', line: n }, event: event(e) });
    assert.deepEqual(w.add(at(watchStarted, 1)), []);
    assert.deepEqual(w.add(at(watchReceived, 2)), []);
    assert.deepEqual(w.flush().map((x) => x.event.stage), ['ResponseStarted']);
    assert.equal(w.folded, 1);
  });

  it('the window is bounded: past it, the longest-waiting request is imported as it is', async () => {
    const other = { ...watchReceived, auditID: '11111111-2222-4333-8444-555555555555' };
    const file = write('window.log', [watchReceived, other, watchStarted].map(line).join('\n'));
    const { entries, report } = await collect([file], { window: 1 });
    // watchReceived left the window when `other` arrived; its ResponseStarted came too late.
    assert.deepEqual(entries.map((e) => [e.data?.auditID, e.data?.stage]), [
      [watchReceived.auditID, 'RequestReceived'],
      [other.auditID, 'RequestReceived'],
    ]);
    assert.equal(report.duplicates, 1);
  });
});

describe('importing into a ledger', () => {
  let dataDir: string;
  let logFile: string;
  let first: Awaited<ReturnType<typeof importK8sAudit>>;

  async function importInto(files: string[], options: Parameters<typeof importK8sAudit>[1] = {}) {
    const ledger = await openLedger({ dataDir, store: { kind: 'sqlite' }, chain: 'import' });
    try {
      const reader = await openLedgerReader({ dataDir, store: { kind: 'sqlite' } });
      const known = await knownAuditIds(reader).finally(() => reader.close());
      return await importK8sAudit(files, { ...options, known, append: (input) => ledger.append(input) });
    } finally {
      await ledger.close();
    }
  }

  async function stored(): Promise<LedgerEntry[]> {
    const reader = await openLedgerReader({ dataDir, store: { kind: 'sqlite' } });
    try {
      const out: LedgerEntry[] = [];
      for await (const e of reader.entries({})) out.push(e);
      return out;
    } finally {
      await reader.close();
    }
  }

  before(async () => {
    dataDir = join(dir, 'ledger-data');
    logFile = write('kube-apiserver-audit.log', auditLog);
    first = await importInto([logFile]);
  });

  it('writes one imported entry per request, with the original times', async () => {
    assert.equal(first.imported, 6);
    const entries = await stored();
    assert.deepEqual(entries.map((e) => e.type), Array(6).fill('imported'));
    assert.deepEqual(
      entries.map((e) => e.time),
      ['2025-03-04T08:15:30.123Z', '2025-03-04T09:00:01.500Z', '2025-03-04T09:05:00.000Z', '2025-03-04T09:06:00.250Z', '2025-03-04T09:11:00.999Z', '2025-03-04T09:10:00.000Z'],
    );
    assert.ok(entries.every((e) => e.data?.witnessed === false && e.chain === 'import'));
  });

  it('no body reaches the ledger: the planted secrets are in no file of the data dir', () => {
    const needles = [SECRET_PLAIN, SECRET_B64, SECRET_TOKEN, Buffer.from(SECRET_TOKEN).toString('base64')];
    const files = readdirSync(dataDir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
    assert.ok(files.some((f) => f.name === 'ledger.db'));
    for (const f of files) {
      const bytes = readFileSync(join(f.parentPath, f.name)).toString('latin1');
      for (const needle of needles) assert.ok(!bytes.includes(needle), `${needle} found in ${f.name}`);
    }
    // The log itself does hold them, so the check above could fail.
    assert.ok(auditLog.includes(SECRET_B64) && auditLog.includes(SECRET_TOKEN));
  });

  it('importing the same file again adds nothing', async () => {
    const again = await importInto([logFile]);
    assert.equal(again.imported, 0);
    assert.equal(again.duplicates, 6);
    assert.equal((await stored()).length, 6);
  });

  it('a log that overlaps an earlier import adds only what is new', async () => {
    const next = { ...healthz, auditID: 'f0e1d2c3-b4a5-4968-8776-655443322110', requestReceivedTimestamp: '2025-03-05T00:00:00.000000Z' };
    const overlapping = write('overlap.log', [healthz, next, next].map(line).join('\n'));
    const report = await importInto([overlapping]);
    assert.deepEqual([report.imported, report.duplicates], [1, 2]);
    assert.equal((await stored()).length, 7);
  });

  it('the ledger still verifies after the imports, every entry signed', async () => {
    const reader = await openLedgerReader({ dataDir, store: { kind: 'sqlite' } });
    try {
      const report = await verifyLedger(reader, { publicKey: exportLedgerPublicKey(dataDir) });
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      assert.deepEqual(report.chains.map((c) => [c.chain, c.entries, c.unsigned]), [['import', 7, 0]]);
    } finally {
      await reader.close();
    }
  });

  it('--strict: one bad line and nothing is written', async () => {
    const news = [1, 2, 3].map((n) => line({ ...healthz, auditID: `strict-${n}` }));
    const file = write('strict.log', [news[0], news[1], '{"kind":"Event"', news[2]].join('\n'));
    const report = await importInto([file], { strict: true });
    assert.equal(report.refused, true);
    assert.equal(report.imported, 0);
    assert.deepEqual(report.bad, [{ file, line: 3, reason: 'not JSON: it ends early (truncated after 15 characters?)' }]);
    assert.equal((await stored()).length, 7);
    // Without --strict the good lines go in and the bad one is counted.
    const lenient = await importInto([file]);
    assert.deepEqual([lenient.imported, lenient.badLines, lenient.refused], [3, 1, false]);
  });

  it('a file that cannot be read fails the import before anything is written', async () => {
    await assert.rejects(importInto([logFile, join(dir, 'missing.log')]), (err: unknown) => {
      assert.ok(isAirlockError(err) && err.code === 'AIRLOCK_INPUT_INVALID');
      assert.match(err.message, /missing\.log: no such file/);
      return true;
    });
    await assert.rejects(importInto([dir]), /is a directory/);
  });
});
