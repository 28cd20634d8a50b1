import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePolicy } from './compile.js';
import type { PolicyIdentity } from './evaluate.js';
import type { PolicyRequest } from './request.js';
import { needsRequestBody, recordedObject, summarizeAction, WhatIf, whatIf, type RecordedRequest } from './what-if.js';

const agent: PolicyIdentity = { subject: 'agent:deploy-bot', groups: ['agents'], issuer: 'https://idp.example', kind: 'agent', tokenId: 'tok-1', via: 'builtin' };

const k8s = (fields: Partial<PolicyRequest>): PolicyRequest => ({ protocol: 'kubernetes', connection: 'prod', verb: 'get', ...fields });

let n = 0;
function entry(fields: Partial<RecordedRequest>): RecordedRequest {
  n++;
  return {
    id: `entry-${n}`,
    time: `2025-01-15T09:${String(n % 60).padStart(2, '0')}:00.000Z`,
    type: 'request',
    identity: agent,
    action: k8s({}),
    decision: { effect: 'allow', rules: ['agents-read'] },
    data: { outcome: 'forwarded' },
    ...fields,
  };
}

/** The policy in force when the traffic was recorded: reads and deletes allowed. */
const draft = compilePolicy(
  `
default: deny
rules:
  - name: no-prod-deletes
    match: request.verb == "delete" && request.connection == "prod"
    effect: deny
    message: deletes in prod go through the release pipeline
  - name: scale-needs-review
    match: has(request.subresource) && request.subresource == "scale"
    effect: review
    message: scaling needs an SRE
  - name: agents-read
    match: request.verb in ["get", "list", "watch"]
    effect: allow
  - name: agents-create-pods
    match: request.verb == "create" && request.resource == "pods" && !(has(object.spec) && has(object.spec.hostNetwork) && object.spec.hostNetwork)
    effect: allow
`,
  { file: 'draft.yaml' },
);

describe('whatIf', () => {
  it('reports a recorded allowed delete that the draft denies as allow → deny, with the draft rule and message', () => {
    const del = entry({
      chain: 'main',
      seq: 7,
      connection: 'prod',
      action: k8s({ verb: 'delete', resource: 'deployments', namespace: 'shop', name: 'web' }),
      decision: { effect: 'allow', rules: ['agents-delete'] },
    });
    const report = whatIf(draft, [entry({ action: k8s({ verb: 'list', resource: 'pods', namespace: 'shop' }) }), del]);
    assert.equal(report.requests, 2);
    assert.equal(report.replayed, 2);
    assert.equal(report.unchanged, 1);
    assert.equal(report.changed, 1);
    assert.deepEqual(report.transitions, [{ from: 'allow', to: 'deny', count: 1 }]);
    assert.deepEqual(report.changes, [
      {
        entryId: del.id,
        position: 'main#7',
        time: del.time,
        subject: 'agent:deploy-bot',
        connection: 'prod',
        summary: 'delete deployments/web in shop on prod',
        outcome: 'forwarded',
        recorded: { effect: 'allow', rules: ['agents-delete'] },
        draft: { effect: 'deny', rules: ['no-prod-deletes'], message: 'deletes in prod go through the release pipeline', defaulted: false },
      },
    ]);
  });

  it('counts every transition separately, the most frequent first, and every request (no deduplication)', () => {
    const sameDelete = k8s({ verb: 'delete', resource: 'pods', namespace: 'shop', name: 'web-1' });
    const report = whatIf(draft, [
      entry({ action: sameDelete }),
      entry({ action: sameDelete }),
      entry({ action: k8s({ verb: 'update', resource: 'deployments', name: 'web', subresource: 'scale', namespace: 'shop' }) }),
      // Recorded as denied by a rule the draft drops; the draft's default allows nothing, but reads are allowed.
      entry({ action: k8s({ verb: 'get', resource: 'secrets', namespace: 'shop', name: 'db' }), decision: { effect: 'deny', rules: ['no-secrets'] }, data: { outcome: 'refused', status: 403 } }),
      entry({ action: k8s({ verb: 'get', resource: 'pods' }), decision: { effect: 'review', rules: ['old-review'] } }),
    ]);
    assert.equal(report.replayed, 5);
    assert.equal(report.changed, 5);
    assert.equal(report.unchanged, 0);
    assert.deepEqual(report.transitions, [
      { from: 'allow', to: 'deny', count: 2 },
      { from: 'allow', to: 'review', count: 1 },
      { from: 'deny', to: 'allow', count: 1 },
      { from: 'review', to: 'allow', count: 1 },
    ]);
    const secret = report.changes.find((c) => c.summary.startsWith('get secrets/db'));
    assert.equal(secret?.outcome, 'refused 403');
    assert.deepEqual(secret?.recorded, { effect: 'deny', rules: ['no-secrets'] });
  });

  it('counts requests that cannot be replayed separately, by reason, and ignores other entry types', () => {
    const w = new WhatIf(draft);
    w.add(entry({ identity: undefined, action: undefined, decision: undefined, data: { outcome: 'refused', status: 401 } }));
    w.add(entry({ identity: undefined, decision: undefined, data: { outcome: 'refused', status: 401 } }));
    w.add(entry({ action: undefined, decision: undefined, data: { outcome: 'refused', status: 400 } }));
    w.add(entry({ action: k8s({ verb: 'create', resource: 'secrets' }), decision: undefined, data: { outcome: 'refused', status: 400 } }));
    w.add(entry({ type: 'response' }));
    w.add(entry({ type: 'approval.requested' }));
    w.add(entry({ action: k8s({ verb: 'list', resource: 'pods' }) }));
    const report = w.report();
    assert.equal(report.requests, 5);
    assert.equal(report.replayed, 1);
    assert.equal(report.unchanged, 1);
    assert.equal(report.changed, 0);
    assert.deepEqual(report.unreplayable, { total: 4, 'no-identity': 2, 'no-action': 1, 'no-decision': 1 });
    assert.deepEqual(report.changes, []);
  });

  it('counts an unchanged effect reached by other rules, without calling it a change', () => {
    const report = whatIf(draft, [entry({ action: k8s({ verb: 'watch', resource: 'pods' }), decision: { effect: 'allow', rules: ['old-read-rule'] } })]);
    assert.equal(report.changed, 0);
    assert.equal(report.unchanged, 1);
    assert.equal(report.sameEffectOtherRules, 1);
  });

  it('decides a create with the recorded body as object, read inline or handed over from the blob store', () => {
    const hostPod = JSON.stringify({ kind: 'Pod', spec: { hostNetwork: true } });
    const plainPod = JSON.stringify({ kind: 'Pod', spec: { containers: [] } });
    const create = k8s({ verb: 'create', resource: 'pods', namespace: 'shop' });
    const inline = entry({ action: create, request: { contentType: 'application/json', inline: hostPod, sha256: 'a' } });
    const blob = entry({ action: create, request: { contentType: 'application/json', blob: true, sha256: 'b' } });
    assert.equal(needsRequestBody(blob), true);
    assert.equal(needsRequestBody(inline), false);
    const report = whatIf(draft, [
      inline,
      { ...blob, requestBody: hostPod },
      entry({ action: create, request: { contentType: 'application/json', inline: plainPod, sha256: 'c' } }),
    ]);
    // Both host-network pods fall to the default deny; the plain pod stays allowed.
    assert.deepEqual(report.transitions, [{ from: 'allow', to: 'deny', count: 2 }]);
    assert.deepEqual(report.changes.map((c) => c.entryId).sort(), [inline.id, blob.id].sort());
    assert.equal(report.objectUnknown, 0);
  });

  it('flags writes whose object was not recorded (patches, missing blobs) when the draft reads object', () => {
    const patch = entry({
      action: k8s({ verb: 'patch', resource: 'pods', name: 'web-1' }),
      request: { contentType: 'application/merge-patch+json', inline: '{"spec":{"hostNetwork":true}}', sha256: 'p' },
    });
    assert.equal(needsRequestBody({ ...patch, request: { ...patch.request!, blob: true } }), false);
    assert.deepEqual(recordedObject(patch), { unknown: 'patch' });
    const missing = entry({ action: k8s({ verb: 'create', resource: 'pods' }), request: { contentType: 'application/json', blob: true, sha256: 'm' } });
    assert.deepEqual(recordedObject(missing), { unknown: 'body-missing' });
    const report = whatIf(draft, [patch, missing]);
    assert.equal(report.objectUnknown, 2);
    // The create without its body is decided with an empty object, so the pod rule allows it.
    assert.equal(report.changes.find((c) => c.entryId === missing.id), undefined);
    assert.equal(report.changes.find((c) => c.entryId === patch.id)?.objectUnknown, 'patch');

    const noObject = compilePolicy('default: allow\nrules: []\n', { file: 'open.yaml' });
    assert.equal(whatIf(noObject, [patch, missing]).objectUnknown, 0);
  });

  it('lists changes newest first, whatever order the chains were read in', () => {
    const del = k8s({ verb: 'delete', resource: 'pods', name: 'x' });
    const report = whatIf(draft, [
      entry({ id: 'b-late', time: '2025-01-15T12:00:00.000Z', action: del }),
      entry({ id: 'a-early', time: '2025-01-15T08:00:00.000Z', action: del }),
      entry({ id: 'c-middle', time: '2025-01-15T10:00:00.000Z', action: del }),
    ]);
    assert.deepEqual(
      report.changes.map((c) => c.entryId),
      ['b-late', 'c-middle', 'a-early'],
    );
  });

  it('reports draft rule errors with the change (a failing deny rule fails closed)', () => {
    const strict = compilePolicy(
      `
default: allow
rules:
  - name: labelled-only
    match: object.metadata.labels.team == "payments"
    effect: deny
    message: payments objects are frozen
`,
      { file: 'strict.yaml' },
    );
    const report = whatIf(strict, [entry({ action: k8s({ verb: 'create', resource: 'configmaps' }), request: { contentType: 'application/json', inline: '{"metadata":{}}', sha256: 'x' } })]);
    assert.equal(report.changed, 1);
    assert.equal(report.changes[0]?.draft.effect, 'deny');
    assert.equal(report.changes[0]?.draft.errors?.[0]?.rule, 'labelled-only');
  });
});

describe('summarizeAction', () => {
  it('names verb, resource/name(/subresource), namespace and connection', () => {
    assert.equal(summarizeAction(k8s({ verb: 'delete', resource: 'deployments', namespace: 'shop', name: 'web' })), 'delete deployments/web in shop on prod');
    assert.equal(summarizeAction(k8s({ verb: 'create', resource: 'pods', name: 'web-1', subresource: 'exec', namespace: 'shop' })), 'create pods/web-1/exec in shop on prod');
    assert.equal(summarizeAction(k8s({ verb: 'list', resource: 'namespaces' })), 'list namespaces on prod');
    assert.equal(summarizeAction(k8s({ verb: 'get', path: '/version' })), 'get /version on prod');
  });
});
