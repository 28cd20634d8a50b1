/**
 * Guards are the cheap, exact pre-filters of a rule: conjuncts at the top of its `&&` chain
 * of the form `request.F == "v"`, `"v" == request.F`, `request.F in ["a", "b"]` or
 * `has(request.F)`.
 *
 * Why skipping a rule on a guard is exact: in CEL, `a && b` is false whenever either side is
 * false, even if the other side errors (cel-js implements this commutative absorption). So
 * when `request.F` holds a string outside the guard's set, or is absent while the rule says
 * `has(request.F)`, that conjunct is false and so is the whole rule, with no error to record.
 * When `request.F` holds a listed string, every guard on F is true and only the rest of the
 * rule (its body) decides. Anything else (absent without `has`, a number, a list) proves
 * nothing, and the whole rule is evaluated.
 */
import type { ASTNode } from '@marcbachmann/cel-js';
import { isCelValue, isPrototypeKey } from './cel-values.js';
import { StringSet } from './string-set.js';

/** What a rule's top-level conjuncts require of one request field. */
export interface Guard {
  field: string;
  /** The field must be one of these strings (`==`/`in` guards); undefined when only presence is required. */
  values?: StringSet;
  /** The rule says `has(request.F)`: an absent field rules the rule out. */
  present: boolean;
}

/** An AST node, as far as guard extraction looks at it. */
export interface Node {
  op: string;
  args: unknown;
  meta?: { macro?: unknown };
}

const asNode = (n: unknown): Node => n as Node;

/** conjuncts flattens the top-level `&&` chain of an expression, in source order. */
export function conjuncts(ast: ASTNode): Node[] {
  const out: Node[] = [];
  const walk = (n: Node): void => {
    if (n.op === '&&') {
      const [l, r] = n.args as [unknown, unknown];
      walk(asNode(l));
      walk(asNode(r));
    } else {
      out.push(n);
    }
  };
  walk(asNode(ast));
  return out;
}

/** requestField returns F when `n` is exactly `request.F` (not `.?`, not an index), else undefined. */
function requestField(n: Node): string | undefined {
  if (n.op !== '.') return undefined;
  const [base, key] = n.args as [Node, unknown];
  if (base.op !== 'id' || base.args !== 'request' || typeof key !== 'string') return undefined;
  // An inherited member (`constructor`, `toString`) would read differently from an own key.
  return isPrototypeKey(key) ? undefined : key;
}

function stringLiteral(n: Node): string | undefined {
  return n.op === 'value' && typeof n.args === 'string' ? n.args : undefined;
}

function stringList(n: Node): string[] | undefined {
  if (n.op !== 'list') return undefined;
  const out: string[] = [];
  for (const el of n.args as Node[]) {
    const s = stringLiteral(el);
    if (s === undefined) return undefined;
    out.push(s);
  }
  return out;
}

function guardOf(n: Node): Guard | undefined {
  if (n.op === '==') {
    const [l, r] = n.args as [Node, Node];
    const lf = requestField(l);
    const rs = stringLiteral(r);
    if (lf !== undefined && rs !== undefined) return { field: lf, values: new StringSet([rs]), present: false };
    const rf = requestField(r);
    const ls = stringLiteral(l);
    if (rf !== undefined && ls !== undefined) return { field: rf, values: new StringSet([ls]), present: false };
  }
  if (n.op === 'in') {
    const [l, r] = n.args as [Node, Node];
    const lf = requestField(l);
    const list = stringList(r);
    if (lf !== undefined && list !== undefined) return { field: lf, values: new StringSet(list), present: false };
  }
  if (n.op === 'call' && n.meta?.macro) {
    const [name, args] = n.args as [unknown, Node[]];
    const f = name === 'has' && args.length === 1 ? requestField(args[0] as Node) : undefined;
    if (f !== undefined) return { field: f, present: true };
  }
  return undefined;
}

/**
 * splitGuards separates a rule's top-level conjuncts into guards (one per field: value sets
 * intersected, presence if any conjunct asks for it) and the remaining conjuncts, the body.
 * When every guard holds, the rule's value is exactly the conjunction of its body.
 */
export function splitGuards(ast: ASTNode): { guards: Guard[]; body: Node[] } {
  const byField = new Map<string, Guard>();
  const body: Node[] = [];
  for (const c of conjuncts(ast)) {
    const g = guardOf(c);
    if (!g) {
      body.push(c);
      continue;
    }
    const prev = byField.get(g.field);
    if (!prev) {
      byField.set(g.field, g);
      continue;
    }
    const values = !prev.values ? g.values : !g.values ? prev.values : new StringSet([...prev.values].filter((v) => g.values?.has(v)));
    byField.set(g.field, { field: g.field, ...(values ? { values } : {}), present: prev.present || g.present });
  }
  return { guards: [...byField.values()], body };
}

/** extractGuards returns the guards of a rule (see splitGuards). */
export function extractGuards(ast: ASTNode): Guard[] {
  return splitGuards(ast).guards;
}

/** What a guard says about one request. */
export const EXCLUDED = 0;
export const PROVEN = 1;
export const UNKNOWN = 2;
export type GuardVerdict = typeof EXCLUDED | typeof PROVEN | typeof UNKNOWN;

/**
 * judgeGuard decides a guard for the value of its field (`undefined` when absent): the rule
 * cannot match, the guard's conjuncts are all true, or it cannot tell.
 */
export function judgeGuard(g: Guard, v: unknown): GuardVerdict {
  if (v === undefined) return g.present ? EXCLUDED : UNKNOWN;
  if (typeof v === 'string') return g.values && !g.values.has(v) ? EXCLUDED : PROVEN;
  // Present but not a string: `has()` holds for any CEL value, `==`/`in` prove nothing.
  return !g.values && isCelValue(v) ? PROVEN : UNKNOWN;
}
