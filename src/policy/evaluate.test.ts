import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePolicy } from './compile.js';
import { evaluatePolicy, evaluatePolicyReference, type PolicyIdentity, type PolicyInput } from './evaluate.js';
import type { PolicyRequest } from './request.js';

const agent: PolicyIdentity = {
  subject: 'agent:deploy-bot',
  groups: ['agents'],
  issuer: 'https://idp.example',
  kind: 'agent',
  tokenId: 'tok-1',
  via: 'builtin',
};
const sre: PolicyIdentity = { ...agent, subject: 'alice', groups: ['sre', 'staff'], kind: 'human', via: 'corp' };

const k8s = (fields: Partial<PolicyRequest>): PolicyRequest => ({
  protocol: 'kubernetes',
  connection: 'prod',
  verb: 'get',
  ...fields,
});
const pg = (fields: Partial<PolicyRequest>): PolicyRequest => ({
  protocol: 'postgres',
  connection: 'orders-db',
  verb: 'select',
  database: 'orders',
  ...fields,
});

interface Rule {
  name: string;
  match: string;
  effect: 'allow' | 'deny' | 'review';
  message?: string;
  approvers?: string[];
  approvals?: number;
  window?: string;
}

function policy(defaultEffect: 'allow' | 'deny', rules: Rule[]) {
  const yaml = [`default: ${defaultEffect}`, 'rules:'];
  for (const r of rules) {
    yaml.push(`  - name: ${r.name}`, `    match: ${JSON.stringify(r.match)}`, `    effect: ${r.effect}`);
    yaml.push(`    message: ${JSON.stringify(r.message ?? `${r.name} says ${r.effect}`)}`);
    if (r.approvers) yaml.push(`    approvers: ${JSON.stringify(r.approvers)}`);
    if (r.approvals) yaml.push(`    approvals: ${r.approvals}`);
    if (r.window) yaml.push(`    window: ${r.window}`);
  }
  return compilePolicy(yaml.join('\n') + '\n', { file: 'test.yaml' });
}

/** decide runs both evaluators and insists they agree, so every row also checks equivalence. */
function decide(p: ReturnType<typeof policy>, input: PolicyInput) {
  const fast = evaluatePolicy(p, input);
  assert.deepStrictEqual(fast, evaluatePolicyReference(p, input));
  return fast;
}

const always = (name: string, effect: Rule['effect']): Rule => ({ name, match: 'true', effect });
const never = (name: string, effect: Rule['effect']): Rule => ({ name, match: 'false', effect });

describe('decision order', () => {
  const cases: { title: string; def: 'allow' | 'deny'; rules: Rule[]; effect: string; rules_: string[]; defaulted: boolean }[] = [
    { title: 'a matching deny beats matching review and allow', def: 'allow', rules: [always('a', 'allow'), always('r', 'review'), always('d', 'deny')], effect: 'deny', rules_: ['d'], defaulted: false },
    { title: 'a matching review beats a matching allow', def: 'deny', rules: [always('a', 'allow'), always('r', 'review'), never('d', 'deny')], effect: 'review', rules_: ['r'], defaulted: false },
    { title: 'a matching allow beats a deny default', def: 'deny', rules: [always('a', 'allow'), never('r', 'review')], effect: 'allow', rules_: ['a'], defaulted: false },
    { title: 'nothing matching falls to a deny default', def: 'deny', rules: [never('a', 'allow'), never('d', 'deny')], effect: 'deny', rules_: [], defaulted: true },
    { title: 'nothing matching falls to an allow default', def: 'allow', rules: [never('d', 'deny')], effect: 'allow', rules_: [], defaulted: true },
    { title: 'an empty policy is its default', def: 'deny', rules: [], effect: 'deny', rules_: [], defaulted: true },
    { title: 'all matching deny rules are listed, in file order', def: 'allow', rules: [always('d1', 'deny'), always('a', 'allow'), always('d2', 'deny')], effect: 'deny', rules_: ['d1', 'd2'], defaulted: false },
    { title: 'all matching allow rules are listed', def: 'deny', rules: [always('a1', 'allow'), never('a2', 'allow'), always('a3', 'allow')], effect: 'allow', rules_: ['a1', 'a3'], defaulted: false },
  ];
  for (const c of cases) {
    it(c.title, () => {
      const d = decide(policy(c.def, c.rules), { request: k8s({}), identity: agent });
      assert.equal(d.effect, c.effect);
      assert.deepEqual(d.rules, c.rules_);
      assert.equal(d.defaulted, c.defaulted);
    });
  }

  it('the message is the first winning rule’s, in file order', () => {
    const p = policy('allow', [
      { name: 'first', match: 'true', effect: 'deny', message: 'first says no' },
      { name: 'second', match: 'true', effect: 'deny', message: 'second says no' },
    ]);
    assert.equal(decide(p, { request: k8s({}), identity: agent }).message, 'first says no');
  });

  it('the default decision explains itself', () => {
    const d = decide(policy('deny', []), { request: k8s({}), identity: agent });
    assert.match(d.message, /no rule matched; the policy default is deny/);
  });

  it('matching review rules merge: approvers united, the largest approval count', () => {
    const p = policy('allow', [
      { name: 'r1', match: 'true', effect: 'review', approvers: ['group:sre', 'user:bob'], approvals: 1 },
      { name: 'r2', match: 'true', effect: 'review', approvers: ['group:sre', 'group:dba'], approvals: 2 },
      { name: 'r3', match: 'false', effect: 'review', approvers: ['group:never'], approvals: 5 },
    ]);
    const d = decide(p, { request: k8s({}), identity: agent });
    assert.equal(d.effect, 'review');
    assert.deepEqual(d.review, { approvers: ['group:sre', 'user:bob', 'group:dba'], approvals: 2, rules: ['r1', 'r2'] });
  });

  it('a window grant applies only when every matching review rule grants one, and the shortest wins', () => {
    const both = decide(policy('allow', [
      { name: 'w1', match: 'true', effect: 'review', window: '30m' },
      { name: 'w2', match: 'true', effect: 'review', window: '2h' },
    ]), { request: k8s({}), identity: agent });
    assert.deepEqual(both.review?.window, { ms: 30 * 60_000, text: '30m' });
    const mixed = decide(policy('allow', [
      { name: 'w1', match: 'true', effect: 'review', window: '30m' },
      { name: 'once', match: 'true', effect: 'review' },
    ]), { request: k8s({}), identity: agent });
    assert.equal(mixed.review?.window, undefined, 'a rule that grants one request keeps it to one request');
  });

  it('an allow rule without a message gets one naming the rule', () => {
    const p = compilePolicy('default: deny\nrules:\n  - name: reads\n    match: "true"\n    effect: allow\n');
    assert.equal(evaluatePolicy(p, { request: k8s({}), identity: agent }).message, 'allowed by rule "reads"');
  });
});

describe('failing rules fail closed', () => {
  const missing = 'request.nosuchfield == "x"';
  const cases: { title: string; rules: Rule[]; def: 'allow' | 'deny'; effect: string; rules_: string[]; errored: string[] }[] = [
    { title: 'an erroring deny rule counts as matched', def: 'allow', rules: [{ name: 'd', match: missing, effect: 'deny' }], effect: 'deny', rules_: ['d'], errored: ['d'] },
    { title: 'an erroring review rule counts as matched', def: 'allow', rules: [{ name: 'r', match: missing, effect: 'review' }], effect: 'review', rules_: ['r'], errored: ['r'] },
    { title: 'an erroring allow rule does not match, and is reported', def: 'deny', rules: [{ name: 'a', match: missing, effect: 'allow' }], effect: 'deny', rules_: [], errored: ['a'] },
    { title: 'an erroring allow rule does not stop another allow', def: 'deny', rules: [{ name: 'a', match: missing, effect: 'allow' }, always('b', 'allow')], effect: 'allow', rules_: ['b'], errored: ['a'] },
    { title: 'a non-boolean result is an error', def: 'allow', rules: [{ name: 'd', match: 'request.verb', effect: 'deny' }], effect: 'deny', rules_: ['d'], errored: ['d'] },
    { title: 'errors of rules below the winning effect are not consulted', def: 'allow', rules: [always('d', 'deny'), { name: 'a', match: missing, effect: 'allow' }], effect: 'deny', rules_: ['d'], errored: [] },
  ];
  for (const c of cases) {
    it(c.title, () => {
      const d = decide(policy(c.def, c.rules), { request: k8s({}), identity: agent });
      assert.equal(d.effect, c.effect);
      assert.deepEqual(d.rules, c.rules_);
      assert.deepEqual((d.errors ?? []).map((e) => e.rule), c.errored);
    });
  }

  it('the error names the cel-js code and the column', () => {
    const d = decide(policy('allow', [{ name: 'd', match: missing, effect: 'deny' }]), { request: k8s({}), identity: agent });
    assert.deepEqual(d.errors, [{ rule: 'd', error: 'no_such_key at column 9: No such key: nosuchfield' }]);
  });

  it('an error message that could quote request data is reduced to its code and column', () => {
    const secret = 's3cr3t-(unclosed';
    const p = policy('allow', [{ name: 'd', match: 'request.statement.matches(request.name)', effect: 'deny' }]);
    const d = decide(p, { request: pg({ statement: 'select 1', name: secret }), identity: agent });
    assert.equal(d.effect, 'deny');
    assert.ok(!JSON.stringify(d).includes('s3cr3t'), JSON.stringify(d));
  });

  it('a request that is not a plain object fails closed instead of throwing', () => {
    const p = policy('allow', [{ name: 'd', match: 'request.verb == "delete"', effect: 'deny' }, always('a', 'allow')]);
    for (const request of [null, 'get', new Map([['verb', 'delete']]), { constructor: 'x', verb: 'get' }]) {
      const d = decide(p, { request: request as unknown as PolicyRequest, identity: agent });
      assert.equal(d.effect, 'deny', String(request));
    }
  });
});

describe('absent fields and absent objects', () => {
  const p = policy('allow', [
    { name: 'guarded', match: 'has(request.name) && request.name == "x"', effect: 'deny' },
    { name: 'spec-check', match: 'has(object.spec) && has(object.spec.hostNetwork) && object.spec.hostNetwork == true', effect: 'review' },
    { name: 'object-empty', match: '!has(object.metadata)', effect: 'allow' },
  ]);
  const cases: { title: string; input: PolicyInput; effect: string; rules: string[] }[] = [
    { title: 'has() on an absent request field is false, not an error', input: { request: k8s({}), identity: agent }, effect: 'allow', rules: ['object-empty'] },
    { title: 'a request without an object sees an empty map', input: { request: k8s({ verb: 'delete' }), identity: agent }, effect: 'allow', rules: ['object-empty'] },
    { title: 'a null object is an empty map too', input: { request: k8s({}), identity: agent, object: null }, effect: 'allow', rules: ['object-empty'] },
    { title: 'has() walks into a present object', input: { request: k8s({ verb: 'create' }), identity: agent, object: { spec: { hostNetwork: true } } }, effect: 'review', rules: ['spec-check'] },
    { title: 'a present field decides normally', input: { request: k8s({ name: 'x' }), identity: agent }, effect: 'deny', rules: ['guarded'] },
  ];
  for (const c of cases) {
    it(c.title, () => {
      const d = decide(p, c.input);
      assert.equal(d.effect, c.effect);
      assert.deepEqual(d.rules, c.rules);
      assert.equal(d.errors, undefined);
    });
  }

  it('has(a.b.c) errors when a.b itself is absent (CEL semantics), so guard each level', () => {
    const q = policy('allow', [{ name: 'deep', match: 'has(object.spec.hostNetwork)', effect: 'deny' }]);
    const d = decide(q, { request: k8s({}), identity: agent });
    assert.equal(d.effect, 'deny');
    assert.match(d.errors?.[0]?.error ?? '', /no_such_key/);
  });
});

describe('identity', () => {
  const p = policy('deny', [
    { name: 'sre-may', match: '"sre" in identity.groups', effect: 'allow' },
    { name: 'agents-read', match: 'identity.kind == "agent" && request.verb in ["get", "list", "watch"]', effect: 'allow' },
    { name: 'bot-client', match: 'has(identity.clientId) && identity.clientId == "ci"', effect: 'allow' },
    { name: 'issuer-seen', match: 'identity.issuer.startsWith("https://") && identity.via != "" && identity.tokenId != ""', effect: 'allow' },
  ]);
  const cases: { title: string; identity: PolicyIdentity; verb: string; rules: string[] }[] = [
    { title: 'group membership with "in identity.groups"', identity: sre, verb: 'delete', rules: ['sre-may', 'issuer-seen'] },
    { title: 'identity.kind distinguishes agents', identity: agent, verb: 'list', rules: ['agents-read', 'issuer-seen'] },
    { title: 'an agent outside its rules meets only the issuer rule', identity: agent, verb: 'delete', rules: ['issuer-seen'] },
    { title: 'clientId is visible when the token carried one', identity: { ...agent, clientId: 'ci' }, verb: 'delete', rules: ['bot-client', 'issuer-seen'] },
  ];
  for (const c of cases) {
    it(c.title, () => {
      assert.deepEqual(decide(p, { request: k8s({ verb: c.verb }), identity: c.identity }).rules, c.rules);
    });
  }

  it('an Identity with an expiry is accepted, and expiresAt is not visible to rules', () => {
    const q = policy('allow', [{ name: 'exp', match: 'has(identity.expiresAt)', effect: 'deny' }]);
    const d = decide(q, { request: k8s({}), identity: { ...agent, expiresAt: 1 } as PolicyIdentity });
    assert.equal(d.effect, 'allow');
  });
});

describe('protocol-neutral requests', () => {
  const p = policy('deny', [
    { name: 'sql-ddl-review', match: 'request.protocol == "postgres" && request.verb == "ddl"', effect: 'review', approvers: ['group:dba'] },
    { name: 'sql-reads', match: 'request.protocol == "postgres" && request.verb == "select"', effect: 'allow' },
    { name: 'no-payments-writes', match: 'request.protocol == "postgres" && request.verb in ["insert", "update", "delete"] && "payments" in request.tables', effect: 'deny' },
    { name: 'sql-writes', match: 'request.protocol == "postgres" && request.verb in ["insert", "update", "delete"] && request.database == "orders"', effect: 'allow' },
    { name: 'k8s-reads', match: 'request.protocol == "kubernetes" && request.verb in ["get", "list", "watch"]', effect: 'allow' },
  ]);
  const cases: { title: string; request: PolicyRequest; effect: string; rules: string[] }[] = [
    { title: 'PostgreSQL DDL goes to review', request: pg({ verb: 'ddl', statement: 'DROP TABLE orders', tables: ['orders'] }), effect: 'review', rules: ['sql-ddl-review'] },
    { title: 'PostgreSQL selects are allowed', request: pg({ statement: 'SELECT 1', tables: [] }), effect: 'allow', rules: ['sql-reads'] },
    { title: 'writes touching a listed table are denied', request: pg({ verb: 'update', tables: ['orders', 'payments'] }), effect: 'deny', rules: ['no-payments-writes'] },
    { title: 'other writes follow the database rule', request: pg({ verb: 'insert', tables: ['orders'] }), effect: 'allow', rules: ['sql-writes'] },
    { title: 'a Kubernetes read is not confused with SQL', request: k8s({ verb: 'list', resource: 'pods', namespace: 'web' }), effect: 'allow', rules: ['k8s-reads'] },
    { title: 'an unknown protocol meets only the default', request: { protocol: 'mysql', connection: 'x', verb: 'select' }, effect: 'deny', rules: [] },
  ];
  for (const c of cases) {
    it(c.title, () => {
      const d = decide(p, { request: c.request, identity: agent });
      assert.equal(d.effect, c.effect);
      assert.deepEqual(d.rules, c.rules);
    });
  }
});

describe('purity', () => {
  it('the same input gives the same decision, and the input is not modified', () => {
    const p = policy('allow', [{ name: 'd', match: 'request.verb == "delete" && object.spec.replicas > 2', effect: 'deny' }]);
    const input: PolicyInput = { request: k8s({ verb: 'delete' }), identity: agent, object: { spec: { replicas: 3 } } };
    const before = JSON.stringify(input);
    const first = evaluatePolicy(p, input);
    assert.deepStrictEqual(evaluatePolicy(p, input), first);
    assert.equal(JSON.stringify(input), before);
  });
});

describe('break-glass: clear values are a decision', () => {
  const policy = compilePolicy(
    [
      'default: allow',
      'rules:',
      '  - name: break-glass-secrets',
      '    match: request.resource == "secrets" && "breakglass" in identity.groups',
      '    effect: allow',
      '    unmask: [secrets]',
      '',
    ].join('\n'),
  );
  const request = { protocol: 'kubernetes', connection: 'prod', verb: 'get', resource: 'secrets', namespace: 'app', name: 'db' };
  const base = { subject: 'user:alice', issuer: 'https://idp', kind: 'human' as const, tokenId: 't', via: 'corp' };

  it('an allow rule with unmask grants clear Secret values, and names itself', () => {
    for (const evaluate of [evaluatePolicy, evaluatePolicyReference]) {
      const d = evaluate(policy, { request, identity: { ...base, groups: ['breakglass'] } });
      assert.equal(d.effect, 'allow');
      assert.deepEqual(d.rules, ['break-glass-secrets']);
      assert.deepEqual(d.mask, { secrets: 'clear' });
    }
  });

  it('without the rule matching, values stay masked (no mask plan means masked)', () => {
    const d = evaluatePolicy(policy, { request, identity: { ...base, groups: ['dev'] } });
    assert.equal(d.effect, 'allow');
    assert.equal(d.mask, undefined);
  });
});

describe('mask: detectors added per rule, for the callers it matches', () => {
  const maskPolicy = compilePolicy(
    [
      'default: deny',
      'rules:',
      '  - name: reads',
      '    match: request.verb in ["get", "list"]',
      '    effect: allow',
      '  - name: prod-agents-no-pii',
      '    match: identity.kind == "agent" && has(request.namespace) && request.namespace == "prod"',
      '    effect: allow',
      '    mask: [pii]',
      '  - name: shells-mask-keys',
      '    match: has(request.subresource) && request.subresource == "exec"',
      '    effect: allow',
      '    mask: [private-key, jwt, private-key]',
      '  - name: long-names',
      '    match: has(request.name) && size(request.name) > 20',
      '    effect: allow',
      '    mask: [secretlint]',
      '  - name: broken-allow',
      '    match: request.nosuch == "x"',
      '    effect: allow',
      '    mask: [secretlint]',
      '  - name: no-kube-system-shells',
      '    match: has(request.namespace) && request.namespace == "kube-system" && has(request.subresource)',
      '    effect: deny',
      '    message: no shells in kube-system',
      '  - name: staging-writes-need-approval',
      '    match: has(request.namespace) && request.namespace == "staging" && request.verb == "create"',
      '    effect: review',
      '    message: staging writes need an approval',
      '  - name: break-glass',
      '    match: request.resource == "secrets" && "breakglass" in identity.groups',
      '    effect: allow',
      '    unmask: [secrets]',
      '    mask: [pii]',
      '',
    ].join('\n'),
  );
  const both = (input: PolicyInput) => {
    const fast = evaluatePolicy(maskPolicy, input);
    assert.deepStrictEqual(fast, evaluatePolicyReference(maskPolicy, input));
    return fast;
  };
  const exec = (namespace: string) => k8s({ verb: 'create', resource: 'pods', subresource: 'exec', namespace, name: 'web-1' });

  it('an agent in prod gets pii; a person in prod and an agent elsewhere do not', () => {
    const agentProd = both({ request: k8s({ resource: 'pods', namespace: 'prod' }), identity: agent });
    assert.deepEqual(agentProd.rules, ['reads', 'prod-agents-no-pii']);
    assert.deepEqual(agentProd.mask, { secrets: 'mask', detectors: ['pii'] });
    const personProd = both({ request: k8s({ resource: 'pods', namespace: 'prod' }), identity: sre });
    assert.deepEqual(personProd.rules, ['reads']);
    assert.equal(personProd.mask, undefined, 'no rule added anything: the defaults apply');
    assert.equal(both({ request: k8s({ resource: 'pods', namespace: 'web' }), identity: agent }).mask, undefined);
  });

  it('every matching allow rule adds its detectors, not only the first: a sorted union without duplicates', () => {
    const d = both({ request: { ...exec('prod'), name: 'a-pod-with-a-rather-long-name' }, identity: agent });
    assert.equal(d.effect, 'allow');
    assert.deepEqual(d.rules, ['prod-agents-no-pii', 'shells-mask-keys', 'long-names']);
    assert.deepEqual(d.mask, { secrets: 'mask', detectors: ['jwt', 'pii', 'private-key', 'secretlint'] });
  });

  it('an allow rule that fails to evaluate adds nothing', () => {
    const d = both({ request: k8s({ resource: 'pods', namespace: 'web' }), identity: sre });
    assert.deepEqual(d.errors?.map((e) => e.rule), ['broken-allow']);
    assert.equal(d.mask, undefined);
  });

  it('a deny or review decision carries no mask, whatever allow rules matched', () => {
    const denied = both({ request: exec('kube-system'), identity: agent });
    assert.equal(denied.effect, 'deny');
    assert.equal(denied.mask, undefined);
    const held = both({ request: k8s({ verb: 'create', resource: 'pods', namespace: 'staging' }), identity: agent });
    assert.equal(held.effect, 'review');
    assert.equal(held.mask, undefined);
  });

  it('unmask and mask combine: clear Secret values, and PII masked on streams', () => {
    const d = both({ request: k8s({ resource: 'secrets', namespace: 'web', name: 'db' }), identity: { ...sre, groups: ['breakglass'] } });
    assert.deepEqual(d.mask, { secrets: 'clear', detectors: ['pii'] });
  });

  it('a policy default allow adds nothing', () => {
    const p = compilePolicy('default: allow\nrules:\n  - name: x\n    match: "false"\n    effect: allow\n    mask: [pii]\n');
    const d = evaluatePolicy(p, { request: k8s({}), identity: agent });
    assert.equal(d.defaulted, true);
    assert.equal(d.mask, undefined);
  });
});
