/**
 * What every part of the closure compiler shares: the closure type, the compile-time scope
 * (variable slots), and the small helpers that restate how cel-js reads a value.
 *
 * Variable slots: 0 `request`, 1 the caller's identity object, 2 `object`, then one slot
 * per comprehension variable. The evaluator fills the first three before any closure runs,
 * having checked that `request` and `object` are plain maps.
 *
 * Invariant: every object a closure returns or stores in a variable slot has passed
 * `isCelValue` (or is the request or object), so a later step only needs `isMapValue` to
 * tell a map from a list, not the full check again.
 */
import { BAIL, isCelValue } from './cel-values.js';
import { identityFields, policyVariables } from './cel-environment.js';

/** A compiled closure reads variables from `vars` (slots) and returns a CEL value or BAIL. */
export type Closure = (vars: unknown[]) => unknown;

/** A cel-js AST node, as far as the compiler looks at it. */
export interface Node {
  op: string;
  args: unknown;
  meta?: { macro?: unknown; alternate?: unknown };
}

/** The compile-time scope: which slot each visible name reads. */
export interface Scope {
  names: ReadonlyMap<string, number>;
  next: number;
  /** Highest slot index used anywhere, shared across the compile. */
  used: { max: number };
}

/** Build compiles one node in a scope, or returns undefined outside the subset. */
export type Build = (n: Node, scope: Scope) => Closure | undefined;

export const hasOwn = Object.hasOwn;

/** rootScope is the scope of a whole expression: only the three variables. */
export function rootScope(): Scope {
  const names = new Map<string, number>(policyVariables.map((name, i) => [name, i]));
  return { names, next: policyVariables.length, used: { max: policyVariables.length } };
}

export const requestSlot = policyVariables.indexOf('request');
export const identitySlot = policyVariables.indexOf('identity');
export const objectSlot = policyVariables.indexOf('object');

/** The root variable slot `n` names (not shadowed by a comprehension variable), if any. */
export function rootSlot(n: Node, scope: Scope): number | undefined {
  if (n.op !== 'id' || typeof n.args !== 'string') return undefined;
  const slot = scope.names.get(n.args);
  return slot !== undefined && slot < policyVariables.length ? slot : undefined;
}

/**
 * identityField reads `identity.key` from the caller's identity object in the identity
 * slot, answering as the identity map rules see would: only the documented fields exist, and
 * an undefined one is absent. This spares building that map for every decision.
 */
export function identityField(raw: unknown, key: string): unknown {
  return identityFields.has(key) ? (raw as Record<string, unknown>)[key] : undefined;
}

/** isMapValue tells a CEL map from the other values a closure can hold (see the invariant in the module comment). */
export function isMapValue(o: unknown): o is Record<string, unknown> {
  return typeof o === 'object' && o !== null && !Array.isArray(o);
}

/** A field read's result as cel-js would give it: the value when defined and CEL-typed, else BAIL. */
export function celField(x: unknown): unknown {
  return x !== undefined && isCelValue(x) ? x : BAIL;
}
