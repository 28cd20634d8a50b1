import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileCel, identityFields } from './cel-environment.js';
import { BAIL } from './cel-values.js';
import { compileClosure, compileConjunction } from './closure-compiler.js';
import { splitGuards } from './guards.js';

function compile(expression: string) {
  const c = compileCel(expression);
  if ('offset' in c) assert.fail(c.message);
  return c;
}

/**
 * run evaluates an expression's closure the way the evaluator does (slots: request, the
 * caller's identity, object) and, when the closure answers, checks cel-js agrees.
 */
function run(expression: string, ctx: { request?: unknown; identity?: Record<string, unknown>; object?: unknown }) {
  const compiled = compile(expression);
  const closure = compileClosure(compiled.ast);
  if (!closure) return 'unsupported';
  const v = closure.run([ctx.request ?? {}, ctx.identity ?? {}, ctx.object ?? {}]);
  if (v === BAIL) return 'bail';
  const seen = Object.fromEntries(Object.entries(ctx.identity ?? {}).filter(([k]) => identityFields.has(k)));
  assert.equal(compiled.program({ request: ctx.request ?? {}, identity: seen, object: ctx.object ?? {} }), v, 'cel-js disagrees');
  return v;
}

const identity = { subject: 'alice', groups: ['sre', 'staff'], issuer: 'i', kind: 'human', tokenId: 't', via: 'corp', expiresAt: 9 };

describe('closures answer exactly, or hand the rule to cel-js', () => {
  const cases: { title: string; expr: string; ctx: Parameters<typeof run>[1]; expect: unknown }[] = [
    { title: 'string equality', expr: 'request.verb == "get"', ctx: { request: { verb: 'get' } }, expect: true },
    { title: 'string inequality', expr: 'request.verb != "get"', ctx: { request: { verb: 'list' } }, expect: true },
    { title: 'an absent field is left to cel-js (it errors there)', expr: 'request.verb == "get"', ctx: { request: {} }, expect: 'bail' },
    { title: 'numbers are left to cel-js (int/double rules)', expr: 'request.n == 1', ctx: { request: { n: 1 } }, expect: 'bail' },
    { title: 'comparing different types is left to cel-js', expr: 'request.verb == true', ctx: { request: { verb: 'get' } }, expect: 'bail' },
    { title: 'membership in a literal list', expr: 'request.verb in ["get", "list"]', ctx: { request: { verb: 'list' } }, expect: true },
    { title: 'membership in a list of the request', expr: '"payments" in request.tables', ctx: { request: { tables: ['orders'] } }, expect: false },
    { title: 'a list with a non-string is left to cel-js', expr: '"a" in request.tables', ctx: { request: { tables: [1, 'a'] } }, expect: 'bail' },
    { title: 'has() on an absent field is false', expr: 'has(request.name)', ctx: { request: {} }, expect: false },
    { title: 'has() through an absent parent is left to cel-js (it errors)', expr: 'has(object.spec.hostPID)', ctx: { object: {} }, expect: 'bail' },
    { title: 'has() on a field of a string is false, as in cel-js', expr: 'has(object.spec.hostPID)', ctx: { object: { spec: 'x' } }, expect: false },
    { title: 'has() on a present field is true', expr: 'has(object.spec.hostPID)', ctx: { object: { spec: { hostPID: false } } }, expect: true },
    { title: 'group membership', expr: '"sre" in identity.groups', ctx: { identity }, expect: true },
    { title: 'identity fields are read from the caller’s identity', expr: 'identity.kind == "human" && identity.via == "corp"', ctx: { identity }, expect: true },
    { title: 'an identity field rules do not see is absent', expr: 'has(identity.expiresAt)', ctx: { identity }, expect: false },
    { title: 'reading an identity field rules do not see is left to cel-js', expr: 'identity.expiresAt == 9', ctx: { identity }, expect: 'bail' },
    { title: 'exists over a list of maps', expr: 'object.spec.containers.exists(c, has(c.securityContext) && c.securityContext.privileged == true)', ctx: { object: { spec: { containers: [{ name: 'a' }, { name: 'b', securityContext: { privileged: true } }] } } }, expect: true },
    { title: 'exists finding nothing, with an unsure element, is left to cel-js', expr: 'object.items.exists(c, c.name == "x")', ctx: { object: { items: [{ name: 'a' }, { other: 1 }] } }, expect: 'bail' },
    { title: 'exists finding one is true even past an unsure element', expr: 'object.items.exists(c, c.name == "x")', ctx: { object: { items: [{ other: 1 }, { name: 'x' }] } }, expect: true },
    { title: 'all is false at the first false', expr: 'object.items.all(c, c.startsWith("a"))', ctx: { object: { items: ['ab', 'b'] } }, expect: false },
    { title: 'a comprehension variable shadows a root variable', expr: 'object.items.exists(request, request == "x")', ctx: { request: { verb: 'get' }, object: { items: ['x'] } }, expect: true },
    { title: '&& is false when one side is false, even if the other is unsure', expr: 'request.missing == "x" && false', ctx: { request: {} }, expect: false },
    { title: '|| is true when one side is true, even if the other is unsure', expr: 'request.missing == "x" || true', ctx: { request: {} }, expect: true },
    { title: '! of an unsure value is unsure', expr: '!(request.missing == "x")', ctx: { request: {} }, expect: 'bail' },
    { title: 'a ternary picks its branch', expr: 'has(request.name) ? request.name == "a" : false', ctx: { request: { name: 'a' } }, expect: true },
    { title: 'an object with an own "constructor" key is left to cel-js', expr: 'has(object.spec.x)', ctx: { object: { spec: { constructor: 'x', x: 1 } } }, expect: 'bail' },
    { title: 'string methods', expr: 'request.name.startsWith("kube-") && request.name.endsWith("system") && request.name.contains("-")', ctx: { request: { name: 'kube-system' } }, expect: true },
    { title: 'indexing a map with a string', expr: 'object.metadata.labels["app"] == "web"', ctx: { object: { metadata: { labels: { app: 'web' } } } }, expect: true },
    { title: 'size() is outside the subset', expr: 'size(request.name) > 1', ctx: {}, expect: 'unsupported' },
    { title: 'regular expressions are outside the subset (RE2 semantics)', expr: 'request.name.matches("^a")', ctx: {}, expect: 'unsupported' },
    { title: 'a bare identity is outside the subset', expr: 'identity == identity', ctx: {}, expect: 'unsupported' },
    { title: 'cel.bind is outside the subset', expr: 'cel.bind(x, request.name, x == "a")', ctx: {}, expect: 'unsupported' },
  ];
  for (const c of cases) {
    it(c.title, () => assert.equal(run(c.expr, c.ctx), c.expect));
  }
});

describe('compileConjunction (a rule body once its guards hold)', () => {
  const body = (expr: string) => {
    const { body: parts } = splitGuards(compile(expr).ast);
    const c = compileConjunction(parts);
    assert.ok(c, `no closure for ${expr}`);
    return (request: unknown) => {
      const v = c.run([request, {}, {}]);
      return v === BAIL ? 'bail' : v;
    };
  };

  it('a rule of guards only has an always-true body', () => {
    assert.equal(body('request.verb == "get" && has(request.name) && request.resource in ["pods"]')({}), true);
  });

  it('the body keeps the non-guard conjuncts', () => {
    const f = body('request.verb == "get" && request.name.startsWith("a") && request.tty == true');
    assert.equal(f({ name: 'ab', tty: true }), true);
    assert.equal(f({ name: 'b', tty: true }), false);
    assert.equal(f({ name: 'ab' }), 'bail');
    assert.equal(f({ name: 'b' }), false, 'false wins over an unsure conjunct');
  });
});
