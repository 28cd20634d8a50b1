/**
 * evaluatePolicy: one request in, one Decision out. Pure and synchronous: no I/O, no clock,
 * no randomness; the same policy and input always give the same Decision, which is what lets
 * a draft policy be replayed over recorded traffic.
 *
 * Speed without new semantics: the rule index skips rules whose guards exclude the request,
 * deny rules run first and a deny match ends evaluation, and rules within the closure
 * compiler's subset run as closures. Anything the fast path is unsure about is evaluated by
 * cel-js itself. `evaluatePolicyReference` evaluates every rule through cel-js with none of
 * this, and the property test holds the two to identical Decisions.
 */
import type { Identity } from '../identity/identity.js';
import { describeEvalError, describeNonBoolean } from './cel-environment.js';
import { isPlainMap } from './cel-values.js';
import { engineKey, type CompiledPolicy, type CompiledRule, type RuleProgram } from './compiled-policy.js';
import { decideDefault, decideMatched, type PhaseResult, type RuleError } from './decide.js';
import type { Decision, Effect } from './decision.js';
import type { PolicyRequest } from './request.js';
import { EXCLUDED, PROVEN } from './guards.js';
import { checkResidual, type Candidate } from './rule-index.js';

/** The identity as policy sees it: an `Identity`, or a recorded one (replay), without expiry. */
export type PolicyIdentity = Pick<Identity, 'subject' | 'groups' | 'issuer' | 'kind' | 'tokenId' | 'via'> & {
  clientId?: string;
};

/** What a decision is made about. */
export interface PolicyInput {
  request: PolicyRequest;
  identity: PolicyIdentity;
  /** The object the request carries (a Kubernetes body); absent or null means an empty map. */
  object?: unknown;
}

/** The CEL variables, exactly as every rule sees them. */
interface CelContext {
  request: unknown;
  identity: Record<string, unknown>;
  object: unknown;
}

const emptyObject: Readonly<Record<string, never>> = Object.freeze({});

/** identityMap copies an identity down to the fields rules see (`identityFields`). */
function identityMap(raw: unknown): Record<string, unknown> {
  // Tolerate a missing identity at run time (a hand-written replay input): rules then see
  // absent fields and fail closed, rather than the evaluator throwing.
  const id = (raw ?? {}) as Partial<PolicyIdentity>;
  const identity: Record<string, unknown> = {
    subject: id.subject,
    groups: id.groups,
    issuer: id.issuer,
    kind: id.kind,
    tokenId: id.tokenId,
    via: id.via,
  };
  if (id.clientId !== undefined) identity.clientId = id.clientId;
  return identity;
}

/** celContext builds the variables for cel-js. */
function celContext(input: PolicyInput): CelContext {
  return { request: input.request, identity: identityMap(input.identity), object: input.object ?? emptyObject };
}

/** celOutcome runs a rule through cel-js: true, false, or the description of its failure. */
function celOutcome(p: RuleProgram, ctx: CelContext): boolean | string {
  try {
    const v: unknown = p.program(ctx as unknown as Record<string, unknown>);
    return typeof v === 'boolean' ? v : describeNonBoolean(v);
  } catch (err) {
    return describeEvalError(err, p.rule.match);
  }
}

/**
 * The fast path's per-decision state: the variable slots closures read (request, the
 * caller's identity object, object, then comprehension variables) and, built only if some
 * rule falls back to cel-js, the cel-js context.
 */
interface Scratch {
  input: PolicyInput;
  vars: unknown[];
  ctx: CelContext | undefined;
  /** Rules matched in the current precedence level. */
  hits: CompiledRule[];
  /** Failures, allocated on the first one (a level with failures of deny/review rules wins). */
  errors: RuleError[] | undefined;
}

/**
 * evaluatePolicy decides one request. It does not throw for bad data in the request, the
 * identity or the object: a rule that fails to evaluate is recorded in `Decision.errors` and
 * fails closed.
 *
 * @example
 * const d = evaluatePolicy(policy, {
 *   request: { protocol: 'kubernetes', connection: 'prod', verb: 'delete', resource: 'namespaces', name: 'kube-system' },
 *   identity: { subject: 'agent:deploy-bot', groups: ['agents'], issuer: 'https://idp', kind: 'agent', tokenId: 't1', via: 'builtin' },
 * });
 * // d.effect === 'deny', d.rules === ['protect-system-namespaces']
 */
export function evaluatePolicy(policy: CompiledPolicy, input: PolicyInput): Decision {
  const request = input.request;
  const object = input.object ?? emptyObject;
  // The index and closures read `request` and `object` as plain maps; anything else
  // (a Map, a class instance) is rare enough to leave entirely to cel-js.
  if (!isPlainMap(request) || (object !== emptyObject && !isPlainMap(object))) {
    return referenceDecision(policy, celContext(input));
  }
  const engine = policy[engineKey];
  const candidates = engine.index.candidates(request);
  const vars = new Array<unknown>(engine.slots);
  vars[0] = request;
  vars[1] = input.identity ?? emptyObject;
  vars[2] = object;
  const scratch: Scratch = { input, vars, ctx: undefined, hits: [], errors: undefined };

  if (runPhase(candidates.deny, request, scratch, true)) return decideMatched('deny', scratch.hits, scratch.errors);
  if (runPhase(candidates.review, request, scratch, true)) return decideMatched('review', scratch.hits, scratch.errors);
  if (runPhase(candidates.allow, request, scratch, false)) return decideMatched('allow', scratch.hits, scratch.errors);
  return decideDefault(policy, scratch.errors);
}

/**
 * runPhase evaluates one precedence level's candidates into `scratch.hits` (and failures into
 * `scratch.errors`); it reports whether any rule matched.
 */
function runPhase(
  list: readonly Candidate<RuleProgram>[],
  request: Record<string, unknown>,
  scratch: Scratch,
  failClosed: boolean,
): boolean {
  for (let i = 0; i < list.length; i++) {
    const c = list[i] as Candidate<RuleProgram>;
    const p = c.rule;
    let fast = c.run;
    if (fast === undefined && c.residual.length > 0) {
      const r = checkResidual(c.residual, request);
      if (r === EXCLUDED) continue;
      // With every guard proven, only the rule's body is left to evaluate.
      fast = c.proven && r === PROVEN ? p.body : p.fast;
    }
    let outcome: boolean | string | undefined;
    if (fast) {
      let v: unknown;
      try {
        v = fast(scratch.vars);
      } catch {
        v = undefined; // a throwing getter in the input, say: cel-js decides and reports it
      }
      if (v === true || v === false) outcome = v;
    }
    if (outcome === undefined) outcome = celOutcome(p, (scratch.ctx ??= celContext(scratch.input)));
    if (outcome === false) continue;
    if (outcome === true) {
      scratch.hits.push(p.rule);
    } else {
      (scratch.errors ??= []).push({ rule: p.rule.name, error: outcome });
      if (failClosed) scratch.hits.push(p.rule);
    }
  }
  return scratch.hits.length > 0;
}

/**
 * evaluatePolicyReference decides like evaluatePolicy but plainly: every rule through
 * cel-js, no index, no closures, no early exit. It is the specification the fast path is
 * tested against, and the baseline of the benchmark.
 */
export function evaluatePolicyReference(policy: CompiledPolicy, input: PolicyInput): Decision {
  return referenceDecision(policy, celContext(input));
}

function referenceDecision(policy: CompiledPolicy, ctx: CelContext): Decision {
  const phases: Record<Effect, PhaseResult> = {
    deny: { hits: [], errors: [] },
    review: { hits: [], errors: [] },
    allow: { hits: [], errors: [] },
  };
  for (const p of policy[engineKey].programs) {
    const outcome = celOutcome(p, ctx);
    const phase = phases[p.effect];
    if (outcome === true) phase.hits.push(p.rule);
    else if (typeof outcome === 'string') {
      phase.errors.push({ rule: p.rule.name, error: outcome } satisfies RuleError);
      if (p.effect !== 'allow') phase.hits.push(p.rule);
    }
  }
  for (const effect of ['deny', 'review', 'allow'] as const) {
    const { hits, errors } = phases[effect];
    if (hits.length > 0) return decideMatched(effect, hits, errors);
  }
  return decideDefault(policy, phases.allow.errors);
}
