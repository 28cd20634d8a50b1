/**
 * The closure compiler turns the common subset of a rule's CEL AST into nested JavaScript
 * closures, much cheaper than walking the AST through cel-js on every request.
 *
 * Contract (what makes it safe): a closure returns `true` or `false` only when cel-js would
 * return exactly that value for the same input, without an error. Whenever it cannot be
 * sure — a missing key, an unexpected type, a number, a value cel-js might reject — it
 * returns `BAIL`, and the caller evaluates the rule with cel-js, which then also produces the
 * precise error. Expressions using anything outside the subset get no closure at all.
 * It never builds code from strings: no `eval`, no `new Function`.
 *
 * Subset: string/bool/int literals, the variables and comprehension variables, field
 * selection and string-keyed indexing of maps, `==`/`!=` on strings, bools and ints, `in`
 * on a string and a list, `&&`, `||`, `!`, `?:`, `has()`, `exists()`, `all()`,
 * `startsWith`, `endsWith`, `contains` (macros and methods live in closure-macros.ts).
 */
import type { ASTNode } from '@marcbachmann/cel-js';
import { BAIL, isPlainList } from './cel-values.js';
import { identityFields } from './cel-environment.js';
import { hasMacro, quantifier, stringMethod } from './closure-macros.js';
import {
  celField,
  hasOwn,
  identityField,
  identitySlot,
  isMapValue,
  objectSlot,
  requestSlot,
  rootScope,
  rootSlot,
  type Closure,
  type Node,
  type Scope,
} from './closure-scope.js';
import { StringSet } from './string-set.js';

export type { Closure } from './closure-scope.js';

/** A rule's closure and how many variable slots it needs. */
export interface CompiledClosure {
  run: Closure;
  slots: number;
}

/** compileClosure compiles an expression, or returns undefined when it uses anything outside the subset. */
export function compileClosure(ast: ASTNode): CompiledClosure | undefined {
  const scope = rootScope();
  const run = build(ast as unknown as Node, scope);
  return run ? { run, slots: scope.used.max } : undefined;
}

const alwaysTrue: Closure = () => true;

/**
 * compileConjunction compiles `c1 && c2 && …` from already flattened conjuncts (a rule's
 * body once its guards are known to hold). As for CEL's `&&`: false as soon as one
 * conjunct is false, whatever the others do; true when all are true; otherwise unsure.
 * No conjuncts is `true`.
 */
export function compileConjunction(conjuncts: readonly unknown[]): CompiledClosure | undefined {
  const scope = rootScope();
  const parts: Closure[] = [];
  for (const c of conjuncts) {
    const part = build(c as Node, scope);
    if (!part) return undefined;
    parts.push(part);
  }
  if (parts.length === 0) return { run: alwaysTrue, slots: scope.used.max };
  if (parts.length === 1) return { run: parts[0] as Closure, slots: scope.used.max };
  const run: Closure = (v) => {
    let unsure = false;
    for (let i = 0; i < parts.length; i++) {
      const x = (parts[i] as Closure)(v);
      if (x === false) return false;
      if (x !== true) unsure = true;
    }
    return unsure ? BAIL : true;
  };
  return { run, slots: scope.used.max };
}

function build(n: Node, scope: Scope): Closure | undefined {
  switch (n.op) {
    case 'value':
      return literal(n.args);
    case 'id': {
      const slot = typeof n.args === 'string' ? scope.names.get(n.args) : undefined;
      // `identity` is only ever read through a field (see identityField): its slot holds
      // the caller's identity object, not the map rules see.
      if (slot === undefined || slot === identitySlot) return undefined;
      return (v) => v[slot];
    }
    case '.': {
      const [base, key] = n.args as [Node, unknown];
      return typeof key === 'string' ? select(base, key, scope) : undefined;
    }
    case '[]': {
      const [base, keyNode] = n.args as [Node, Node];
      const key = build(keyNode, scope);
      return key ? select(base, key, scope) : undefined;
    }
    case '==':
    case '!=':
      return equality(n, scope);
    case 'in':
      return membership(n, scope);
    case '&&':
    case '||':
      return logical(n, scope);
    case '!_': {
      const operand = build(n.args as Node, scope);
      if (!operand) return undefined;
      return (v) => {
        const a = operand(v);
        return typeof a === 'boolean' ? !a : BAIL;
      };
    }
    case '?:':
      return ternary(n, scope);
    case 'call':
      return n.meta?.macro ? hasMacro(n, scope, build) : undefined;
    case 'rcall':
      return n.meta?.alternate ? quantifier(n, scope, build) : stringMethod(n, scope, build);
    default:
      return undefined;
  }
}

function literal(value: unknown): Closure | undefined {
  const t = typeof value;
  if (t !== 'string' && t !== 'boolean' && t !== 'bigint') return undefined;
  return () => value;
}

/**
 * select reads `base[key]` as cel-js reads a map field: an own, defined, CEL-typed value.
 * `key` is a string for `base.key` (the common case, specialised) or a closure for `base[k]`.
 */
function select(baseNode: Node, key: string | Closure, scope: Scope): Closure | undefined {
  const slot = rootSlot(baseNode, scope);
  if (slot === identitySlot) {
    if (typeof key === 'string') {
      if (!identityFields.has(key)) return () => BAIL;
      return (v) => celField((v[identitySlot] as Record<string, unknown>)[key]);
    }
    return (v) => {
      const k = key(v);
      return typeof k === 'string' ? celField(identityField(v[identitySlot], k)) : BAIL;
    };
  }
  if (slot === requestSlot || slot === objectSlot) {
    // Checked to be plain maps before any closure runs.
    if (typeof key === 'string') {
      return (v) => {
        const o = v[slot] as Record<string, unknown>;
        return hasOwn(o, key) ? celField(o[key]) : BAIL;
      };
    }
    return (v) => {
      const o = v[slot] as Record<string, unknown>;
      const k = key(v);
      return typeof k === 'string' && hasOwn(o, k) ? celField(o[k]) : BAIL;
    };
  }
  const base = build(baseNode, scope);
  if (!base) return undefined;
  if (typeof key === 'string') {
    return (v) => {
      const o = base(v);
      return isMapValue(o) && hasOwn(o, key) ? celField(o[key]) : BAIL;
    };
  }
  return (v) => {
    const o = base(v);
    if (!isMapValue(o)) return BAIL;
    const k = key(v);
    return typeof k === 'string' && hasOwn(o, k) ? celField(o[k]) : BAIL;
  };
}

function equality(n: Node, scope: Scope): Closure | undefined {
  const [ln, rn] = n.args as [Node, Node];
  const l = build(ln, scope);
  const r = build(rn, scope);
  if (!l || !r) return undefined;
  const negate = n.op === '!=';
  return (v) => {
    const a = l(v);
    const b = r(v);
    const t = typeof a;
    if (t !== typeof b || (t !== 'string' && t !== 'boolean' && t !== 'bigint')) return BAIL;
    return negate ? a !== b : a === b;
  };
}

function membership(n: Node, scope: Scope): Closure | undefined {
  const [ln, rn] = n.args as [Node, Node];
  const l = build(ln, scope);
  if (!l) return undefined;
  const literals = rn.op === 'list' ? (rn.args as Node[]) : undefined;
  if (literals && literals.every((e) => e.op === 'value' && typeof e.args === 'string')) {
    const set = new StringSet(literals.map((e) => e.args as string));
    return (v) => {
      const a = l(v);
      return typeof a === 'string' ? set.has(a) : BAIL;
    };
  }
  const r = build(rn, scope);
  if (!r) return undefined;
  return (v) => {
    const a = l(v);
    if (typeof a !== 'string') return BAIL;
    const list = r(v);
    if (!isPlainList(list)) return BAIL;
    // Only all-string lists: cel-js types a list by its first element and compares each
    // element in order, so a non-string element before the match is left to cel-js.
    for (let i = 0; i < list.length; i++) {
      const e = list[i];
      if (typeof e !== 'string') return BAIL;
      if (e === a) return true;
    }
    return false;
  };
}

function logical(n: Node, scope: Scope): Closure | undefined {
  const [ln, rn] = n.args as [Node, Node];
  const l = build(ln, scope);
  const r = build(rn, scope);
  if (!l || !r) return undefined;
  // CEL's `&&` is false if either side is false, even when the other errors (and `||`
  // true if either is true), so a decisive side settles the result whatever the other did.
  const decisive = n.op === '||';
  return (v) => {
    const a = l(v);
    if (a === decisive) return decisive;
    const b = r(v);
    if (b === decisive) return decisive;
    return a === !decisive && b === !decisive ? !decisive : BAIL;
  };
}

function ternary(n: Node, scope: Scope): Closure | undefined {
  const [cn, tn, fn] = n.args as [Node, Node, Node];
  const c = build(cn, scope);
  const t = build(tn, scope);
  const f = build(fn, scope);
  if (!c || !t || !f) return undefined;
  return (v) => {
    const cond = c(v);
    return cond === true ? t(v) : cond === false ? f(v) : BAIL;
  };
}

