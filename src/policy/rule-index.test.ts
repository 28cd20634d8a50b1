import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileCel } from './cel-environment.js';
import { extractGuards } from './guards.js';
import { RuleIndex, residualExcludes } from './rule-index.js';
import type { Effect } from './decision.js';

function rule(name: string, effect: Effect, match: string) {
  const c = compileCel(match);
  if ('offset' in c) throw new Error(c.message);
  return { name, effect, guards: extractGuards(c.ast) };
}

const rules = [
  rule('k8s-delete', 'deny', 'request.protocol == "kubernetes" && request.verb == "delete"'),
  rule('pods-write', 'review', 'request.verb in ["create", "update"] && "pods" == request.resource'),
  rule('sql-ddl', 'review', 'request.protocol == "postgres" && request.verb == "ddl"'),
  rule('ns-guard', 'deny', 'request.namespace == "kube-system" && request.verb == "delete" && request.protocol == "kubernetes"'),
  rule('no-guard', 'allow', '"sre" in identity.groups || request.verb == "get"'),
  rule('nested-or', 'allow', '(request.verb == "get" || request.verb == "list") && true'),
  rule('contradiction', 'deny', 'request.verb == "get" && request.verb == "list"'),
  rule('shell', 'review', 'has(request.subresource) && request.subresource in ["exec", "attach"] && request.verb == "create"'),
  rule('any-name', 'allow', 'has(request.name) && request.verb == "delete"'),
];

describe('guards', () => {
  const cases: { title: string; match: string; guards: [string, string[] | 'any', boolean][] }[] = [
    { title: 'equality either way round and list membership are guards', match: 'request.verb == "a" && "b" == request.resource && request.protocol in ["x", "y"]', guards: [['verb', ['a'], false], ['resource', ['b'], false], ['protocol', ['x', 'y'], false]] },
    { title: 'two guards on one field intersect', match: 'request.verb in ["a", "b"] && request.verb in ["b", "c"]', guards: [['verb', ['b'], false]] },
    { title: 'a disjunction is not a guard', match: 'request.verb == "a" || request.verb == "b"', guards: [] },
    { title: 'a negation is not a guard', match: '!(request.verb == "a")', guards: [] },
    { title: 'inequality is not a guard', match: 'request.verb != "a"', guards: [] },
    { title: 'a field of another variable is not a guard', match: 'identity.kind == "agent" && object.kind == "Pod"', guards: [] },
    { title: 'an inherited member name is never a guard', match: 'request.constructor == "x" && request.toString == "y"', guards: [] },
    { title: 'membership in a non-literal list is not a guard', match: 'request.verb in request.tables', guards: [] },
    { title: 'guards deep in a conjunction chain are found', match: '(has(request.name) && request.name == "n") && (true && request.verb == "v")', guards: [['name', ['n'], true], ['verb', ['v'], false]] },
    { title: 'has(request.F) alone is a presence guard', match: 'has(request.subresource) && identity.kind == "agent"', guards: [['subresource', 'any', true]] },
    { title: 'has() deeper than one level is not a guard', match: 'has(object.spec) && has(request.a.b)', guards: [] },
  ];
  for (const c of cases) {
    it(c.title, () => {
      const compiled = compileCel(c.match);
      if ('offset' in compiled) assert.fail(compiled.message);
      assert.deepEqual(extractGuards(compiled.ast).map((g) => [g.field, g.values ? [...g.values] : 'any', g.present]), c.guards);
    });
  }
});

describe('RuleIndex', () => {
  const index = new RuleIndex(rules);
  // Candidates come grouped by effect (deny, review, allow), each group in policy order.
  const names = (request: Record<string, unknown>) => {
    const c = index.candidates(request);
    return [...c.deny, ...c.review, ...c.allow].filter((x) => !residualExcludes(x.residual, request)).map((x) => x.rule.name);
  };

  it('indexes the most used guard fields', () => {
    assert.deepEqual(index.indexedFields, ['verb', 'protocol', 'name', 'namespace', 'resource']);
  });

  it('a candidate is proven when the buckets settle all its guards', () => {
    const c = index.candidates({ protocol: 'kubernetes', verb: 'delete', name: 'x', namespace: 'kube-system' });
    assert.deepEqual(c.deny.map((x) => [x.rule.name, x.proven]), [['k8s-delete', true], ['ns-guard', true]]);
    assert.deepEqual(c.allow.map((x) => [x.rule.name, x.proven]), [['no-guard', true], ['nested-or', true], ['any-name', true]]);
    const unsure = index.candidates({ protocol: 'kubernetes', name: 'x' });
    assert.deepEqual(unsure.deny.map((x) => [x.rule.name, x.proven]), [['k8s-delete', false], ['ns-guard', false], ['contradiction', false]]);
  });

  const cases: { title: string; request: Record<string, unknown>; expect: string[] }[] = [
    { title: 'a Kubernetes delete meets the delete rules and the unguarded ones', request: { protocol: 'kubernetes', verb: 'delete', namespace: 'kube-system' }, expect: ['k8s-delete', 'ns-guard', 'no-guard', 'nested-or'] },
    { title: 'another namespace drops the namespace rule', request: { protocol: 'kubernetes', verb: 'delete', namespace: 'web' }, expect: ['k8s-delete', 'no-guard', 'nested-or'] },
    { title: 'a present field satisfies a has() guard', request: { protocol: 'kubernetes', verb: 'delete', namespace: 'web', name: 'x' }, expect: ['k8s-delete', 'no-guard', 'nested-or', 'any-name'] },
    { title: 'an absent field rules out a has() guard', request: { protocol: 'kubernetes', verb: 'create', resource: 'pods' }, expect: ['pods-write', 'no-guard', 'nested-or'] },
    { title: 'a listed subresource keeps the has() rule', request: { protocol: 'kubernetes', verb: 'create', resource: 'pods', subresource: 'exec' }, expect: ['pods-write', 'shell', 'no-guard', 'nested-or'] },
    { title: 'a residual guard (resource) is checked per rule', request: { protocol: 'kubernetes', verb: 'create', resource: 'configmaps' }, expect: ['no-guard', 'nested-or'] },
    { title: 'a matching residual guard keeps the rule', request: { protocol: 'kubernetes', verb: 'create', resource: 'pods' }, expect: ['pods-write', 'no-guard', 'nested-or'] },
    { title: 'a SQL DDL request meets only its rule and the unguarded ones', request: { protocol: 'postgres', verb: 'ddl' }, expect: ['sql-ddl', 'no-guard', 'nested-or'] },
    { title: 'an absent field keeps every rule guarded on it (it must be evaluated)', request: { protocol: 'kubernetes' }, expect: ['k8s-delete', 'ns-guard', 'contradiction', 'pods-write', 'no-guard', 'nested-or'] },
    { title: 'an absent field still rules out a has() guard on it', request: { protocol: 'kubernetes', subresource: 'exec' }, expect: ['k8s-delete', 'ns-guard', 'contradiction', 'pods-write', 'shell', 'no-guard', 'nested-or'] },
    { title: 'a non-string field proves nothing either', request: { protocol: 'kubernetes', verb: 7 }, expect: ['k8s-delete', 'ns-guard', 'contradiction', 'pods-write', 'no-guard', 'nested-or'] },
    { title: 'a present non-string field may satisfy has(): the rule stays', request: { protocol: 'kubernetes', verb: 'delete', name: 7 }, expect: ['k8s-delete', 'ns-guard', 'no-guard', 'nested-or', 'any-name'] },
    { title: 'an unknown verb excludes every rule guarded on verb', request: { protocol: 'kubernetes', verb: 'escalate' }, expect: ['no-guard', 'nested-or'] },
    { title: 'contradictory guards never match a string', request: { protocol: 'kubernetes', verb: 'get' }, expect: ['no-guard', 'nested-or'] },
  ];
  for (const c of cases) {
    it(c.title, () => assert.deepEqual(names(c.request), c.expect));
  }

  it('the same combination returns the same candidate lists (memoised)', () => {
    const a = index.candidates({ protocol: 'kubernetes', verb: 'delete' });
    const b = index.candidates({ protocol: 'kubernetes', verb: 'delete', database: 'other' });
    assert.equal(a, b);
  });
});
