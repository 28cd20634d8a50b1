/**
 * The policy engine's public surface: compile a policy file once, then decide requests with
 * a pure, synchronous function. Nothing here imports a protocol; adapters build the
 * protocol-neutral `PolicyRequest` (see docs/policy.md).
 */
export { compilePolicy, type CompileOptions } from './compile.js';
export type { CompiledPolicy, CompiledRule } from './compiled-policy.js';
export { evaluatePolicy, evaluatePolicyReference, type PolicyIdentity, type PolicyInput } from './evaluate.js';
export { formatDecision } from './format-decision.js';
export { loadPolicyFile } from './load-policy-file.js';
export { defaultPolicySource } from './default-policy.js';
export type { Decision, Effect, MaskPlan } from './decision.js';
export type { PolicyRequest, Protocol } from './request.js';
