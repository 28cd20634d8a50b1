/**
 * The fast path (rule index, closures, early exit) must never change a Decision. These
 * properties generate policies from a grammar that mixes indexable guards, closure-friendly
 * expressions, expressions only cel-js can run, and expressions that error, and requests
 * whose fields are absent, mistyped or unusual, then hold the fast evaluator to the plain
 * per-rule cel-js evaluation.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { compilePolicy } from './compile.js';
import { compileClosure } from './closure-compiler.js';
import { compileCel } from './cel-environment.js';
import { BAIL, isPlainMap } from './cel-values.js';
import { evaluatePolicy, evaluatePolicyReference, type PolicyInput } from './evaluate.js';

const fields = ['protocol', 'verb', 'resource', 'namespace', 'name', 'database', 'subresource', 'nosuch', 'constructor'];
const words = ['kubernetes', 'postgres', 'get', 'delete', 'create', 'ddl', 'select', 'pods', 'secrets', 'kube-system', 'prod', 'exec', 'a', ''];
const groups = ['sre', 'agents', 'dba', 'break-glass'];

const word = fc.constantFrom(...words);
const field = fc.constantFrom(...fields);
const str = word.map((w) => JSON.stringify(w));

/** Atoms: the building blocks of generated rules. */
const atom: fc.Arbitrary<string> = fc.oneof(
  // guards the index understands
  fc.tuple(field, str).map(([f, s]) => `request.${f} == ${s}`),
  fc.tuple(field, str).map(([f, s]) => `${s} == request.${f}`),
  fc.tuple(field, fc.uniqueArray(str, { maxLength: 3 })).map(([f, l]) => `request.${f} in [${l.join(', ')}]`),
  // closure-friendly
  field.map((f) => `has(request.${f})`),
  fc.tuple(field, str).map(([f, s]) => `request.${f} != ${s}`),
  fc.constantFrom(...groups).map((g) => `"${g}" in identity.groups`),
  fc.constantFrom('identity.kind == "agent"', 'identity.subject.startsWith("agent:")', 'has(identity.clientId) && identity.clientId == "ci"'),
  fc.constantFrom('has(object.spec)', 'has(object.spec.hostNetwork)', 'has(object.spec) && has(object.spec.hostNetwork) && object.spec.hostNetwork == true'),
  fc.constantFrom(
    'object.spec.containers.exists(c, has(c.securityContext) && has(c.securityContext.privileged) && c.securityContext.privileged == true)',
    'has(object.spec) && has(object.spec.containers) && object.spec.containers.all(c, c.name.startsWith("a"))',
    'object.spec.containers.exists(request, request.name == "a")',
    'object.spec.containers.exists(c, c.ports.exists(p, p == "80"))',
    '"sh" in request.command',
    'request.command.exists(a, a.endsWith("sh"))',
    'request.tty == true',
    'request.name.contains("a") ? request.verb == "get" : false',
    'request["verb"] == "get"',
    'object.metadata["name"] == "a"',
    'request.tables.all(t, t != "payments")',
    'request.name == request.verb',
    'request.tables != request.command',
    'request.name in request.tables',
  ),
  // only cel-js can run these (numbers, functions outside the subset), or they may error
  fc.constantFrom(
    'size(request.name) > 1',
    'request.name.matches("^a")',
    'object.spec.replicas > 2',
    'object.spec.replicas == 3',
    'request.name.size() == 1',
    'request.verb == 1',
    'request.tables.filter(t, t == "a").size() > 0',
    'request.verb',
    'identity.groups.exists_one(g, g == "sre")',
    'request.name.lowerAscii() == "a"',
  ),
);

const expr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    atom,
    fc.tuple(tie('e'), tie('e')).map(([a, b]) => `(${a}) && (${b})`),
    fc.tuple(tie('e'), tie('e')).map(([a, b]) => `(${a}) || (${b})`),
    tie('e').map((a) => `!(${a})`),
  ),
})).e;

/** A rule: usually guards first (as people write them), then a body. */
const ruleMatch = fc
  .tuple(fc.array(atom, { maxLength: 3 }), expr)
  .map(([guards, body]) => [...guards, `(${body})`].join(' && '));

/** Allow rules may add stream detectors (`mask`) and grant clear Secret values (`unmask`). */
const detectorNames = ['secretlint', 'jwt', 'private-key', 'pii'];
const allowMasking = fc.record({ mask: fc.subarray(detectorNames), unmask: fc.boolean() });

/** Rule source text; allow rules may carry masking. */
function policyText(def: string, rules: [string, string, string[], number, { mask: string[]; unmask: boolean }][]): string {
  const lines = [`default: ${def}`, 'rules:'];
  rules.forEach(([match, effect, approvers, approvals, masking], i) => {
    lines.push(`  - name: rule-${i}`, `    match: ${JSON.stringify(match)}`, `    effect: ${effect}`, `    message: rule ${i}`);
    if (effect === 'review') {
      if (approvers.length > 0) lines.push(`    approvers: ${JSON.stringify(approvers)}`);
      lines.push(`    approvals: ${approvals}`);
    }
    if (effect === 'allow') {
      if (masking.mask.length > 0) lines.push(`    mask: ${JSON.stringify(masking.mask)}`);
      if (masking.unmask) lines.push('    unmask: [secrets]');
    }
  });
  return lines.join('\n') + '\n';
}

const policySource = fc
  .tuple(
    fc.constantFrom('allow', 'deny'),
    fc.array(
      fc.tuple(ruleMatch, fc.constantFrom('allow', 'deny', 'review'), fc.subarray(groups.map((g) => `group:${g}`)), fc.integer({ min: 1, max: 3 }), allowMasking),
      { maxLength: 12 },
    ),
  )
  .map(([def, rules]) => policyText(def, rules));

/**
 * Policies in which several allow rules often match the same request (conditions that are
 * often true, mostly allow rules), so that the union of their masking is exercised.
 */
const oftenTrue = fc.constantFrom(
  'true',
  'identity.kind == "agent"',
  'request.verb == "get"',
  'has(request.verb)',
  '"sre" in identity.groups',
  'request.verb in ["get", "delete", "create"]',
  'has(request.name) || identity.subject.startsWith("agent:")',
  'size(identity.groups) >= 0',
);
const overlappingAllowSource = fc
  .tuple(
    fc.constantFrom('allow', 'deny'),
    fc.array(
      fc.tuple(
        fc.oneof({ weight: 3, arbitrary: oftenTrue }, { weight: 1, arbitrary: ruleMatch }),
        fc.constantFrom('allow', 'allow', 'allow', 'allow', 'allow', 'allow', 'deny', 'review'),
        fc.constant<string[]>([]),
        fc.constant(1),
        allowMasking,
      ),
      { maxLength: 10 },
    ),
  )
  .map(([def, rules]) => policyText(def, rules));

/** Values a request field may hold: mostly strings from the pool, sometimes anything. */
const fieldValue = fc.oneof(
  { weight: 6, arbitrary: word },
  { weight: 1, arbitrary: fc.string({ maxLength: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(1, 2.5, true, null, [], ['a', 'sh'], ['a', 1], [1, 'a'], [['a']], {}, { a: 'b' }) },
);

const request = fc
  .tuple(
    fc.dictionary(fc.constantFrom(...fields, 'command', 'tables', 'tty'), fieldValue, { maxKeys: 9 }),
    fc.constantFrom(0, 0, 0, 0, 1, 2),
  )
  .map(([fs, odd]) => {
    const r: Record<string, unknown> = { ...fs };
    if (odd === 1) return Object.assign(Object.create(null) as object, r);
    if (odd === 2) return new Map(Object.entries(r));
    return r;
  });

const container = fc.oneof(
  fc.record(
    {
      name: fc.constantFrom('a', 'b', 'abc'),
      securityContext: fc.oneof(fc.record({ privileged: fc.constantFrom<unknown>(true, false, 'true', null) }, { requiredKeys: [] }), fc.constant('x')),
      ports: fc.oneof(fc.constant(['80', '443']), fc.constant([80]), fc.constant([])),
    },
    { requiredKeys: [] },
  ),
  fc.constantFrom<unknown>('not-a-container', null, 3),
);

const object = fc.oneof(
  fc.constant(undefined),
  fc.constant({}),
  fc.record(
    {
      metadata: fc.record({ name: fc.constantFrom<unknown>('a', 'b', 1) }, { requiredKeys: [] }),
      spec: fc.oneof(
        fc.record(
          {
            hostNetwork: fc.constantFrom<unknown>(true, false, 'yes'),
            replicas: fc.constantFrom<unknown>(1, 3, 3n, '3'),
            containers: fc.oneof(fc.array(container, { maxLength: 3 }), fc.constant('none')),
          },
          { requiredKeys: [] },
        ),
        fc.constant('scalar-spec'),
      ),
    },
    { requiredKeys: [] },
  ),
);

const identity = fc.record({
  subject: fc.constantFrom('agent:bot', 'alice'),
  groups: fc.oneof(fc.subarray(groups), fc.constantFrom<unknown>(['sre', 7], [7, 'sre'], [null])),
  issuer: fc.constant('https://idp'),
  kind: fc.constantFrom('agent', 'human'),
  tokenId: fc.constant('t'),
  via: fc.constant('builtin'),
  clientId: fc.option(fc.constantFrom('ci', 'other'), { nil: undefined }),
});

const input = fc.record({ request, identity, object }).map((i) => i as unknown as PolicyInput);

describe('the fast path decides exactly like plain cel-js evaluation', () => {
  it('identical Decisions on random requests for generated policies', () => {
    fc.assert(
      fc.property(policySource, fc.array(input, { minLength: 1, maxLength: 25 }), (source, inputs) => {
        const policy = compilePolicy(source);
        for (const i of inputs) assert.deepStrictEqual(evaluatePolicy(policy, i), evaluatePolicyReference(policy, i));
      }),
      { numRuns: 400 },
    );
  });

  it('an allow decision masks with the union over every allow rule that matches, not the first hit', () => {
    fc.assert(
      fc.property(overlappingAllowSource, fc.array(input, { minLength: 1, maxLength: 25 }), (source, inputs) => {
        const policy = compilePolicy(source);
        const byName = new Map(policy.rules.map((r) => [r.name, r]));
        for (const i of inputs) {
          const d = evaluatePolicy(policy, i);
          assert.deepStrictEqual(d, evaluatePolicyReference(policy, i));
          // Which rules match comes from the plain evaluation of every rule.
          const reference = evaluatePolicyReference(policy, i);
          const matched = reference.effect === 'allow' ? reference.rules.map((n) => byName.get(n)!) : [];
          const detectors = [...new Set(matched.flatMap((r) => r.mask))].sort();
          const clear = matched.some((r) => r.unmask.includes('secrets'));
          const expected = detectors.length > 0 || clear ? { secrets: clear ? 'clear' : 'mask', ...(detectors.length > 0 ? { detectors } : {}) } : undefined;
          assert.deepStrictEqual(d.mask, expected);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('a closure that answers gives the value cel-js gives, without cel-js erroring', () => {
    fc.assert(
      fc.property(ruleMatch, input, (match, i) => {
        const compiled = compileCel(match);
        if ('offset' in compiled) return;
        const closure = compileClosure(compiled.ast);
        if (!closure) return;
        const ctx = { request: i.request as unknown, identity: { ...i.identity }, object: i.object ?? {} };
        // The evaluator hands closures only plain-map requests and objects.
        if (!isPlainMap(ctx.request) || !isPlainMap(ctx.object)) return;
        const vars: unknown[] = [ctx.request, ctx.identity, ctx.object];
        const fast = closure.run(vars);
        if (fast === BAIL) return;
        let reference: unknown;
        try {
          reference = compiled.program(ctx);
        } catch (err) {
          reference = err;
        }
        if (fast !== reference) assert.fail(`${match} on ${inspect(ctx, { depth: 6 })}: fast ${String(fast)}, cel-js ${inspect(reference)}`);
      }),
      { numRuns: 3000 },
    );
  });

  it('the generated grammar exercises the closures (most rules get one)', () => {
    const samples = fc.sample(ruleMatch, { numRuns: 300, seed: 42 });
    const withClosure = samples.filter((m) => {
      const c = compileCel(m);
      return !('offset' in c) && compileClosure(c.ast) !== undefined;
    });
    assert.ok(withClosure.length > samples.length / 3, `${withClosure.length} of ${samples.length}`);
  });
});
