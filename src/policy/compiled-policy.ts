/**
 * The compiled form of a policy: what `compilePolicy` returns and `evaluatePolicy` reads.
 * Public fields describe the policy (for `airlock policy`, the ledger's policy history and
 * the admin API); the evaluation machinery hangs off a symbol so it stays out of JSON and
 * out of the public contract.
 */
import type { ParseResult } from '@marcbachmann/cel-js';
import type { Effect } from './decision.js';
import type { Closure } from './closure-compiler.js';
import type { Guard } from './guards.js';
import type { RuleIndex } from './rule-index.js';

/** A rule after compilation, as a reader of the policy sees it. */
export interface CompiledRule {
  readonly name: string;
  readonly effect: Effect;
  /** The CEL expression as written. */
  readonly match: string;
  /** What the caller is told when this rule decides; allow rules get a default. */
  readonly message: string;
  /** Review rules: who may approve (`group:NAME`, `user:SUBJECT`); empty means the gateway's default approvers. */
  readonly approvers: readonly string[];
  /** Review rules: how many distinct approvals are needed. */
  readonly approvals: number;
  /** Review rules: an approval covers what this rule matches (same connection and namespace) for this long. */
  readonly window?: { readonly ms: number; readonly text: string };
  /** Allow rules: what a caller this rule allows may see unmasked (`secrets`). */
  readonly unmask: readonly string[];
  /**
   * Allow rules: stream detectors (`pii`, …) added to the gateway's defaults for the callers
   * this rule allows, deduplicated; empty when the rule adds none.
   */
  readonly mask: readonly string[];
  /** Line of the rule in the policy file. */
  readonly line: number;
}

/** The internal, per-rule evaluation plan. */
export interface RuleProgram {
  readonly rule: CompiledRule;
  readonly effect: Effect;
  readonly guards: readonly Guard[];
  /** The type-checked cel-js program: the reference semantics, and the fallback. */
  readonly program: ParseResult;
  /** The fast closure of the whole expression, when it is within the closure compiler's subset. */
  readonly fast?: Closure;
  /** The fast closure of the expression without its guards, for when every guard is known to hold. */
  readonly body?: Closure;
}

/** The internal evaluation machinery of a compiled policy. */
export interface PolicyEngine {
  readonly programs: readonly RuleProgram[];
  readonly index: RuleIndex<RuleProgram>;
  /** Variable slots the fast closures need (3 roots plus comprehension variables). */
  readonly slots: number;
}

/** Where a compiled policy keeps its engine. */
export const engineKey: unique symbol = Symbol('airlock.policy.engine');

/** CompiledPolicy is a validated, compiled policy file; immutable and safe to share. */
export interface CompiledPolicy {
  /** Effect when no rule matches. */
  readonly default: 'allow' | 'deny';
  readonly rules: readonly CompiledRule[];
  /**
   * SHA-256 (lowercase hex) of the RFC 8785 canonical JSON of the policy document: comments
   * and formatting do not change it, any change of meaning does.
   */
  readonly policyHash: string;
  /** The policy source as given (for the ledger's policy history). */
  readonly source: string;
  /** The file it came from, when known (used in messages). */
  readonly file?: string;
  /**
   * What compiles but likely does not mean what it says (see policy-warnings.ts), as
   * `FILE:LINE: rule "NAME": …`; shown at start, reload and by the policy commands.
   */
  readonly warnings: readonly string[];
  readonly [engineKey]: PolicyEngine;
}
